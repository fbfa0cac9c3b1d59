"""Sound of Pixels baseline (Zhao et al., ECCV 2018): U-Net-7 audio net + synthesizer.

The baseline the PCN has to beat at equal budget. The audio U-Net turns the log-spectrogram
into ``K`` feature maps; the visual guide vector is projected to ``K`` weights; the mask is
``sigmoid(sum_k w_k * v_k * A_k + bias)`` (the "channel-wise product synthesizer"). Same
calling convention as :class:`avsep.models.pcn.PCN`, so trainer and separator treat both alike,
including the shared audio pass over boxes (the U-Net does not see the visual feature at all).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class SoPConfig:
    visual_dim: int = 512
    ngf: int = 16
    #: Number of audio feature maps / synthesizer channels (32 in the paper).
    k: int = 32

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "SoPConfig":
        return cls(**d)


def _down(cin: int, cout: int, norm: bool = True) -> nn.Sequential:
    layers: list[nn.Module] = [nn.LeakyReLU(0.2), nn.Conv2d(cin, cout, 4, 2, 1, bias=not norm)]
    if norm:
        layers.append(nn.BatchNorm2d(cout))
    return nn.Sequential(*layers)


def _up(cin: int, cout: int, norm: bool = True) -> nn.Sequential:
    layers: list[nn.Module] = [
        nn.ReLU(),
        nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True),
        nn.Conv2d(cin, cout, 3, 1, 1, bias=not norm),
    ]
    if norm:
        layers.append(nn.BatchNorm2d(cout))
    return nn.Sequential(*layers)


class SoP(nn.Module):
    """``forward(log_mag [B,1,H,W], visual [B,D] or [B,S,D]) -> mask [B,(S,)H,W]``."""

    arch = "sop"

    def __init__(self, config: SoPConfig = SoPConfig()) -> None:
        super().__init__()
        self.config = config
        g = config.ngf
        ch = [g, g * 2, g * 4, g * 8, g * 8, g * 8, g * 8]
        self.bn0 = nn.BatchNorm2d(1)
        self.first = nn.Conv2d(1, ch[0], 4, 2, 1)
        self.downs = nn.ModuleList(_down(ch[i], ch[i + 1], norm=i < 5) for i in range(6))
        # Innermost up takes the bottleneck alone; the others take [up, skip] concatenated.
        self.ups = nn.ModuleList(_up(ch[i + 1] * (1 if i == 5 else 2), ch[i]) for i in reversed(range(6)))
        self.last = _up(ch[0] * 2, config.k, norm=False)
        self.visual = nn.Linear(config.visual_dim, config.k)
        self.scale = nn.Parameter(torch.ones(config.k))
        self.bias = nn.Parameter(torch.zeros(1))

    def audio_features(self, log_mag: torch.Tensor) -> torch.Tensor:
        skips = [self.first(self.bn0(log_mag))]
        for down in self.downs:
            skips.append(down(skips[-1]))
        h = skips.pop()
        for i, up in enumerate(self.ups):
            h = up(h) if i == 0 else up(torch.cat([h, skips.pop()], 1))
        return self.last(torch.cat([h, skips.pop()], 1))

    def forward(self, log_mag: torch.Tensor, visual: torch.Tensor, return_logits: bool = False) -> torch.Tensor:
        feats = self.audio_features(log_mag)  # [B, K, H, W]
        weights = torch.sigmoid(self.visual(visual)) * self.scale  # [B, (S,) K]
        if visual.dim() == 3:
            logits = torch.einsum("bsk,bkhw->bshw", weights, feats)
        else:
            logits = torch.einsum("bk,bkhw->bhw", weights, feats)
        logits = logits + self.bias
        return logits if return_logits else torch.sigmoid(logits)
