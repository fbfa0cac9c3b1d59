"""Spectrogram front end shared by training and inference.

The conventions are those of the MUSIC dataset / Sound of Pixels line of work, so that a model
trained here sees exactly what the published recipes describe: mono 11025 Hz audio, windows of
65535 samples, STFT with a Hann window of 1022 and hop 256 (512 x 256 bins), magnitudes warped
onto a 256-bin log-frequency axis. Everything here is pure torch on tensors; nothing opens files.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import torch
import torch.nn.functional as F

SAMPLE_RATE = 11025
N_FFT = 1022
HOP = 256
WINDOW_SAMPLES = 65535
#: Frames of a window's STFT: 1 + 65535 // 256.
WINDOW_FRAMES = 1 + WINDOW_SAMPLES // HOP
FREQ_BINS = N_FFT // 2 + 1
WARP_BINS = 256
#: Floor under magnitudes before the log: keeps the network input finite on digital silence.
LOG_EPS = 1e-10
#: below this sum over the boxes a bin counts as claimed by no box (ratio masks)
MASK_EPS = 1e-6
#: ``ratio`` masks divide each bin in proportion to ``mask ** RATIO_POWER`` (:func:`sharpen`)
RATIO_POWER = 2.0


@dataclass
class Spectrogram:
    """Linear-frequency STFT of a batch of mono signals, kept for masking and inversion."""

    magnitude: torch.Tensor  # [B, FREQ_BINS, frames]
    phase: torch.Tensor  # [B, FREQ_BINS, frames]
    length: int  # samples of the signal the STFT was taken of


@lru_cache(maxsize=4)
def _hann(device: str, dtype: torch.dtype) -> torch.Tensor:
    return torch.hann_window(N_FFT, device=device, dtype=dtype)


def stft(audio: torch.Tensor) -> Spectrogram:
    """STFT of ``audio`` (``[B, T]`` or ``[T]``) with the model's window and hop."""
    if audio.dim() == 1:
        audio = audio.unsqueeze(0)
    spec = torch.stft(
        audio,
        n_fft=N_FFT,
        hop_length=HOP,
        window=_hann(str(audio.device), audio.dtype),
        center=True,
        return_complex=True,
    )
    return Spectrogram(magnitude=spec.abs(), phase=spec.angle(), length=audio.shape[-1])


def istft(magnitude: torch.Tensor, phase: torch.Tensor, length: int) -> torch.Tensor:
    """Inverse STFT of ``magnitude * exp(i phase)`` (``[B, F, T]``) to ``[B, length]``."""
    spec = torch.polar(magnitude, phase)
    return torch.istft(
        spec,
        n_fft=N_FFT,
        hop_length=HOP,
        window=_hann(str(magnitude.device), magnitude.dtype),
        center=True,
        length=length,
    )


@lru_cache(maxsize=8)
def _grid(out_h: int, out_w: int, warp: bool, device: str) -> torch.Tensor:
    """Sampling grid of Sound of Pixels' ``warpgrid``.

    ``warp=True`` samples a linear-frequency map at log-spaced rows (linear -> log axis);
    ``warp=False`` is its inverse (log -> linear), used to bring a predicted mask back.
    """
    x = torch.linspace(-1.0, 1.0, out_w, dtype=torch.float64)
    y = torch.linspace(-1.0, 1.0, out_h, dtype=torch.float64)
    if warp:
        y = (torch.pow(21.0, (y + 1) / 2) - 11) / 10
    else:
        y = torch.log(y * 10 + 11) / math.log(21.0) * 2 - 1
    gy, gx = torch.meshgrid(y, x, indexing="ij")
    return torch.stack([gx, gy], dim=-1).to(device=device, dtype=torch.float32).unsqueeze(0)


def _resample(maps: torch.Tensor, out_h: int, warp: bool) -> torch.Tensor:
    squeeze = maps.dim() == 3
    if squeeze:
        maps = maps.unsqueeze(1)
    grid = _grid(out_h, maps.shape[-1], warp, str(maps.device))
    grid = grid.expand(maps.shape[0], -1, -1, -1).to(maps.dtype)
    out = F.grid_sample(maps, grid, mode="bilinear", padding_mode="zeros", align_corners=True)
    return out.squeeze(1) if squeeze else out


def warp(linear: torch.Tensor, bins: int = WARP_BINS) -> torch.Tensor:
    """Linear-frequency maps (``[B, F, T]`` or ``[B, C, F, T]``) onto ``bins`` log-frequency rows."""
    return _resample(linear, bins, warp=True)


def unwarp(logfreq: torch.Tensor, bins: int = FREQ_BINS) -> torch.Tensor:
    """Log-frequency maps (e.g. predicted masks) back onto ``bins`` linear-frequency rows."""
    return _resample(logfreq, bins, warp=False)


def network_input(magnitude: torch.Tensor) -> torch.Tensor:
    """Log of the warped magnitude, ``[B, 1, WARP_BINS, frames]``: what the networks take."""
    return torch.log(warp(magnitude).clamp_min(LOG_EPS)).unsqueeze(1)


def combine_masks(masks: torch.Tensor, mode: str, rest: torch.Tensor | None = None) -> torch.Tensor:
    """Each box's share of each bin, ``[B, S, F, T]`` in [0, 1], from its mask and its neighbours'.

    ``mode`` is an :class:`avsep.options.Mask` value. ``ratio`` and ``capped`` look across the
    ``S`` boxes of one mixture; a bin that no box claims (sum 0) stays 0 for every box. With a
    single box there is nothing to share (a ratio would hand it the whole mixture, including
    every instrument outside the box), so ``ratio`` is then the box's soft mask. ``rest``
    ``[B, S]`` marks the boxes that took what the others leave (:func:`take_rest`); ``ratio``
    sharpens only between the others (:func:`sharpen`).
    """
    masks = masks.clamp(0.0, 1.0)
    if mode == "binary":
        return (masks > 0.5).to(masks.dtype)
    if mode == "soft" or (mode == "ratio" and masks.shape[1] == 1):
        return masks
    total = masks.sum(1, keepdim=True)
    if mode == "ratio":
        return sharpen(masks / total.clamp_min(MASK_EPS), rest)
    if mode == "capped":
        return masks / total.clamp_min(1.0)
    raise ValueError(f"unknown mask mode {mode!r}")


def sharpen(shares: torch.Tensor, rest: torch.Tensor | None) -> torch.Tensor:
    """``shares`` (each mask over the sum) re-divided between the boxes that do not take the
    rest in proportion to ``mask ** RATIO_POWER``: they keep their total, and a box taking the
    rest keeps its share.

    Why: the network's masks are soft, so a plain ratio leaves each box a good part of the bins
    its neighbour dominates; a power above 1 (a Wiener-like share, as of power spectra) gives
    the dominant box more. The rest is not a rival estimate but what the named boxes leave, so
    its size stays as it was. :data:`RATIO_POWER` was chosen on the real-stems val split
    (docs/experiments/2026-12-06-sharper-ratio.md).
    """
    if RATIO_POWER == 1.0:
        return shares
    rivals = torch.ones(shares.shape[:2], dtype=torch.bool, device=shares.device)
    if rest is not None:
        rivals = ~taking_rest(rest.to(shares.device))
    rivals = rivals.view(*rivals.shape, *([1] * (shares.dim() - 2)))
    powered = shares.pow(RATIO_POWER) * rivals  # in proportion to the masks' powers, but of order 1
    mass = (shares * rivals).sum(1, keepdim=True)
    sharp = mass * powered / powered.sum(1, keepdim=True).clamp_min(MASK_EPS)
    return torch.where(rivals, sharp, shares)


def take_rest(masks: torch.Tensor, rest: torch.Tensor | None) -> torch.Tensor:
    """``masks`` ``[B, S, ...]`` where each box ``rest[b, s]`` (``[B, S]`` bool: a box of an
    instrument outside the model's classes, ``other``) gets what the other boxes of its mixture
    leave, ``1 - sum`` clipped to [0, 1] (shared equally when several boxes take it), instead
    of its own mask.

    Why: the network's mask for a class it never learnt is poor; the rest of the named boxes'
    masks is better (real-stems val, an outside part beside named ones: +1.8 dB against +0.4,
    docs/experiments/2026-12-06-rest-for-other.md). A mixture whose boxes are all ``rest`` has
    nothing to take the rest of, and keeps its masks.
    """
    if rest is None or not bool(rest.any()):
        return masks
    shape = (*rest.shape, *([1] * (masks.dim() - 2)))
    rest = rest.to(masks.device).view(shape)
    left = (1.0 - (masks.clamp(0.0, 1.0) * ~rest).sum(1, keepdim=True)).clamp(0.0, 1.0)
    left = left / rest.sum(1, keepdim=True).clamp_min(1)
    return torch.where(taking_rest(rest), left.to(masks.dtype), masks)


def taking_rest(rest: torch.Tensor) -> torch.Tensor:
    """The boxes of ``rest`` (``[B, S, ...]`` bool) that :func:`take_rest` does give the rest:
    those of a mixture with at least one box that is not ``rest``."""
    return rest & (~rest).any(1, keepdim=True)


def apply_mask(spec: Spectrogram, mask: torch.Tensor, binary: bool) -> torch.Tensor:
    """Separated waveforms ``[B, length]`` from one warped mask per mixture ``[B, WARP_BINS, frames]``.

    A binary mask thresholds at 0.5, as the method describes; a soft mask keeps the ratio
    (fewer musical-noise artefacts, more leakage).
    """
    linear = combine_masks(unwarp(mask).unsqueeze(1), "binary" if binary else "soft").squeeze(1)
    return istft(spec.magnitude * linear, spec.phase, spec.length)


def mask_shares(masks: torch.Tensor, mode: str, rest: torch.Tensor | None = None) -> torch.Tensor:
    """Each box's share ``[B, S, FREQ_BINS, frames]`` of the linear-frequency bins, from the
    network's warped masks ``[B, S, WARP_BINS, frames]``: unwarped, then combined across the
    boxes (:func:`combine_masks`, ``rest`` as there). Both masking paths (model rate and full band)
    start here."""
    return combine_masks(unwarp(masks.flatten(0, 1)).unflatten(0, masks.shape[:2]), mode, rest)


def apply_masks(spec: Spectrogram, masks: torch.Tensor, mode: str) -> torch.Tensor:
    """Per-box waveforms ``[B, S, length]`` from ``B`` mixtures' spectra and masks ``[B, S, H, W]``.

    Each mixture's magnitude and phase serve all ``S`` of its boxes, and the masks are combined
    across the boxes (:func:`combine_masks`) on the linear grid: the one masking path of
    inference and of validation during training.
    """
    return apply_shares(spec, mask_shares(masks, mode))


def apply_shares(spec: Spectrogram, shares: torch.Tensor) -> torch.Tensor:
    """Per-box waveforms ``[B, S, length]`` from each box's share ``[B, S, FREQ_BINS, frames]`` of
    the bins of ``B`` mixtures (:func:`mask_shares`, possibly re-divided afterwards)."""
    b, s = shares.shape[:2]
    parts = shares * spec.magnitude.unsqueeze(1)
    phase = spec.phase.repeat_interleave(s, 0)
    return istft(parts.reshape(b * s, *parts.shape[2:]), phase, spec.length).reshape(b, s, -1)
