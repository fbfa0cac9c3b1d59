"""Training the guide head: the photo tree's classes and split, and a tiny run that must learn."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from avsep.models.guide_head import HEAD_CLASSES, OTHER
from avsep.models.serialize import load_guide_head
from avsep.train.guide_head import held_out_report, save_head, train_head
from avsep.train.guide_photos import list_pictures, split_pictures


def _photo_tree(root: Path) -> Path:
    for folder, n in (("guitar_mixed", 10), ("banjo", 10), ("tuba", 4)):
        (root / "src" / folder).mkdir(parents=True)
        for i in range(n):
            Image.new("RGB", (32, 32), (i * 20, 0, 0)).save(root / "src" / folder / f"{i:03d}.jpg")
    return root


def test_photo_classes_and_split_by_file(tmp_path: Path):
    pictures = list_pictures(_photo_tree(tmp_path), erhu_drawings=3)
    targets = {p.folder: p.target for p in pictures}
    assert targets == {"guitar_mixed": "acoustic_guitar", "banjo": OTHER, "tuba": "tuba", "erhu": "erhu"}
    split = split_pictures(pictures)
    assert set(split) == {p.key for p in pictures}  # every picture in exactly one split
    for folder in ("guitar_mixed", "banjo"):  # stratified: each class folder held out alike
        parts = [split[p.key] for p in pictures if p.folder == folder]
        assert parts.count("test") == parts.count("val") == 2
    assert split == split_pictures(list(reversed(pictures)))  # depends on the names only


def _colour_cache() -> dict:
    """Red pictures are accordions, blue ones are not ours; noise and brightness vary."""
    from avsep.models.visual import build_trunk

    trunk = build_trunk("efficientnet_lite0")
    rng = np.random.default_rng(0)
    images, targets, splits = [], [], []
    for i in range(48):
        red = i % 2 == 0
        base = np.array([200, 30, 30] if red else [30, 40, 200]) * rng.uniform(0.6, 1.1)
        images.append(np.clip(base + rng.normal(0, 25, (64, 64, 3)), 0, 255).astype(np.uint8))
        targets.append("accordion" if red else OTHER)
        splits.append(["train", "train", "val", "test"][(i // 2) % 4])
    with torch.inference_mode():
        pooled, music, lse = trunk.pooled_parts(torch.from_numpy(np.stack(images)))
    return {
        "keys": [str(i) for i in range(48)],
        "pooled": pooled,
        "music": music,
        "lse": lse,
        "targets": targets,
        "splits": splits,
        "folders": targets,
        "variants": [0] * 48,
    }


def test_tiny_training_run_separates_two_colours(tmp_path: Path):
    cache = _colour_cache()
    head, history = train_head(cache, seed=0, hidden=16, epochs=200, progress=False)
    report = held_out_report(head, cache)
    assert report["head"]["accuracy"] == {"accordion": 1.0, OTHER: 1.0}, report["head"]["confusion"]
    again, _ = train_head(cache, seed=0, hidden=16, epochs=200, progress=False)
    assert all(torch.equal(a, b) for a, b in zip(head.state_dict().values(), again.state_dict().values()))
    path = save_head(head, tmp_path, "avsep-guide-head", {"note": "test"})
    card = json.loads((tmp_path / "avsep-guide-head.json").read_text())
    assert card["file"] == path.name and card["note"] == "test"
    loaded = load_guide_head(path)
    assert tuple(loaded.config.classes) == HEAD_CLASSES
    x = (cache["pooled"][:4], cache["music"][:4], cache["lse"][:4])
    assert torch.equal(loaded.classes(*x)[0], head.classes(*x)[0])
