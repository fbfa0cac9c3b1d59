"""The loss of mix-and-separate training, one optimizer update, and validation.

The network sees ``dsp.network_input`` of the mixture's magnitude and one guide vector per source
(all sources of a mixture in one call, so the audio-only first pass is shared) and predicts one
mask logit map per source on the warped 256 x 256 grid. Targets are binary masks on the same
grid (:func:`avsep.train.metrics.binary_targets`). The loss is BCE-with-logits weighted per bin
by ``clamp(log1p(warp(mixture magnitude)), 1e-3, 10)`` (Sound of Pixels' weighting: loud bins
matter, silence does not). With ``shared`` > 0 a second BCE, of that weight, scores the boxes'
ratio shares (:func:`avsep.signal.dsp.combine_masks`, ``ratio``: what ``--mask ratio`` separates
with, in proportion to the masks squared since 2026-12-06) against the same targets: the network
is otherwise trained on each mask alone and never sees the division that inference applies.
Validation separates with binary masks exactly as
:meth:`avsep.separation.separator.Separator.separate_windows` does and scores with
:func:`avsep.train.metrics.fast_sdr`.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from avsep.errors import InputError
from avsep.models.guide import is_label, labels_of
from avsep.signal import dsp
from avsep.train.metrics import binary_targets, fast_sdr, is_silent

#: shares are kept this far from 0 and 1 in the shared loss: a bin no source claims divides 0 by
#: the mask floor, and BCE's log needs both ends open
SHARE_EPS = 1e-6


def mask_loss(
    model: nn.Module,
    audio: torch.Tensor,
    visual: torch.Tensor,
    mix_spec: dsp.Spectrogram | None = None,
    mixture: torch.Tensor | None = None,
    shared: float = 0.0,
    source_weights: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Weighted BCE of one batch: ``audio`` ``[B, N, T]`` sources, ``visual`` ``[B, N, D]``.

    ``mixture`` ``[B, T]`` is the observed mixture when it is not the sum of the sources
    (noise and codec of :mod:`avsep.train.augment`). ``mix_spec`` is its STFT when the caller
    needs it anyway (validation masks it), so it is computed once. ``source_weights``
    ``[B, N]`` scales each source's bins (:func:`class_source_weights`). Returns
    ``(loss, logits [B, N, 256, frames])``.
    """
    b, n, t = audio.shape
    # Inputs and targets in float32 even under autocast (the warp is a matrix product).
    with torch.no_grad(), torch.autocast(audio.device.type, enabled=False):
        if mix_spec is None:
            mix_spec = dsp.stft(audio.sum(1) if mixture is None else mixture)
        mix_mag = mix_spec.magnitude
        src_mag = dsp.stft(audio.reshape(b * n, t)).magnitude
        x = dsp.network_input(mix_mag)
        wmix = dsp.warp(mix_mag)
        wsrc = dsp.warp(src_mag).reshape(b, n, *wmix.shape[-2:])
        target = binary_targets(wsrc, wmix).to(x.dtype)
        weight = torch.log1p(wmix).clamp(1e-3, 10.0).unsqueeze(1).expand_as(target)
        if source_weights is not None:
            weight = weight * source_weights.to(weight)[:, :, None, None]
    logits = model(x, visual, return_logits=True).float()
    loss = F.binary_cross_entropy_with_logits(logits, target, weight=weight)
    if shared > 0:  # float32 (BCE on probabilities refuses autocast on CUDA)
        with torch.autocast(audio.device.type, enabled=False):
            shares = dsp.combine_masks(torch.sigmoid(logits), "ratio").clamp(SHARE_EPS, 1.0 - SHARE_EPS)
            loss = loss + shared * F.binary_cross_entropy(shares, target, weight=weight)
    return loss, logits


def class_weight_vector(text: str, kind: str) -> torch.Tensor | None:
    """``--class-weight`` (``name=weight,...``) as one weight per coordinate of the ``kind``
    label guide (1 where not named), or None when empty; a one-line error names what is wrong.
    The weights are not normalised: weighting every class by 2 doubles the loss, as a learning
    rate twice as large would under plain SGD (AdamW hardly minds); validation's loss stays
    unweighted, so runs compare."""
    if not text.strip():
        return None
    if not is_label(kind):
        raise InputError("--class-weight weighs the sources by their label; use --guide label or label-other")
    labels = labels_of(kind)
    vector = torch.ones(len(labels))
    named: set[str] = set()
    for item in text.split(","):
        name, _, value = item.partition("=")
        name = name.strip()
        try:
            weight = float(value)
        except ValueError:
            weight = float("nan")
        if name not in labels or not (math.isfinite(weight) and weight > 0):
            raise InputError(
                f"--class-weight wants name=weight with a positive weight and one of {', '.join(labels)}; got {item!r}"
            )
        if name in named:
            raise InputError(f"--class-weight names {name} twice; give each class one weight")
        named.add(name)
        vector[labels.index(name)] = weight
    return vector


def class_source_weights(visual: torch.Tensor, vector: torch.Tensor) -> torch.Tensor:
    """``[B, N]``: each source's weight from its label guide ``visual`` ``[B, N, D]``, the
    guide's mean of ``vector`` (its class's weight for a one-hot guide; a softened guide
    weighs as its classes do; a guide of zeros, 1)."""
    guide = visual.float().clamp_min(0.0)
    total = guide.sum(-1)
    return torch.where(total > 1e-6, (guide @ vector.to(guide)) / total.clamp_min(1e-6), 1.0)


def train_step(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    audio: torch.Tensor,
    visual: torch.Tensor,
    *,
    grad_clip: float | None,
    amp: bool = False,
    params: list[torch.Tensor] | None = None,
    mixture: torch.Tensor | None = None,
    shared: float = 0.0,
    source_weights: torch.Tensor | None = None,
) -> torch.Tensor:
    """One optimizer update on a batch; returns the (detached) loss (``shared``,
    ``source_weights``: :func:`mask_loss`).

    ``amp`` runs the network under ``torch.autocast`` in bfloat16 (CPU: AMX / AVX-512 bf16
    units; CUDA: tensor cores): the STFTs and targets stay float32 (they are computed under
    ``no_grad`` before the network), the loss is computed in float32 from the logits, and
    the weights and optimizer state stay float32, so only the matrix products are rounded.
    """
    with torch.autocast(audio.device.type, dtype=torch.bfloat16, enabled=amp):
        loss, _ = mask_loss(model, audio, visual, mixture=mixture, shared=shared, source_weights=source_weights)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    if grad_clip:
        torch.nn.utils.clip_grad_norm_(params if params is not None else model.parameters(), grad_clip)
    optimizer.step()
    return loss.detach()


class VisualGuide:
    """Guide features of a batch: from the cache, or from the trunk (frozen or fine-tuned)."""

    def __init__(self, trunk: nn.Module | None, finetune: bool, kind: str = "features") -> None:
        self.trunk = trunk
        self.finetune = finetune
        self.kind = kind

    def __call__(self, batch: dict[str, torch.Tensor], device: torch.device, train: bool) -> torch.Tensor:
        if "visual" in batch:
            return batch["visual"].to(device, non_blocking=True)
        assert self.trunk is not None
        frames = batch["frames"].to(device, non_blocking=True)  # [B, N, F, 224, 224, 3]
        b, n, f = frames.shape[:3]
        flat = frames.reshape(b * n * f, *frames.shape[3:])
        if self.finetune and train:
            fmap = self.trunk.features(self.trunk.normalize(flat))
            return fmap.reshape(b * n, f, *fmap.shape[1:]).amax(1).amax((-2, -1)).reshape(b, n, -1)
        with torch.no_grad():
            return self.trunk.guide(frames.reshape(b * n, *frames.shape[2:]), self.kind).reshape(b, n, -1)


@torch.no_grad()
def validate(model: nn.Module, visual_fn: VisualGuide, batches: list[dict], device: torch.device) -> dict[str, float]:
    """Mean fast SDR / SDRi / loss on the fixed validation batches (binary masks)."""
    was_training = model.training
    model.eval()
    sdrs, sdris, losses = [], [], []
    skipped = 0
    for batch in batches:
        audio = batch["audio"].to(device)
        visual = visual_fn(batch, device, train=False)
        mix = batch["mixture"].to(device) if "mixture" in batch else audio.sum(1)
        mix_spec = dsp.stft(mix)
        loss, logits = mask_loss(model, audio, visual, mix_spec, mix)
        losses.append(float(loss))
        b, n = logits.shape[:2]
        est = dsp.apply_masks(mix_spec, torch.sigmoid(logits), "binary").cpu().numpy()
        refs, mixes = audio.cpu().numpy(), mix.cpu().numpy()
        for i in range(b):
            for k in range(n):
                if is_silent(refs[i, k]):
                    skipped += 1
                    continue
                s = float(fast_sdr(refs[i, k], est[i, k])[0])
                sdrs.append(s)
                sdris.append(s - float(fast_sdr(refs[i, k], mixes[i])[0]))
    model.train(was_training)
    return {
        "sdr": float(np.mean(sdrs)) if sdrs else float("nan"),
        "sdri": float(np.mean(sdris)) if sdris else float("nan"),
        "loss": float(np.mean(losses)) if losses else float("nan"),
        "scored": len(sdrs),
        "skipped_silent": skipped,
    }
