"""Weights and an input that are functions of their index alone, and the references of the
original trunks for them (``tests/models/reference/``, written by
``scripts/make_trunk_references.py`` with torchvision and timm installed): no random
generator, so any torch version rebuilds exactly what the originals were given."""

from __future__ import annotations

import json
from pathlib import Path

import torch

REFERENCE = Path(__file__).resolve().parent / "reference"
#: Input sizes of the EfficientNet references: one even, one odd.
SIZES = (96, 97)


def _noise(n: int, seed: int) -> torch.Tensor:
    """``n`` values in [-0.5, 0.5) that look random but are a function of index and ``seed``."""
    k = torch.arange(n, dtype=torch.float64)
    x = torch.sin(k * 12.9898 + seed * 78.233) * 43758.5453
    return x - torch.floor(x) - 0.5


def fill(net: torch.nn.Module) -> torch.nn.Module:
    """Every parameter and buffer set from its name's position, at the scale a trained network
    has (He-scaled weights, norms near 1), so that every layer's outputs vary."""
    with torch.no_grad():
        for i, (name, t) in enumerate(sorted(net.state_dict().items())):
            if not t.dtype.is_floating_point:
                continue
            v = _noise(t.numel(), i)
            if name.endswith("running_var"):
                v = 1.0 + v.abs()
            elif t.dim() > 1:  # a convolution's or a linear layer's weights
                v = v * (24.0 / (t.numel() / t.shape[0])) ** 0.5  # uniform with He's variance
            elif name.endswith("weight"):  # a norm's scale
                v = 1.0 + 0.2 * v
            else:
                v = 0.2 * v
            t.copy_(v.reshape(t.shape).to(t.dtype))
    return net.eval()


def picture(size: int = 96) -> torch.Tensor:
    """``[2, 3, size, size]``: the input every reference is computed on (normalised pixels)."""
    return (4 * _noise(2 * 3 * size * size, 1000 + size)).reshape(2, 3, size, size).float()


def outputs() -> dict[str, torch.Tensor]:
    """The originals' outputs: ``resnet18_logits`` (input :func:`picture`), and per size of
    :data:`SIZES` ``effnet_feature_means_<size>`` and ``effnet_logits_<size>``."""
    saved = json.loads((REFERENCE / "trunk_outputs.json").read_text())
    return {k: torch.tensor(v) for k, v in saved.items()}


def state_layout(network: str) -> list[tuple[str, tuple[int, ...]]]:
    """The original ``network``'s (``resnet18``, ``tf_efficientnet_lite0``) state-dict names and
    shapes, in its order: what its ImageNet files hold, so they load with ``strict=True``."""
    saved = json.loads((REFERENCE / "state_dicts.json").read_text())
    return [(name, tuple(shape)) for name, shape in saved[network]]


def layout(net: torch.nn.Module) -> list[tuple[str, tuple[int, ...]]]:
    """``net``'s state-dict names and shapes, in its order."""
    return [(name, tuple(t.shape)) for name, t in net.state_dict().items()]


def imagenet_descriptions() -> list[str]:
    """timm's ImageNet-1k class descriptions, by index."""
    return (REFERENCE / "imagenet_descriptions.txt").read_text().splitlines()
