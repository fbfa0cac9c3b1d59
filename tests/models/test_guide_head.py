"""The guide head: the bundled file loads offline and verified, its guide is an 11-class
distribution the label-trained network takes, deterministic, and a damaged file is refused."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from avsep.errors import ModelError
from avsep.models.guide import LABELS
from avsep.models.guide_head import HEAD_CLASSES, GuideHead, HeadConfig
from avsep.models.imagenet_music import MUSIC_INDICES
from avsep.models.serialize import load_guide_head
from avsep.models.weights import guide_head_file, guide_head_sha256


def _inputs(n: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    pooled = torch.rand(n, 1280, generator=g) * 2
    logits = torch.randn(n, 1000, generator=g) * 3
    return pooled, logits[:, list(MUSIC_INDICES)], torch.logsumexp(logits, -1)


def test_bundled_head_loads_offline_and_is_verified():
    path = guide_head_file()
    assert path is not None and path.suffix == ".pth"
    assert guide_head_sha256(path) is not None  # its card names it
    head = load_guide_head(path)
    assert tuple(head.config.classes) == HEAD_CLASSES and not head.training


def test_guide_is_an_11_class_distribution_and_deterministic():
    head = load_guide_head(guide_head_file())
    x = _inputs(5)
    v, sure = head.classes(*x)
    assert v.shape == (5, len(LABELS)) and sure.shape == (5,)
    assert torch.all(v >= 0) and torch.allclose(v.sum(-1), torch.ones(5), atol=1e-5)
    assert torch.all((sure >= 0) & (sure <= 1))
    assert torch.equal(v, head.classes(*x)[0])
    boxes = head.views(x, _inputs(5, seed=1), b=1)  # 5 frames of one box, two views
    assert boxes.shape == (1, len(LABELS)) and torch.allclose(boxes.sum(-1), torch.ones(1))


def test_imagenet_cello_evidence_is_kept():
    """Where ImageNet sees a cello and nothing else of ours, the guide names cello."""
    head = GuideHead(HeadConfig(hidden=0)).eval()
    pooled, _, _ = _inputs(1)
    logits = torch.zeros(1, 1000)
    logits[0, 486] = 20.0  # ImageNet's cello
    v, sure = head.classes(pooled, logits[:, list(MUSIC_INDICES)], torch.logsumexp(logits, -1))
    assert LABELS[int(v.argmax())] == "cello" and float(v[0, LABELS.index("cello")]) > 0.99
    assert float(sure) > 0.99


def test_damaged_head_is_refused(tmp_path: Path):
    src = guide_head_file()
    data = bytearray(src.read_bytes())
    data[len(data) // 2] ^= 0xFF
    bad = tmp_path / src.name
    bad.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="sha256"):
        load_guide_head(bad)
    foreign = tmp_path / "x.pth"
    foreign.write_bytes(b"not a head")
    with pytest.raises(ModelError):
        load_guide_head(foreign)


def test_trunk_classes_guide_uses_the_head():
    from avsep.models.visual import build_trunk

    trunk = build_trunk("efficientnet_lite0")
    frames = torch.randint(0, 256, (2, 3, 64, 64, 3), dtype=torch.uint8)
    old = trunk.guide(frames, "classes")
    trunk.class_head = load_guide_head(guide_head_file())
    new = trunk.guide(frames, "classes")
    assert new.shape == old.shape == (2, len(LABELS))
    assert torch.allclose(new.sum(-1), torch.ones(2), atol=1e-5)
    assert not torch.allclose(new, old)


def test_separation_reads_the_frames_with_the_head_unless_told_not_to():
    from avsep.separation.separator import Separator

    default = Separator(device="cpu")  # the bundled label-trained model
    assert default.trunk.class_head is not None and default.picture_kind == "classes-other"
    imagenet = Separator(device="cpu", guide_head=False)
    assert imagenet.trunk.class_head is None and imagenet.picture_kind == "classes"
