"""Real ensembles as a validation and test set: mixtures of parts that really played together.

``../shared/datasets/real-stems`` holds real performances (URMP, Bach10) with each part's own
track: the sum of some parts is a real mixture (the players listened to each other, shared a
room and a tempo), which studio notes summed at random are not. The project found that its
real-audio validation set (studio notes and phrases mixed at random) stopped ranking
checkpoints the way real performances do; this set is what checkpoints are chosen on.
It is never trained on (its terms are research and test use).

Split **by piece** (:data:`SPLITS`, fixed before any checkpoint was scored on it): no piece in
both, so a validation figure never sees the test's music. Each piece gives every 2- and 3-part
subset of its parts, cut into :data:`SEGMENT_SECONDS` segments; a segment in which a part does
not play is skipped. A bassoon, viola, oboe or double bass part is :data:`OTHER` (none of the
11): the sets ``2-part`` and ``3-part`` hold the parts of the 11 only, ``2-part+other`` and
``3-part+other`` one outside part beside them.

Each box is named with its part's class as a user would (``--names``: a part of the 11 is
guided by its class, the outside part takes what the others leave), so the set scores the mask
network, not the picture's naming.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from avsep.errors import InputError
from avsep.io.audio import load_audio
from avsep.models.guide import OTHER, is_label, label_guide
from avsep.options import DEFAULT_MASK
from avsep.signal.dsp import SAMPLE_RATE, WINDOW_SAMPLES
from avsep.train.eval.common import SHARED, load_separator, model_info, progress_bar, stdout_console, write_json
from avsep.train.eval.scores import aggregate_items, per_instrument, score_clip

#: The file-name code of each part -> avsep's class (URMP codes, Bach10 names); viola, double
#: bass, oboe and bassoon are none of the 11: :data:`OTHER`.
PART_CLASSES: dict[str, str] = {
    "vn": "violin", "vc": "cello", "tpt": "trumpet", "fl": "flute", "cl": "clarinet",
    "va": OTHER, "db": OTHER, "ob": OTHER,
    "violin": "violin", "clarinet": "clarinet", "saxophone": "saxophone", "bassoon": OTHER,
}  # fmt: skip

#: Pieces per split, chosen by piece before any scoring: Bach10's odd pieces and two URMP pieces
#: validate (violin, cello, flute, clarinet, saxophone), the rest test (with the trumpet trio).
SPLITS: dict[str, tuple[str, ...]] = {
    "val": (
        "bach10/P4_Mix01", "bach10/P4_Mix03", "bach10/P4_Mix05", "bach10/P4_Mix07", "bach10/P4_Mix09",
        "bach10/P4_Mix11", "urmp/setA_10s_piece12", "urmp/setB_30s_29_Fugue",
    ),
    "test": (
        "bach10/P4_Mix02", "bach10/P4_Mix04", "bach10/P4_Mix06", "bach10/P4_Mix08", "bach10/P4_Mix10",
        "bach10/P4_Mix12", "urmp/setA_10s_piece20", "urmp/setB_30s_01_Jupiter",
    ),
}  # fmt: skip

SEGMENT_SECONDS = 6.0
#: A part whose RMS in a segment is this far below its loudest segment's does not play there.
RESTING_DB = 30.0

_PART = re.compile(r"^(?P<piece>.+?)_(?:(?:S\d|\d)_)?(?P<part>[a-z]+)$")


@dataclass(frozen=True)
class Part:
    """One part's track of a piece: its class and file."""

    label: str
    path: Path


def pieces(root: Path, split: str) -> dict[str, list[Part]]:
    """The pieces of ``split`` found under ``root``, each with its parts of known class."""
    if split not in SPLITS:
        raise InputError(f"unknown split {split!r}; choose from {', '.join(SPLITS)}")
    if not root.is_dir():
        raise InputError(f"{root}: real-stems folder not found; pass --stems PATH")
    found: dict[str, list[Part]] = {}
    for path in sorted(root.glob("*/*.flac")):
        m = _PART.match(path.stem)
        if m is None or m["part"] not in PART_CLASSES:
            continue
        piece = f"{path.parent.name}/{m['piece']}"
        if piece in SPLITS[split]:
            found.setdefault(piece, []).append(Part(PART_CLASSES[m["part"]], path))
    missing = sorted(set(SPLITS[split]) - set(found))
    if missing:
        raise InputError(f"{root}: the {split} pieces {', '.join(missing)} are missing")
    return found


def mixtures(
    parts: Sequence[Part], sizes: Sequence[int], seconds: float = SEGMENT_SECONDS
) -> list[tuple[tuple[Part, ...], int, np.ndarray]]:
    """``(parts, start, refs [k, n])`` for every subset of ``sizes`` parts of different classes
    and every segment in which all of them play, at the model's rate."""
    audio = {p: np.asarray(load_audio(p.path, sample_rate=SAMPLE_RATE)[0], np.float32) for p in parts}
    seg = int(round(seconds * SAMPLE_RATE))
    loudest = {
        p: max(_rms(a[s : s + seg]) for s in range(0, max(a.shape[0] - seg, 0) + 1, seg)) for p, a in audio.items()
    }
    out = []
    for k in sizes:
        for subset in itertools.combinations(parts, k):
            if len({p.label for p in subset}) < k:
                continue
            n = min(audio[p].shape[0] for p in subset)
            for start in range(0, max(n - seg, 0) + 1, seg):
                refs = np.stack([audio[p][start : start + seg] for p in subset])
                if refs.shape[1] >= seg // 2 and all(_plays(r, loudest[p]) for p, r in zip(subset, refs)):
                    out.append((subset, start, refs))
    return out


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x.astype(np.float64) ** 2)))


def _plays(segment: np.ndarray, loudest: float) -> bool:
    """Whether ``segment`` of a part is within :data:`RESTING_DB` of that part's loudest segment."""
    rms = _rms(segment)
    return rms > 0 and 20 * np.log10(rms / max(loudest, 1e-12)) > -RESTING_DB


def set_name(labels: Sequence[str]) -> str:
    """The report's set of a mixture: ``2-part`` (parts of the 11 only), ``2-part+other`` (one
    part outside them, named :data:`OTHER`)."""
    return f"{len(labels)}-part" + ("+other" if OTHER in labels else "")


def score_split(sep, root: Path, split: str, sizes: Sequence[int], score, bar=None) -> dict[str, Any]:
    """Separate every mixture of ``split`` with ``sep``, each part named with its class as a user
    would (:mod:`avsep.separation.named`: the part outside the 11 takes what the others leave),
    and score it with ``score(refs, est, mix, label, skipped)``; per set (:func:`set_name`):
    the scored items.
    Mixtures of two parts outside the 11 are left out (both would be ``other``)."""
    skipped: list[str] = []
    by_set: dict[str, list[dict[str, Any]]] = {f"{k}-part": [] for k in sizes}
    found = pieces(root, split)
    task = bar.add_task(f"real-stems {split}", total=len(found)) if bar is not None else None
    for piece, parts in found.items():
        for subset, start, refs in mixtures(parts, sizes):
            labels = [p.label for p in subset]
            mix = refs.sum(axis=0)
            est = sep.separate_arrays(mix, SAMPLE_RATE, names=labels)
            got = score(refs, est, mix, f"{piece}@{start / SAMPLE_RATE:.0f}s {'+'.join(labels)}", skipped)
            if got is not None:
                item = {"piece": piece, "start_s": start / SAMPLE_RATE, "pair": labels, **got}
                by_set.setdefault(set_name(labels), []).append(item)
        if task is not None:
            bar.advance(task)
    order = sorted(by_set, key=lambda n: (int(n.split("-")[0]), n))
    return {"split": split, "pieces": sorted(found), "sets": {n: by_set[n] for n in order}, "skipped": skipped}


def default_stems() -> Path:
    """``../shared/datasets/real-stems`` beside the repository."""
    return SHARED / "datasets" / "real-stems"


def evaluate_stems(
    model: str | Path,
    split: str = "val",
    *,
    stems: str | Path | None = None,
    sizes: Sequence[int] = (2, 3),
    mask: str | None = None,
    device: str = "auto",
    json_path: str | Path | None = None,
    progress: bool = True,
    console=None,
) -> dict[str, Any]:
    """Score ``model`` (label-guided) on the real-stems ``split``; returns (and optionally
    writes) the report: per mixture size, SDR / SDRi / right box and SDRi per class."""
    root = Path(stems) if stems is not None else default_stems()
    sep = load_separator(model, device, mask or DEFAULT_MASK.value, 4, None)
    if not is_label(sep.guide_kind):
        raise InputError(f"{model}: real-stems scores label-guided models; this one has a {sep.guide_kind} guide")
    with progress_bar(progress, console) as bar:
        got = score_split(sep, root, split, sizes, score_clip, bar)
    report: dict[str, Any] = {"model": str(model), **model_info(sep), "stems": str(root), "split": split}
    report["pieces"], report["skipped"] = got["pieces"], got["skipped"]
    report["sets"] = {
        name: {**aggregate_items(items), "per_class": per_instrument(items)} for name, items in got["sets"].items()
    }
    out = console or stdout_console()
    for name, r in report["sets"].items():
        cells = ", ".join(f"{lab} {v['sdri']['mean']:+.2f}" for lab, v in r["per_class"].items())
        out.print(
            f"real-stems {split} {name}: {r['items']} mixtures, SDR {r['sdr']['mean']:.2f}, "
            f"SDRi {r['sdri']['mean']:+.2f} dB, right box {100 * r['right_box_rate']:.0f}%; per class: {cells}"
        )
    if json_path:
        write_json(json_path, report)
    return report


#: ``avsep train --val real-stems``: validate on the val split of :func:`default_stems`.
VAL_NAME = "real-stems"


def val_batches(
    root: Path, split: str = "val", sizes: Sequence[int] = (2, 3), batch_size: int = 8, kind: str = "label"
) -> list[dict[str, torch.Tensor]]:
    """The split's mixtures of the 11 classes (the sets every model is compared on) as
    training-validation batches: whole model windows, one size per batch, ``audio [B, k,
    WINDOW_SAMPLES]`` and the parts' one-hots for a ``kind`` model ``visual [B, k, D]``."""
    seconds = WINDOW_SAMPLES / SAMPLE_RATE
    by_size: dict[int, list[tuple[np.ndarray, torch.Tensor]]] = {k: [] for k in sizes}
    for parts in pieces(root, split).values():
        for subset, _, refs in mixtures(parts, sizes, seconds):
            labels = [p.label for p in subset]
            if refs.shape[1] == WINDOW_SAMPLES and OTHER not in labels:
                by_size[len(subset)].append((refs, label_guide(labels, kind)))
    out = []
    for items in by_size.values():
        for s in range(0, len(items), batch_size):
            chunk = items[s : s + batch_size]
            audio = torch.from_numpy(np.stack([a for a, _ in chunk]))
            out.append({"audio": audio, "visual": torch.stack([g for _, g in chunk])})
    return out
