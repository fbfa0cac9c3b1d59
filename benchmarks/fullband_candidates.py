"""Extensions above 5.5 kHz that were measured but not shipped (docs/results.md section 6).

:func:`register` adds them to :mod:`avsep.separation.fullband`'s table for one benchmark process, so that
``benchmarks/fullband_quality.py --candidates`` can compare them with the shipped ``hold`` and
``envelope`` on the same masks. Each takes an :class:`avsep.separation.fullband.Above` and returns
``[B, S, 1 or C, 1 or bins above, frames]``, as the shipped ones do; all keep the boxes' sum of
``hold``, so ratio masks still sum to one.

* ``harmonic``: output bin ``f`` reads the mask at ``f/d`` and ``f/(d+1)`` (mean), ``d`` the
  smallest whole divisor that brings ``f`` inside the model's band: where the lower harmonics of
  a note with a harmonic at ``f`` lie;
* ``octave``: the mask at ``f / 2^k``, folded into the model's top octave;
* ``envelope-smooth``: ``envelope`` averaged over 5 frames (116 ms at any rate);
* ``envelope-sharp``: ``envelope``'s shares squared, then renormalised (the louder source
  takes more);
* ``tilt``: each source's power in the top octave extrapolated upward with its own spectral
  tilt (the ratio of its power in the top octave to that in the octave below), per bin.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from avsep.separation import fullband
from avsep.separation.fullband import Above, envelope, interp_axis
from avsep.signal import dsp

#: Frames averaged by ``envelope-smooth``.
SMOOTH_FRAMES = 5


def _share(weights: torch.Tensor, total: torch.Tensor, silent: torch.Tensor | None = None) -> torch.Tensor:
    """``total`` shared out over the sources (dim 1) in proportion to ``weights``; where no
    source weighs anything, ``silent`` (default: evenly)."""
    together = weights.sum(1, keepdim=True)
    silent = total / weights.shape[1] if silent is None else silent
    return torch.where(together > 1e-20, weights / together.clamp_min(1e-20) * total, silent)


def _smooth(x: torch.Tensor, frames: int = SMOOTH_FRAMES) -> torch.Tensor:
    flat = x.reshape(-1, 1, x.shape[-1])
    flat = F.avg_pool1d(F.pad(flat, (frames // 2, frames // 2), mode="replicate"), frames, 1)
    return flat.reshape(x.shape)


def harmonic(above: Above) -> torch.Tensor:
    positions = above.model_bin[above.inside :]
    first = torch.ceil(positions / (dsp.FREQ_BINS - 1))
    reads = [interp_axis(above.timed, positions / (first + k), 2) for k in (0, 1)]
    return ((reads[0] + reads[1]) / 2).unsqueeze(2)


def octave(above: Above) -> torch.Tensor:
    positions = above.model_bin[above.inside :]
    fold = torch.exp2(torch.ceil(torch.log2(positions / (dsp.FREQ_BINS - 1))))
    return interp_axis(above.timed, positions / fold, 2).unsqueeze(2)


def envelope_smooth(above: Above) -> torch.Tensor:
    return _smooth(envelope(above))


def envelope_sharp(above: Above) -> torch.Tensor:
    top = envelope(above)
    return _share(top.square(), top.sum(1, keepdim=True))


def tilt(above: Above) -> torch.Tensor:
    low, inside, model_bin = above.low, above.inside, above.model_bin
    top_octave = int((model_bin[:inside] < dsp.FREQ_BINS // 2).sum())
    below = int((model_bin[:inside] < dsp.FREQ_BINS // 4).sum())

    def estimate(bins: slice) -> torch.Tensor:  # [B, S, C, frames]
        return torch.einsum("bsft,bcft->bsct", low[:, :, 0, bins].square(), above.power(bins))

    upper, lower = estimate(slice(top_octave, inside)), estimate(slice(below, top_octave))
    per_octave = upper / lower.clamp_min(1e-20)
    octaves = torch.log2(model_bin[inside:] / ((dsp.FREQ_BINS - 1) / 2**0.5)).to(upper.dtype)
    guess = upper.unsqueeze(3) * per_octave.unsqueeze(3).pow(octaves[:, None])
    hold = above.hold()[:, :, None, None]
    return _share(guess, hold.sum(1, keepdim=True), hold)


CANDIDATES = {
    "harmonic": harmonic,
    "octave": octave,
    "envelope-smooth": envelope_smooth,
    "envelope-sharp": envelope_sharp,
    "tilt": tilt,
}


def register() -> tuple[str, ...]:
    """Make the candidates usable as ``extension`` in this process; returns their names."""
    fullband._EXTEND.update(CANDIDATES)
    fullband.EXTENSIONS = tuple(fullband._EXTEND)
    return tuple(CANDIDATES)
