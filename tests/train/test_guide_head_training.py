"""Training the guide head: the photo tree's classes and split, and a tiny run that must learn."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
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
    with torch.no_grad():  # as cache_features: a head trains on these
        pooled, music, lse, mid = trunk.training_parts(torch.from_numpy(np.stack(images)))
    return {
        "keys": [str(i) for i in range(48)],
        "pooled": pooled,
        "music": music,
        "lse": lse,
        "mid": mid.half(),
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


def test_a_head_with_its_own_last_stage_learns_and_reads_frames_through_it(tmp_path: Path):
    """``train-guide --tail``: the head fine-tunes its copy of the trunk's last stage on the
    cached maps; saved and loaded, it names the pictures the same, and the trunk hands it its
    own stage's features when it reads frames (pooled_parts with the head)."""
    from avsep.models.visual import build_trunk
    from avsep.train.guide_head import Split
    from avsep.train.guide_tail import guide_accuracy, train_tail

    cache = _colour_cache()
    head, history = train_tail(cache, seed=0, hidden=16, epochs=40, progress=False)
    assert head.tail is not None and history["val_balanced_accuracy"] == 1.0
    assert held_out_report(head, cache)["head"]["accuracy"] == {"accordion": 1.0, OTHER: 1.0}
    trunk = build_trunk("efficientnet_lite0")
    start = Split.of(cache, "train").pooled[:4]
    assert not torch.allclose(head.pool(cache["mid"][:4].float()), start.float(), atol=1e-2)  # it moved
    path = save_head(head, tmp_path, "avsep-guide-head", {"note": "test"})
    loaded = load_guide_head(path)
    assert loaded.config.tail and guide_accuracy(loaded, Split.of(cache, "test")) == 1.0
    rng = np.random.default_rng(1)
    frames = torch.from_numpy(rng.integers(0, 256, (3, 64, 64, 3), dtype=np.uint8))
    with torch.inference_mode():
        own = trunk.pooled_parts(frames, loaded)
        plain = trunk.pooled_parts(frames)
        mid = trunk.training_parts(frames)[3]
    torch.testing.assert_close(own[0], loaded.pool(mid))
    torch.testing.assert_close(own[1:], plain[1:])  # the ImageNet evidence is the frozen trunk's


def test_extra_renderings_are_of_the_training_split_only(tmp_path: Path):
    from avsep.train.guide_head import cache_jobs

    pictures = list_pictures(_photo_tree(tmp_path), erhu_drawings=3)
    split = split_pictures(pictures)
    jobs = cache_jobs(pictures, split, renderings=3)
    once = cache_jobs(pictures, split, renderings=1)
    assert jobs[: len(once)] == once and {r for _, _, r in once} == {0}
    extra = jobs[len(once) :]
    assert {split[p.key] for p, _, _ in extra} == {"train"}
    assert len(extra) == 2 * sum(1 for p, _, _ in once if split[p.key] == "train")


def test_a_cache_without_maps_is_refused_in_one_line_for_a_head_with_its_own_stage():
    from avsep.errors import InputError
    from avsep.models.guide_head import GuideHead, HeadConfig
    from avsep.train.guide_head import Split

    cache = {k: v for k, v in _colour_cache().items() if k != "mid"}
    with pytest.raises(InputError, match="holds no maps"):
        Split.of(cache, "test").inputs(GuideHead(HeadConfig(tail=True)))


def test_a_cache_grows_to_more_renderings_keeping_what_it_has(tmp_path: Path, monkeypatch):
    """A cache made with fewer renderings is the start of one made with more: growing it renders
    only the new renderings' entries, and its first entries stay as they were; asking for fewer
    reads its first entries and leaves the file alone; another seed starts afresh."""
    import avsep.train.guide_head as guide_head

    tree = _photo_tree(tmp_path / "photos")
    rendered: list[tuple[str, int, int]] = []

    def render(picture, variant, tools, seed):
        rendered.append((picture.key, variant, seed))
        level = (hash((picture.key, variant, seed)) % 200) + 20
        return np.full((64, 64, 3), level, np.uint8)

    monkeypatch.setattr(guide_head, "check_toolchain", lambda: None)
    monkeypatch.setattr(guide_head, "render_variant", render)
    monkeypatch.setattr(guide_head, "list_pictures", lambda photos: list_pictures(photos, erhu_drawings=0))
    out = tmp_path / "cache.pt"
    one = guide_head.cache_features(tree, out, seed=3, progress=False, renderings=1)
    first = len(rendered)
    assert first == len(one["keys"]) and {s for _, _, s in rendered} == {3}
    two = guide_head.cache_features(tree, out, seed=3, progress=False, renderings=2)
    new = rendered[first:]
    assert new and {s for _, _, s in new} == {4}  # only the second rendering was run
    assert len(two["keys"]) == first + len(new) and two["keys"][:first] == one["keys"]
    assert torch.equal(two["mid"][:first], one["mid"]) and len(two["pooled"]) == len(two["keys"])
    assert all("@1" in k for k in two["keys"][first:])
    stamp = out.stat().st_mtime_ns
    again = guide_head.cache_features(tree, out, seed=3, progress=False, renderings=1)
    assert len(rendered) == first + len(new) and out.stat().st_mtime_ns == stamp  # nothing run or written
    assert again["keys"] == one["keys"] and torch.equal(again["mid"], one["mid"])
    fresh = guide_head.cache_features(tree, out, seed=4, progress=False, renderings=1)
    assert [s for _, _, s in rendered[first + len(new) :]] == [4] * first  # every entry rendered again
    assert not torch.equal(fresh["mid"], one["mid"])
