"""What both evaluations share: the separator they score, the model's description in a report,
the scores summarised, the report printed and written as JSON."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from avsep.errors import AvsepError, InputError
from avsep.models.guide import is_label
from avsep.options import DEFAULT_SAME_INSTRUMENT
from avsep.progress import make_progress
from avsep.separation.separator import Separator
from avsep.train.metrics import summarize

SYSTEMS = ("model", "oracle_ibm", "mixture")
SYSTEM_NAMES = {"model": "model", "oracle_ibm": "oracle IBM", "mixture": "mixture"}


#: ``../shared`` beside the repository (``/work/shared`` here): the real material, never copied in.
SHARED = Path(__file__).resolve().parents[3].parent / "shared"


def default_realclips() -> Path:
    """Where ``avsep evaluate-real`` looks for the real clips: ``$AVSEP_REALCLIPS`` if set, else
    ``../shared/realclips`` beside the repository (``/work/shared/realclips`` here)."""
    env = os.environ.get("AVSEP_REALCLIPS")
    if env:
        return Path(env)
    return SHARED / "realclips"


def load_separator(
    model: str | Path,
    device: str,
    mask: str,
    batch_size: int,
    backbone_weights: str | Path | None,
    same_instrument: str = DEFAULT_SAME_INSTRUMENT.value,
):
    return Separator(
        model,
        device=device,
        mask=mask,
        batch_size=batch_size,
        backbone_weights=backbone_weights,
        same_instrument=same_instrument,
    )


def check_oracle(sep, oracle: bool) -> None:
    if oracle and not is_label(sep.guide_kind):
        raise InputError(
            f"--oracle-labels needs a model trained with --guide label; this one has a {sep.guide_kind} guide"
        )


def model_info(sep) -> dict[str, Any]:
    ck = sep.checkpoint
    return {
        "arch": ck.arch,
        "backbone": ck.backbone,
        "guide": ck.guide,
        "guide_gain": ck.guide_gain,
        "sha256": ck.sha256,
        "weights_sha256": ck.weights_sha256,
        "trunk_pretrained": bool(sep.trunk.pretrained),
    }


def summary_stats(rows: list[dict[str, float]]) -> dict[str, dict[str, float]]:
    return {m: summarize([r[m] for r in rows]) for m in ("sdr", "sir", "sar")}


def at_least_one(**counts: int) -> None:
    """Each of ``counts`` (named as its option) must be at least 1."""
    for name, value in counts.items():
        if value < 1:
            raise InputError(f"--{name.replace('_', '-')} must be at least 1, got {value}")


def fmt_db(x: float) -> str:
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.2f}"


def stdout_console():
    from rich.console import Console

    return Console()


def write_json(path: str | Path, report: dict[str, Any] | list[dict[str, Any]]) -> None:
    """``report`` as strict JSON (NaN -> null); an unwritable path is a one-line error."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(_finite(report), indent=2, default=_json_default, allow_nan=False) + "\n")
    except OSError as exc:
        raise AvsepError(f"{path}: cannot write the JSON report ({exc.strerror}); choose another --json path") from None


def _finite(o: Any) -> Any:
    """NaN / infinity -> null, so the report is strict JSON."""
    if isinstance(o, dict):
        return {k: _finite(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_finite(v) for v in o]
    if isinstance(o, (float, np.floating)) and not math.isfinite(float(o)):
        return None
    return o


def _json_default(o: Any) -> Any:
    if isinstance(o, (np.floating, np.integer)):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(type(o).__name__)


def progress_bar(enabled: bool, console=None):
    return make_progress(enabled, console, transient=True)
