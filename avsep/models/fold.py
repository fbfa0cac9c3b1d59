"""Batch norms folded into the convolutions before them, for a frozen network that only infers.

A frozen trunk's BatchNorm is a fixed per-channel scale and shift of its convolution's output;
multiplied into that convolution's weights and bias, it gives the same outputs to float
rounding and saves a pass over every activation map. With the ReLU6 after it applied in place,
EfficientNet-Lite0 on 8 crops ran 0.132 -> 0.063 s on the 2 cores (issue 30; ``python -m
benchmarks.bench_model``, the trunks' rows; on one thread 1.2x). Only the passes outside an
autocast run a folded copy (:meth:`avsep.models.visual.VisualTrunk.fold`): in bfloat16 the
folded weights round otherwise.
"""

from __future__ import annotations

from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval


def fold_batchnorm(net: nn.Module) -> nn.Module:
    """Fold, in place, every BatchNorm registered right after a convolution in the same parent
    into it, and return ``net``. That registration order is the data's order in the networks
    avsep builds (EfficientNet-Lite0, ResNet-18, their parts), which their tests check output
    for output. A norm that also activates (``after_fold()``, e.g. BatchNorm then ReLU6)
    leaves that activation in its place; a plain one leaves nothing.

    Raises ValueError for a network in training mode: its norms still change."""
    if net.training:
        raise ValueError("fold_batchnorm: the network must be in eval mode (its norms frozen)")
    for parent in list(net.modules()):
        names = list(parent._modules)
        for before, name in zip(names, names[1:]):
            conv, norm = parent._modules[before], parent._modules[name]
            if isinstance(conv, nn.Conv2d) and isinstance(norm, nn.BatchNorm2d):
                folded = fuse_conv_bn_eval(conv, norm)
                folded.requires_grad_(False)
                parent._modules[before] = folded
                after = getattr(norm, "after_fold", None)
                parent._modules[name] = (after() if after is not None else nn.Identity()).train(False)
    return net
