"""Folding the batch norms into the convolutions changes a frozen trunk's speed, not its answers."""

from __future__ import annotations

import warnings

import pytest
import torch
from torch import nn

from avsep.models.effnet_lite import Tail
from avsep.models.fold import fold_batchnorm
from avsep.models.visual import build_trunk


def _frames(n: int = 2, size: int = 97) -> torch.Tensor:
    """Seeded uint8 pictures; 97 px pads the stride-2 convolutions unevenly (TF "same")."""
    g = torch.Generator().manual_seed(0)
    return torch.randint(0, 256, (n, size, size, 3), dtype=torch.uint8, generator=g)


def _trunk(name: str):
    torch.manual_seed(0)  # resnet18's random init
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # resnet18 without its ImageNet file: random weights
        trunk = build_trunk(name)
    # Norm statistics far from (0, 1), so that a norm left out or folded into the wrong layer shows.
    g = torch.Generator().manual_seed(1)
    for m in trunk.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.copy_(torch.rand(m.num_features, generator=g) - 0.5)
            m.running_var.copy_(torch.rand(m.num_features, generator=g) + 0.5)
            m.weight.data.copy_(torch.rand(m.num_features, generator=g) + 0.5)
            m.bias.data.copy_(torch.rand(m.num_features, generator=g) - 0.5)
    return trunk


@pytest.mark.parametrize("name", ["efficientnet_lite0", "resnet18"])
def test_a_folded_trunk_gives_the_same_maps_and_logits_without_a_norm(name: str) -> None:
    trunk = _trunk(name)
    frames = _frames()
    with torch.inference_mode():
        fmap, logits = trunk.features(frames), trunk.classify(frames)
    trunk.fold()
    assert not [m for m in trunk.folded.modules() if isinstance(m, nn.BatchNorm2d)]
    with torch.inference_mode():  # float rounding: 1e-5 of the outputs' scale
        torch.testing.assert_close(trunk.features(frames), fmap, rtol=0, atol=1e-5 * fmap.abs().max().item())
        torch.testing.assert_close(trunk.classify(frames), logits, rtol=0, atol=1e-5 * logits.abs().max().item())


def test_passes_under_an_autocast_keep_the_network_as_trained() -> None:
    """The finder's bfloat16 maps were tuned on the unfolded network; folded weights round
    otherwise in bfloat16 (an extra guitar on a real duet frame), so an autocast pass keeps it
    bit for bit, while the fp32 passes run the folded copy. Training's network stays unfolded."""
    trunk = _trunk("efficientnet_lite0")
    frames = _frames()
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16):
        before = trunk.dense_logits(frames)
    trunk.fold()
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16):
        assert torch.equal(trunk.dense_logits(frames), before)
    assert [m for m in trunk.net.modules() if isinstance(m, nn.BatchNorm2d)]
    ran = []
    trunk.folded.conv_stem.register_forward_hook(lambda *_: ran.append(True))
    with torch.inference_mode():
        trunk.features(frames)
    assert ran


def test_the_relu6_stays_where_a_norm_activated() -> None:
    """EfficientNet's norms end in ReLU6 (all but the last of each block): folded, it stays."""
    tail = fold_batchnorm(Tail().eval())
    block = tail.blocks[0]
    assert isinstance(block.bn1, nn.ReLU6) and isinstance(block.bn2, nn.ReLU6)
    assert isinstance(block.bn3, nn.Identity) and isinstance(tail.bn2, nn.ReLU6)
    assert block.conv_pwl.bias is not None and not block.conv_pwl.weight.requires_grad


def test_a_network_that_still_learns_is_refused() -> None:
    with pytest.raises(ValueError, match="eval mode"):
        fold_batchnorm(Tail().train())
