"""The guide head: which of avsep's 11 instruments a picture shows, learnt from real photos.

The ``classes`` guide (:mod:`avsep.models.guide`) gathers the frozen trunk's ImageNet posterior
into avsep's classes, so it speaks ImageNet's vocabulary: ImageNet has no tuba (real tubas read
as cornet, bassoon or piano), no erhu, no clarinet (oboe stands in). This head is a small
network over the same frozen trunk, trained on instrument photos degraded like video frames
(:mod:`avsep.train.guide_head`); it answers in avsep's own classes, plus an explicit "not one of
ours" (:data:`OTHER`).

Inputs per picture: an average-pooled last conv map ``[C]`` (standardised with the training
set's statistics, stored in the head) and the log of the ImageNet music posterior ``[M + 1]``
(ImageNet's own evidence). The map is the frozen trunk's (what the ImageNet classifier reads),
or, for a head with a :attr:`HeadConfig.tail` (the shipped one), that of the head's own
fine-tuned copy of the trunk's last stage, fed the map before it: over the frozen features the
clarinet and the flute ran together (docs/experiments/2026-12-06-guide-head-stage.md). Outputs
:data:`HEAD_CLASSES`: avsep's classes but cello, then :data:`OTHER`.

No photo shows a cello, so the head never learnt one; its guide (:meth:`GuideHead.classes`)
keeps ImageNet's answer for it, and for every picture the head calls "not one of ours":

    v = (1 - g) * (head's 10 classes + p(other) * old) + g * onehot(cello)

where ``old`` is the ImageNet gathering (``classes`` guide of the same picture) and ``g`` its
cello share. ``v`` has the 11 coordinates of :data:`~avsep.models.guide.LABELS` and sums to 1,
so a network trained with ``--guide label`` takes it unchanged.

The module knows no files: :func:`avsep.models.serialize.load_guide_head` reads a head.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import Tensor, nn

from avsep.models.effnet_lite import Tail
from avsep.models.guide import LABELS, OTHER, class_posterior, posterior, with_other
from avsep.models.imagenet_music import MUSIC_INDICES

#: the trunk the head reads (its features mean nothing over another trunk)
TRUNK = "efficientnet_lite0"
#: what the head answers: avsep's classes without cello (no photos), then OTHER
HEAD_CLASSES: tuple[str, ...] = (*[c for c in LABELS if c != "cello"], OTHER)
_CELLO = LABELS.index("cello")


@dataclass(frozen=True)
class HeadConfig:
    feature_dim: int = 1280
    #: hidden units of the one hidden layer (0: a linear head)
    hidden: int = 256
    #: dropout on the hidden layer
    dropout: float = 0.3
    classes: tuple[str, ...] = HEAD_CLASSES
    #: whether the head carries a fine-tuned copy of the trunk's last stage
    #: (:class:`~avsep.models.effnet_lite.Tail`): its features are then that copy's, read from
    #: the map before the stage (:meth:`GuideHead.pool`), and no longer the frozen trunk's
    tail: bool = False

    def to_dict(self) -> dict:
        return {**asdict(self), "classes": list(self.classes)}


class GuideHead(nn.Module):
    """Pooled trunk features + ImageNet music posterior -> :data:`HEAD_CLASSES` logits."""

    def __init__(self, config: HeadConfig = HeadConfig()) -> None:
        super().__init__()
        if tuple(config.classes) != HEAD_CLASSES:
            raise ValueError(f"a guide head answers {HEAD_CLASSES}, not {tuple(config.classes)}")
        self.config = config
        in_dim = config.feature_dim + len(MUSIC_INDICES) + 1
        out = len(HEAD_CLASSES)
        layers: list[nn.Module] = []
        if config.hidden:
            layers += [nn.Linear(in_dim, config.hidden), nn.ReLU(), nn.Dropout(config.dropout)]
        layers.append(nn.Linear(config.hidden or in_dim, out))
        self.net = nn.Sequential(*layers)
        self.register_buffer("feature_mean", torch.zeros(config.feature_dim))
        self.register_buffer("feature_std", torch.ones(config.feature_dim))
        self.tail = Tail() if config.tail else None

    def pool(self, mid: Tensor) -> Tensor:
        """The pooled features the head reads, from the map before the trunk's last stage
        (a head with a :attr:`tail` only)."""
        if self.tail is None:
            raise ValueError("this guide head reads the trunk's own pooled features")
        return self.tail(mid).mean(dim=(-2, -1))

    def set_feature_stats(self, pooled: Tensor) -> None:
        """Standardise inputs with the mean and spread of the training set's pooled features."""
        self.feature_mean.copy_(pooled.float().mean(0))
        self.feature_std.copy_(pooled.float().std(0).clamp_min(1e-3))

    def forward(self, pooled: Tensor, music_logits: Tensor, logsumexp: Tensor) -> Tensor:
        """``[N, C]``, ``[N, M]``, ``[N]`` -> logits ``[N, len(HEAD_CLASSES)]``."""
        x = (pooled.float() - self.feature_mean) / self.feature_std
        evidence = posterior(music_logits, logsumexp).clamp_min(1e-6).log()
        return self.net(torch.cat([x, evidence], -1))

    @torch.no_grad()
    def classes(self, pooled: Tensor, music_logits: Tensor, logsumexp: Tensor) -> tuple[Tensor, Tensor]:
        """The 11-class guide of each picture ``[N, 11]`` (sums to 1) and how sure it is that
        the picture shows one of avsep's instruments ``[N]`` (see the module docstring)."""
        p = self(pooled, music_logits, logsumexp).float().softmax(-1)
        old = class_posterior(posterior(music_logits, logsumexp))
        g = old[:, _CELLO : _CELLO + 1]
        ours = torch.zeros_like(old)
        for k, name in enumerate(HEAD_CLASSES[:-1]):
            ours[:, LABELS.index(name)] = p[:, k]
        other = p[:, -1:]
        v = (1 - g) * (ours + other * old)
        v[:, _CELLO] += g[:, 0]
        return v, 1 - (1 - g[:, 0]) * other[:, 0]

    @torch.no_grad()
    def view_frames(
        self, crop: tuple[Tensor, Tensor, Tensor], zoom: tuple[Tensor, Tensor, Tensor]
    ) -> tuple[Tensor, Tensor]:
        """Per frame, the guide and sureness of whichever of two views (the crop and its centre
        enlarged, as :func:`avsep.models.guide.class_views`) is more sure to show one of our
        instruments: a wide box shows its player small. Each view is ``(pooled [N, C], music
        logits [N, M], log-sum-exp [N])``; returns ``[N, 11]`` and ``[N]``."""
        v0, s0 = self.classes(*crop)
        v1, s1 = self.classes(*zoom)
        closer = s1 > s0
        return torch.where(closer.unsqueeze(-1), v1, v0), torch.where(closer, s1, s0)

    @torch.no_grad()
    def views(
        self, crop: tuple[Tensor, Tensor, Tensor], zoom: tuple[Tensor, Tensor, Tensor], b: int, other: bool = False
    ) -> Tensor:
        """The ``classes`` guide ``[b, 11]`` of ``b`` boxes from their ``b * F`` frames in two
        views (:meth:`view_frames`), averaged over each box's frames. With ``other`` the
        ``classes-other`` guide ``[b, 12]``: each frame's unsureness is its :data:`OTHER`
        coordinate, so a picture of no instrument of ours guides toward "not one of these"."""
        best, sure = self.view_frames(crop, zoom)
        if other:
            best = with_other(best, 1.0 - sure)
        mean = best.view(b, -1, best.shape[-1]).mean(1)
        return mean / mean.sum(-1, keepdim=True)
