"""``avsep evaluate``: the model on synthetic test mixtures drawn from an index.

It separates through :class:`avsep.separation.separator.Separator`, the product's own pipeline
(``guide`` + ``separate_windows``), so the numbers describe what users get. Scores are BSS Eval
v3 (mir_eval, no permutation: the output of box ``k`` is scored against source ``k``).

:func:`evaluate` — ``num_mixtures`` test mixtures drawn from the index with ``seed`` alone
(:class:`avsep.train.data.MixDataset` with no random gain), so every model is scored on the
same mixtures. For each: the model, the oracle ideal binary mask (the ceiling of binary
masking) and the mixture itself (the floor). A mixture with a silent reference is skipped for
all three (BSS Eval is undefined there; Sound of Pixels does the same); so is one where the
model outputs digital silence for a box, counted separately so that it stays visible.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from avsep.models.guide import label_guide
from avsep.options import DEFAULT_MASK
from avsep.signal import dsp
from avsep.train.data import MixDataset
from avsep.train.eval.common import (
    SYSTEM_NAMES,
    SYSTEMS,
    at_least_one,
    check_oracle,
    fmt_db,
    load_separator,
    model_info,
    progress_bar,
    stdout_console,
    summary_stats,
    write_json,
)
from avsep.train.index import read_index, resolve_split
from avsep.train.metrics import SILENCE_THRESHOLD, bss_eval, is_silent, mixture_floor, oracle_ibm, summarize

# -- synthetic test mixtures ---------------------------------------------------------------


def evaluate(
    model: str | Path,
    index: str | Path,
    *,
    num_mixtures: int = 250,
    num_mix: int = 2,
    seed: int = 0,
    mask: str = DEFAULT_MASK.value,
    device: str = "auto",
    batch_size: int = 4,
    backbone_weights: str | Path | None = None,
    fps: float | None = None,
    oracle_grid: str = "linear",
    silence_threshold: float = SILENCE_THRESHOLD,
    oracle: bool = False,
    json_path: str | Path | None = None,
    progress: bool = True,
    console=None,
) -> dict[str, Any]:
    """Score ``model`` on fixed test mixtures of ``index``; returns (and optionally writes) a report.

    ``oracle``: give a label-guided model each source's true class instead of what its
    pictures say (the oracle yardstick of docs/results.md)."""

    at_least_one(num_mixtures=num_mixtures, batch_size=batch_size)
    index_path = resolve_split(index, "test")
    idx = read_index(index_path, fps=fps)
    data = MixDataset(idx, num_mix, seed=seed, gain_db=0.0, length=num_mixtures)
    sep = load_separator(model, device, mask, batch_size, backbone_weights)
    check_oracle(sep, oracle)

    per_mix: list[dict[str, Any]] = []
    rows: dict[str, list[dict[str, float]]] = {s: [] for s in SYSTEMS}
    skipped = {"silent_references": 0, "mixtures_with_silent_reference": 0, "mixtures_with_silent_model_output": 0}
    bar = progress_bar(progress, console)
    with bar:
        task = bar.add_task("evaluate", total=num_mixtures)
        for start in range(0, num_mixtures, batch_size):
            keys = list(range(start, min(start + batch_size, num_mixtures)))
            plans = [data.plan(k) for k in keys]
            for k, plan, refs, mix, est in zip(keys, plans, *_separate_batch(sep, data, idx, plans, oracle)):
                bar.advance(task)
                record: dict[str, Any] = {"index": k, **plan.to_dict(idx)}
                n_silent = sum(is_silent(r, silence_threshold) for r in refs)
                skipped["silent_references"] += n_silent
                skipped["mixtures_with_silent_reference"] += bool(n_silent)
                if n_silent:
                    record["skipped"] = "silent reference"
                elif any(not np.any(e) for e in est):
                    skipped["mixtures_with_silent_model_output"] += 1
                    record["skipped"] = "model output is silent"
                else:
                    _score_systems(record, rows, refs, mix, est, oracle_grid)
                per_mix.append(record)

    results = {s: summary_stats(rows[s]) for s in SYSTEMS}
    sdri = [m["sdr"] - f["sdr"] for m, f in zip(rows["model"], rows["mixture"])]
    report = {
        "model": str(model),
        **model_info(sep),
        "index": str(index_path),
        "num_mixtures": num_mixtures,
        "num_mix": num_mix,
        "seed": seed,
        "mask": mask,
        "oracle_labels": oracle,
        "oracle_grid": oracle_grid,
        "metric": "BSS Eval v3 (mir_eval.separation.bss_eval_sources, compute_permutation=False)",
        "scored_mixtures": len(rows["model"]) // max(num_mix, 1),
        "skipped": {**skipped, "silence_threshold": silence_threshold},
        "results": results,
        "sdri": summarize(sdri),
        "mixtures": per_mix,
    }
    _print_eval(report, console)
    if json_path:
        write_json(json_path, report)
    return report


def _separate_batch(sep, data: MixDataset, idx, plans: list, oracle: bool) -> tuple[np.ndarray, ...]:
    """One batch of test mixtures: the references ``[B, N, T]``, the mixtures ``[B, T]`` and the
    model's estimates ``[B, N, T]`` (guided by the pictures, or by the true classes)."""
    import torch

    items = [data.load(p, frames=True) for p in plans]
    sources = np.stack([it["audio"].numpy() for it in items])  # [B, N, T]
    crops = np.stack([it["frames"].numpy() for it in items])  # [B, N, F, 224, 224, 3]
    mixes = sources.sum(axis=1)
    if oracle:  # each source's true class
        visual = torch.stack([label_guide([idx.clips[c].label for c in p.clips], sep.guide_kind) for p in plans])
    else:
        visual = sep.guide(crops)
    return sources, mixes, sep.separate_windows(mixes, visual)


def _score_systems(
    record: dict[str, Any],
    rows: dict[str, list[dict[str, float]]],
    refs: np.ndarray,
    mix: np.ndarray,
    est: np.ndarray,
    oracle_grid: str,
) -> None:
    """BSS Eval of one mixture for the model, the oracle IBM and the mixture itself, into the
    mixture's ``record`` and the per-source ``rows`` of each system."""
    import torch

    ibm = oracle_ibm(dsp.stft(torch.from_numpy(mix)), dsp.stft(torch.from_numpy(refs)), grid=oracle_grid)
    for system, est_sys in (("model", est), ("oracle_ibm", ibm), ("mixture", mixture_floor(mix, len(refs)))):
        scores = bss_eval(refs, est_sys)
        record[system] = {m: [round(float(v), 4) for v in scores[m]] for m in scores}
        for j in range(len(refs)):
            rows[system].append({m: float(scores[m][j]) for m in scores})


def _print_eval(report: dict[str, Any], console) -> None:
    from rich.table import Table

    console = console or stdout_console()
    table = Table(
        title=f"{report['model']} on {report['scored_mixtures']} mixtures of {report['num_mix']} ({report['index']})"
    )
    table.add_column("system")
    for m in ("SDR", "SIR", "SAR"):
        table.add_column(f"{m} mean (median)", justify="right")
    for system in SYSTEMS:
        r = report["results"][system]
        table.add_row(
            SYSTEM_NAMES[system], *(f"{fmt_db(r[m]['mean'])} ({fmt_db(r[m]['median'])})" for m in ("sdr", "sir", "sar"))
        )
    console.print(table)
    sk = report["skipped"]
    console.print(
        f"SDRi (model - mixture): mean {fmt_db(report['sdri']['mean'])} dB, "
        f"median {fmt_db(report['sdri']['median'])} dB; "
        f"skipped {sk['mixtures_with_silent_reference']} mixture(s) "
        f"with {sk['silent_references']} silent reference(s), "
        f"{sk['mixtures_with_silent_model_output']} with a silent model output; "
        "oracle IBM = ceiling of binary masking, mixture = floor (no separation)"
    )


# -- real clips ----------------------------------------------------------------------------


# -- shared --------------------------------------------------------------------------------
