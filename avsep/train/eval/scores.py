"""One real clip scored and a set of them summarised: BSS Eval of each output against its own
reference, the mixture's scores beside them (SDRi), the "right box" rate, and the losses per
instrument; the box pictures read as the model sees them."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from avsep.train.metrics import bss_eval, mixture_floor, right_box, summarize


def read_picture(path: Path) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as im:
        return np.array(im.convert("RGB"))  # a writable copy: torch warns on read-only arrays


def score_clip(
    refs: np.ndarray,
    est: np.ndarray,
    mix: np.ndarray,
    label: str,
    skipped: list[str],
    rows: Sequence[int] | None = None,
) -> dict[str, Any] | None:
    """BSS Eval of ``est`` and of the mixture floor, SDRi and right-box per output row.

    An all-zero output (a mask that rejected every bin) has no BSS Eval score; the item is
    then listed in ``skipped`` under ``label`` and ``None`` returned, as the synthetic
    evaluation counts its silent outputs, rather than ending the whole run.
    """
    n = min(refs.shape[1], est.shape[1], mix.shape[0])
    refs, est, mix = refs[:, :n], est[:, :n], mix[:n]
    silent = [k for k in range(est.shape[0]) if not np.any(est[k])]
    if silent:
        skipped.append(f"{label}: model output {', '.join(str(k + 1) for k in silent)} is silent (not scored)")
        return None
    model = bss_eval(refs, est)
    floor = bss_eval(refs, mixture_floor(mix, refs.shape[0]))
    right = right_box(refs, est)
    right_floor = right_box(refs, mixture_floor(mix, refs.shape[0]))
    keep = list(range(refs.shape[0])) if rows is None else list(rows)
    return {
        "sdr": [float(model["sdr"][k]) for k in keep],
        "sir": [float(model["sir"][k]) for k in keep],
        "sar": [float(model["sar"][k]) for k in keep],
        "mixture_sdr": [float(floor["sdr"][k]) for k in keep],
        "sdri": [float(model["sdr"][k] - floor["sdr"][k]) for k in keep],
        "right_box": [bool(right[k]) for k in keep],
        "mixture_right_box": [bool(right_floor[k]) for k in keep],
    }


def aggregate_items(items: list[dict[str, Any]]) -> dict[str, Any]:
    def flat(key: str) -> list:
        return [v for it in items if "sdr" in it for v in it[key]]

    right = flat("right_box")
    return {
        "items": len([it for it in items if "sdr" in it]),
        "outputs": len(flat("sdr")),
        "sdr": summarize(flat("sdr")),
        "sir": summarize(flat("sir")),
        "sar": summarize(flat("sar")),
        "mixture_sdr": summarize(flat("mixture_sdr")),
        "sdri": summarize(flat("sdri")),
        "right_box_rate": float(np.mean(right)) if right else float("nan"),
        # the same rate for "every output = the mixture": the chance level to beat
        "mixture_right_box_rate": float(np.mean(flat("mixture_right_box"))) if right else float("nan"),
        "details": items,
    }


def per_instrument(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """SDRi and right-box rate per instrument over the duets' outputs: where the losses are."""
    rows: dict[str, list[tuple[float, bool]]] = {}
    for it in items:
        for name, sdri, right in zip(it["pair"], it["sdri"], it["right_box"]):
            rows.setdefault(name.split("/")[0], []).append((sdri, right))
    return {
        inst: {"sdri": summarize([r[0] for r in got]), "right_box_rate": float(np.mean([r[1] for r in got]))}
        for inst, got in sorted(rows.items())
    }
