"""Separation metrics: BSS Eval (mir_eval), a fast SDR, the oracle IBM ceiling, the mixture floor.

* :func:`bss_eval` — SDR / SIR / SAR of ``mir_eval.separation.bss_eval_sources`` with
  ``compute_permutation=False`` (the output for box ``k`` is scored against source ``k``: a
  model that swaps the instruments is wrong, not permuted right). This is the number the
  papers report (Sound of Pixels, FCSN, CLIPSep all use mir_eval's BSS Eval v3).
* :func:`fast_sdr` — plain signal-to-distortion ratio ``10 log10(|s|^2 / |s - s_hat|^2)``, no
  distortion filter: milliseconds instead of ~0.1 s per source, used for the per-epoch
  validation number. It is lower than BSS Eval's SDR (which forgives a 512-tap filter of the
  reference) and tracks it closely; never compare one with the other.
* :func:`is_silent` — Sound of Pixels' validity test: a reference (or estimate) whose summed
  absolute value is at most ``threshold`` is skipped (BSS Eval is undefined on silence).
* :func:`oracle_ibm` — the ideal binary mask (each STFT bin to the loudest source), with the
  mixture's phase: the ceiling of any binary-masking method. :func:`mixture_floor` — every
  estimate is the mixture: the score of doing nothing.
"""

from __future__ import annotations

import warnings

import numpy as np

from avsep.errors import AvsepError
from avsep.signal import dsp

#: Sound of Pixels: ``np.sum(np.abs(wav)) > 1e-5`` for a signal to be scored.
SILENCE_THRESHOLD = 1e-5


def _as_2d(name: str, x) -> np.ndarray:
    a = np.asarray(x, dtype=np.float64)
    if a.ndim == 1:
        a = a[None]
    if a.ndim != 2:
        raise AvsepError(f"{name} must be [sources, samples], got shape {tuple(a.shape)}")
    return a


def check_pair(references, estimates) -> tuple[np.ndarray, np.ndarray]:
    """Both as float64 ``[N, T]``; one-line :class:`AvsepError` when they do not match."""
    refs, ests = _as_2d("references", references), _as_2d("estimates", estimates)
    if refs.shape[1] != ests.shape[1]:
        raise AvsepError(
            f"references have {refs.shape[1]} samples, estimates {ests.shape[1]}; trim or pad them to one length"
        )
    if refs.shape[0] != ests.shape[0]:
        raise AvsepError(f"{refs.shape[0]} references but {ests.shape[0]} estimates; give one estimate per reference")
    if refs.shape[1] == 0:
        raise AvsepError("references and estimates are empty")
    if not (np.isfinite(refs).all() and np.isfinite(ests).all()):
        raise AvsepError("references or estimates contain NaN or infinite samples")
    return refs, ests


def is_silent(x, threshold: float = SILENCE_THRESHOLD) -> bool:
    """Whether ``x`` is too quiet to score (Sound of Pixels: ``sum(|x|) <= 1e-5``)."""
    return float(np.sum(np.abs(np.asarray(x, dtype=np.float64)))) <= threshold


def bss_eval(references, estimates) -> dict[str, np.ndarray]:
    """BSS Eval v3 SDR / SIR / SAR (dB), one value per source, no permutation.

    Raises :class:`AvsepError` on mismatched shapes or a silent reference/estimate (check
    with :func:`is_silent` first and skip those, as the papers do).
    """
    import mir_eval

    refs, ests = check_pair(references, estimates)
    for name, arr in (("reference", refs), ("estimate", ests)):
        for k, row in enumerate(arr):
            if not np.any(row):
                raise AvsepError(f"{name} {k} is all zeros; BSS Eval is undefined on silence (skip it with is_silent)")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        sdr, sir, sar, _ = mir_eval.separation.bss_eval_sources(refs, ests, compute_permutation=False)
    return {"sdr": np.asarray(sdr, float), "sir": np.asarray(sir, float), "sar": np.asarray(sar, float)}


def fast_sdr(references, estimates, eps: float = 1e-12) -> np.ndarray:
    """Plain SDR ``10 log10(|s|^2 / |s - s_hat|^2)`` per source (dB); see the module notes."""
    refs, ests = check_pair(references, estimates)
    num = np.sum(refs**2, axis=1) + eps
    den = np.sum((refs - ests) ** 2, axis=1) + eps
    return 10.0 * np.log10(num / den)


def oracle_ibm(mix_spec, source_specs, grid: str = "linear") -> np.ndarray:
    """Ideal-binary-mask estimates ``[N, T]`` from the mixture's and the sources' STFTs.

    ``mix_spec``: :class:`avsep.signal.dsp.Spectrogram` of the mixture (batch 1 or unbatched);
    ``source_specs``: of the ``N`` sources (batch ``N``). ``grid="linear"`` gives each
    linear-frequency bin to the loudest source (the usual ceiling); ``grid="warped"`` builds the
    training target on the model's 256-row log-frequency grid and applies it as the model's
    masks are applied (the ceiling of this model family, lower at high frequencies).
    """
    import torch

    mix_mag = mix_spec.magnitude.reshape(-1, *mix_spec.magnitude.shape[-2:])[:1]
    mix_phase = mix_spec.phase.reshape(-1, *mix_spec.phase.shape[-2:])[:1]
    mags = source_specs.magnitude
    if mags.dim() == 2:
        mags = mags.unsqueeze(0)
    n = mags.shape[0]
    if mags.shape[-2:] != mix_mag.shape[-2:]:
        raise AvsepError(
            f"source spectrograms {tuple(mags.shape[-2:])} do not match the mixture's {tuple(mix_mag.shape[-2:])}"
        )
    if grid == "linear":
        winner = mags.argmax(dim=0)
        masks = torch.nn.functional.one_hot(winner, n).permute(2, 0, 1).to(mix_mag.dtype)
        out = dsp.istft(mix_mag * masks, mix_phase.expand(n, -1, -1), mix_spec.length)
    elif grid == "warped":
        masks = binary_targets(dsp.warp(mags).unsqueeze(0), dsp.warp(mix_mag)).squeeze(0).float()
        rep = dsp.Spectrogram(mix_mag.expand(n, -1, -1), mix_phase.expand(n, -1, -1), mix_spec.length)
        out = dsp.apply_mask(rep, masks, binary=True)
    else:
        raise AvsepError(f"oracle grid must be 'linear' or 'warped', got {grid!r}")
    return out.detach().cpu().numpy().astype(np.float32)


def binary_targets(warped_sources, warped_mix):
    """Training targets ``[B, N, H, W]`` (bool) on the warped grid.

    Two sources: Sound of Pixels' ``source > 0.5 * mixture``. More than two: the source
    dominates the bin, ``source >= every other source`` (with ``> 0.5 * mixture`` at most one
    source of three could qualify where none dominates, leaving bins unassigned).
    """
    n = warped_sources.shape[1]
    if n == 2:
        return warped_sources > 0.5 * warped_mix.unsqueeze(1)
    if n == 1:
        return warped_sources > 0.5 * warped_mix.unsqueeze(1)
    return warped_sources >= warped_sources.amax(dim=1, keepdim=True)


def mixture_floor(mixture, num_sources: int) -> np.ndarray:
    """Every estimate is the mixture: ``[num_sources, T]``."""
    mix = np.asarray(mixture, dtype=np.float32).reshape(-1)
    return np.repeat(mix[None], num_sources, axis=0)


def right_box(references, estimates) -> np.ndarray:
    """Per output: does it correlate more with its own reference than with any other?"""
    refs, ests = check_pair(references, estimates)
    refs = refs - refs.mean(axis=1, keepdims=True)
    ests = ests - ests.mean(axis=1, keepdims=True)
    rn = np.linalg.norm(refs, axis=1) + 1e-12
    en = np.linalg.norm(ests, axis=1) + 1e-12
    corr = (ests @ refs.T) / (en[:, None] * rn[None, :])  # [estimate, reference]
    n = corr.shape[0]
    if n < 2:
        return np.ones(n, dtype=bool)
    own = np.diag(corr)
    others = np.where(np.eye(n, dtype=bool), -np.inf, corr).max(axis=1)
    return own > others


def summarize(values) -> dict[str, float | int]:
    """Mean / median / count of the finite values (``nan`` when there are none)."""
    a = np.asarray(values, dtype=np.float64).reshape(-1)
    a = a[np.isfinite(a)]
    if a.size == 0:
        return {"mean": float("nan"), "median": float("nan"), "count": 0}
    return {"mean": float(a.mean()), "median": float(np.median(a)), "count": int(a.size)}
