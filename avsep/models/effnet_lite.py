"""EfficientNet-Lite0 as timm's ``tf_efficientnet_lite0``, without importing timm.

``import timm`` imports torchvision and with it ``torch._dynamo``: on the 2-core machine that
was about 85 % of loading the model (issue 30) and some 250 MB of resident memory, for one
network of 7 stages of plain convolutions. This is that network with the same module and
parameter names (``conv_stem``, ``bn1``, ``blocks.i.j.conv_dw`` ...), so the same state dicts
load into it with ``strict=True``, and the same operations (TF "same" padding on the stride-2
convolutions, BatchNorm eps 1e-3, ReLU6), so its outputs equal timm's
(``tests/models/test_effnet_lite.py``).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

#: Per stage: (block kind, repeats, kernel, stride, expansion, output channels); timm's
#: ``_gen_efficientnet_lite`` arch_def at width and depth multiplier 1.0.
STAGES = (
    ("ds", 1, 3, 1, 1, 16),
    ("ir", 2, 3, 2, 6, 24),
    ("ir", 2, 5, 2, 6, 40),
    ("ir", 3, 3, 2, 6, 80),
    ("ir", 3, 5, 1, 6, 112),
    ("ir", 4, 5, 2, 6, 192),
    ("ir", 1, 3, 1, 6, 320),
)
STEM, HEAD, CLASSES = 32, 1280, 1000
EPS = 1e-3
#: The stage from which a guide head may carry its own fine-tuned copy of the network
#: (:class:`Tail`): the last block stage, whose input is ``[N, 192, H/32, W/32]``.
TAIL_STAGE = len(STAGES) - 1


class Conv2dSame(nn.Conv2d):
    """A convolution with TensorFlow's "same" padding for any input size: what it cannot
    split evenly goes to the right and bottom (timm's ``Conv2dSame``)."""

    def forward(self, x: Tensor) -> Tensor:
        pads = []
        for size, k, s in zip(reversed(x.shape[-2:]), reversed(self.kernel_size), reversed(self.stride)):
            total = max((math.ceil(size / s) - 1) * s + k - size, 0)
            pads += [total // 2, total - total // 2]
        return F.conv2d(F.pad(x, pads), self.weight, self.bias, self.stride, 0, self.dilation, self.groups)


def _conv(cin: int, cout: int, k: int, stride: int = 1, groups: int = 1) -> nn.Conv2d:
    """timm's ``create_conv2d(padding="same")``: static symmetric padding at stride 1."""
    if stride > 1:
        return Conv2dSame(cin, cout, k, stride, 0, groups=groups, bias=False)
    return nn.Conv2d(cin, cout, k, 1, k // 2, groups=groups, bias=False)


class BatchNormAct2d(nn.BatchNorm2d):
    """BatchNorm (eps 1e-3) then ReLU6 when ``act``, under timm's parameter names."""

    def __init__(self, channels: int, act: bool = True) -> None:
        super().__init__(channels, eps=EPS)
        self.act = act

    def forward(self, x: Tensor) -> Tensor:
        x = super().forward(x)
        return F.relu6(x) if self.act else x

    def after_fold(self) -> nn.Module:
        """What is left of it once :func:`avsep.models.fold.fold_batchnorm` moved the norm into
        the convolution before it: the ReLU6, in place (on that convolution's fresh output)."""
        return nn.ReLU6(inplace=True) if self.act else nn.Identity()


class DepthwiseSeparableConv(nn.Module):
    def __init__(self, cin: int, cout: int, k: int, stride: int) -> None:
        super().__init__()
        self.conv_dw = _conv(cin, cin, k, stride, groups=cin)
        self.bn1 = BatchNormAct2d(cin)
        self.conv_pw = _conv(cin, cout, 1)
        self.bn2 = BatchNormAct2d(cout, act=False)
        self.skip = stride == 1 and cin == cout

    def forward(self, x: Tensor) -> Tensor:
        out = self.bn2(self.conv_pw(self.bn1(self.conv_dw(x))))
        return out + x if self.skip else out


class InvertedResidual(nn.Module):
    def __init__(self, cin: int, cout: int, k: int, stride: int, expand: int) -> None:
        super().__init__()
        mid = cin * expand
        self.conv_pw = _conv(cin, mid, 1)
        self.bn1 = BatchNormAct2d(mid)
        self.conv_dw = _conv(mid, mid, k, stride, groups=mid)
        self.bn2 = BatchNormAct2d(mid)
        self.conv_pwl = _conv(mid, cout, 1)
        self.bn3 = BatchNormAct2d(cout, act=False)
        self.skip = stride == 1 and cin == cout

    def forward(self, x: Tensor) -> Tensor:
        out = self.bn3(self.conv_pwl(self.bn2(self.conv_dw(self.bn1(self.conv_pw(x))))))
        return out + x if self.skip else out


def _stage(index: int) -> nn.Sequential:
    """Stage ``index`` of :data:`STAGES` as its blocks (the first one strides and widens)."""
    kind, repeats, k, stride, expand, cout = STAGES[index]
    cin = STAGES[index - 1][-1] if index else STEM
    blocks: list[nn.Module] = []
    ds = kind == "ds"
    for r in range(repeats):
        c, s = (cin, stride) if r == 0 else (cout, 1)
        blocks.append(DepthwiseSeparableConv(c, cout, k, s) if ds else InvertedResidual(c, cout, k, s, expand))
    return nn.Sequential(*blocks)


class EfficientNetLite0(nn.Module):
    """The network: :meth:`forward_features` (last conv map, ``[N, 1280, H/32, W/32]``) and
    :meth:`forward_head` (average pool, ImageNet-1k classifier), as timm's."""

    def __init__(self) -> None:
        super().__init__()
        self.conv_stem = _conv(3, STEM, 3, 2)
        self.bn1 = BatchNormAct2d(STEM)
        self.blocks = nn.Sequential(*(_stage(i) for i in range(len(STAGES))))
        self.conv_head = _conv(STAGES[-1][-1], HEAD, 1)
        self.bn2 = BatchNormAct2d(HEAD)
        self.classifier = nn.Linear(HEAD, CLASSES)

    def forward_features(self, x: Tensor) -> Tensor:
        return self.forward_rest(self.forward_mid(x))

    def forward_mid(self, x: Tensor) -> Tensor:
        """The map :data:`TAIL_STAGE` reads (what a :class:`Tail` reads)."""
        return self.blocks[:TAIL_STAGE](self.bn1(self.conv_stem(x)))

    def forward_rest(self, mid: Tensor) -> Tensor:
        """:meth:`forward_mid`'s map -> the last conv map."""
        return self.bn2(self.conv_head(self.blocks[TAIL_STAGE:](mid)))

    def forward_head(self, fmap: Tensor) -> Tensor:
        return self.classifier(F.adaptive_avg_pool2d(fmap, 1).flatten(1))

    def forward(self, x: Tensor) -> Tensor:
        return self.forward_head(self.forward_features(x))


class Tail(nn.Module):
    """The network from :data:`TAIL_STAGE` on, without the classifier: the part a guide head
    fine-tunes a copy of (:mod:`avsep.models.guide_head`), so that it can tell instruments the
    frozen features run together (clarinet and flute) while the trunk stays the one every
    other guide reads. Same module names and operations as :class:`EfficientNetLite0`'s."""

    def __init__(self) -> None:
        super().__init__()
        self.blocks = _stage(TAIL_STAGE)
        self.conv_head = _conv(STAGES[-1][-1], HEAD, 1)
        self.bn2 = BatchNormAct2d(HEAD)

    @classmethod
    def of(cls, net: EfficientNetLite0) -> Tail:
        """A copy of ``net``'s own tail (where fine-tuning starts), in eval mode as ``net`` is."""
        tail = cls().train(net.training)
        tail.blocks.load_state_dict(net.blocks[TAIL_STAGE].state_dict())
        tail.conv_head.load_state_dict(net.conv_head.state_dict())
        tail.bn2.load_state_dict(net.bn2.state_dict())
        return tail

    def forward(self, mid: Tensor) -> Tensor:
        return self.bn2(self.conv_head(self.blocks(mid)))


def build() -> EfficientNetLite0:
    """The network with throwaway random weights (they are always loaded next), built on the CPU
    without touching the caller's random state. Building it on the ``meta`` device instead, to
    skip the init, made torch's meta kernels import ``sympy``: 0.21 s and 27 MB of resident
    memory against 0.02 s for the init (issue 30)."""
    with torch.random.fork_rng(devices=[]):
        return EfficientNetLite0()
