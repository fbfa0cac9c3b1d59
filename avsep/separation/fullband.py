"""Full-band, per-channel output: the model's masks applied to the mixture at the output rate.

The network hears mono audio at 11,025 Hz, so its masks describe 0-5.5 kHz. Masking that mono
signal and resampling the result up would give outputs with nothing above 5.5 kHz and one
channel, whatever the video carries. Instead each box's mask (after the masks of all boxes were
combined, :func:`avsep.signal.dsp.combine_masks`) is applied to the STFT of the mixture itself, at the
output rate and for each channel:

* **the grid** (:class:`Grid`): a Hann window and hop scaled by ``rate / 11025`` (1022 and 256
  samples at the model rate; 4088 and 1024 at 44.1 kHz), so that output frame ``t`` covers the
  same moment as model frame ``t``. Where the ratio is not whole the hop is rounded and frames
  drift by a fraction of a frame per window; the mask is read between model frames and bins by
  linear interpolation either way. The FFT is the window zero-padded to the next length with
  no prime factor above 5 (4088 = 8 x 7 x 73 -> 4096; 4450 at 48 kHz = 2 x 25 x 89 -> 4500):
  a length with a large prime factor made the full-band transforms 1.4x slower. At the model's
  own rate the grid is the model's (1022). Output bin ``k`` is the frequency ``k * rate / n_fft``.
* **above 5.5 kHz** the model said nothing; an *extension* decides (measured in
  docs/results.md, "Full-band stems"):

  - ``hold``: each frame's mean mask over the model's top octave (2.76-5.51 kHz), held
    constant up to the output's Nyquist: a source owns the air above its own top octave;
  - ``envelope``: what ``hold`` gives all boxes together in a frame, shared out in proportion to
    each source's power in the top octave, estimated per channel as (mask x mixture)^2: a
    Wiener gain from the sources' envelopes, so the source loud up there owns the air above.

  Either way the boxes' masks above 5.5 kHz add up to what their top-octave masks add up to, so
  masks that sum to one over the boxes (ratio masks) still do, and the stems plus the residual
  give the mixture back per channel.

Windows stay those of :mod:`avsep.signal.chunking` (the model's), mapped onto the output rate: a
:class:`MixtureTap` keeps the decoded mixture from the first window still to be separated, and
:class:`Stitching` blends the windows' full-band outputs as :class:`~avsep.signal.chunking.Stitcher`
does, so memory stays flat in the video's length and the output is exactly as long as the input.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch

from avsep.io.audio import Resampler
from avsep.signal import dsp
from avsep.signal.chunking import Stitcher, Window, hop_for

#: The extension used unless asked otherwise: the best of those measured on held-out real
#: recordings, chosen on the val split (docs/results.md section 6, where harmonic-aligned,
#: smoothed, sharpened and spectral-tilt candidates lost or tied; benchmarks/fullband_candidates.py).
DEFAULT_EXTENSION = "envelope"

#: Samples added to the stitching buffer: windows mapped onto a rate that is not a whole multiple
#: of the model's start up to one sample later than a fixed hop would put them.
_SLACK = 2


def _at_rate(samples: int, rate: int) -> int:
    """``round(samples * rate / 11025)`` in exact integer arithmetic."""
    return (2 * samples * rate + dsp.SAMPLE_RATE) // (2 * dsp.SAMPLE_RATE)


@dataclass(frozen=True)
class Grid:
    """The output rate's STFT and window, matched to the model's."""

    rate: int
    #: the FFT length: the window zero-padded to a length with no prime factor above 5
    n_fft: int
    hop: int
    #: Samples of one model window at this rate, rounded up, plus one so that windows that just
    #: touch at the model rate (overlap 0) still touch after their starts are rounded.
    window: int
    #: the Hann window's length: the model's window scaled to the rate
    win: int

    @classmethod
    def for_rate(cls, rate: int) -> Grid:
        scale = rate / dsp.SAMPLE_RATE
        win = max(4, 2 * round(dsp.N_FFT / 2 * scale))
        hop = max(1, min(win // 2, round(dsp.HOP * scale)))
        n_fft = win if rate == dsp.SAMPLE_RATE else smooth_length(win)  # the model's own grid stays
        return cls(rate, n_fft, hop, math.ceil(dsp.WINDOW_SAMPLES * scale) + 1, win)

    def start(self, model_start: int) -> int:
        """First sample at this rate of the window starting at model sample ``model_start``."""
        return _at_rate(model_start, self.rate)


def smooth_length(n: int) -> int:
    """The smallest even length >= ``n`` with no prime factor above 5 (fast FFTs)."""
    m = n + n % 2
    while True:
        k = m
        for p in (2, 3, 5):
            while k % p == 0:
                k //= p
        if k == 1:
            return m
        m += 2


@lru_cache(maxsize=8)
def _hann(n: int, device: str) -> torch.Tensor:
    return torch.hann_window(n, device=device)


def interp_axis(x: torch.Tensor, positions: torch.Tensor, dim: int) -> torch.Tensor:
    """``x`` read at fractional ``positions`` along ``dim`` (linear; clamped to the ends)."""
    size = x.shape[dim]
    positions = positions.clamp(0, size - 1)
    lo = positions.floor().long()
    hi = (lo + 1).clamp(max=size - 1)
    shape = [1] * x.dim()
    shape[dim] = -1
    frac = (positions - lo).to(x.dtype).reshape(shape)
    return x.index_select(dim, lo) * (1 - frac) + x.index_select(dim, hi) * frac


@dataclass(frozen=True)
class Above:
    """What an extension above the model's 5.5 kHz reads: the masks on the output frames and on
    the output bins the model covers, the mixture's spectrum, and where each output bin lies."""

    timed: torch.Tensor  # [B, S, 512, frames]: model bins, output frames
    low: torch.Tensor  # [B, S, 1, inside, frames]: output bins up to 5.5 kHz (any channel)
    spec: torch.Tensor  # [B, C, n_fft/2 + 1, frames]: the mixture's STFT on the output grid
    model_bin: torch.Tensor  # [n_fft/2 + 1]: each output bin's position on the model's bins
    inside: int  # output bins the model covers

    def hold(self) -> torch.Tensor:
        """``[B, S, frames]``: each frame's mean mask over the model's top octave."""
        return self.timed[:, :, dsp.FREQ_BINS // 2 :].mean(2)

    def power(self, bins: slice) -> torch.Tensor:
        """``[B, C, bins, frames]``: the mixture's power in these output bins (only those: the
        whole grid's would cost a pass over every bin of every channel)."""
        return torch.view_as_real(self.spec[:, :, bins]).square().sum(-1)


def _hold(above: Above) -> torch.Tensor:
    return above.hold()[:, :, None, None]


def envelope(above: Above) -> torch.Tensor:
    # Each source's power in the top octave, estimated as (mask x mixture)^2, shares out what
    # "hold" gives all sources together: a Wiener gain from the sources' envelopes.
    low, inside = above.low, above.inside
    octave = slice(int((above.model_bin[:inside] < dsp.FREQ_BINS // 2).sum()), inside)
    estimate = torch.einsum("bsft,bcft->bsct", low[:, :, 0, octave].square(), above.power(octave))
    together = estimate.sum(1, keepdim=True)
    hold = above.hold()
    share = estimate / together.clamp_min(1e-20) * hold.sum(1)[:, None, None]
    return torch.where(together > 1e-20, share, hold[:, :, None]).unsqueeze(3)  # silence: hold


#: How masks are carried above the model's 5.5 kHz (see the module docstring): each extension
#: gives ``[B, S, 1 or C, 1 or bins above, frames]``.
_EXTEND = {"hold": _hold, "envelope": envelope}
EXTENSIONS = tuple(_EXTEND)


def _on_grid(
    masks: torch.Tensor, spec: torch.Tensor, grid: Grid, extension: str
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The masks on the output grid in two parts: ``[B, S, 1, inside, frames]`` up to 5.5 kHz,
    and the extension's ``[B, S, 1 or C, 1 or bins above, frames]`` above (None if the output
    rate reaches no higher than the model's)."""
    if extension not in EXTENSIONS:
        raise ValueError(f"extension must be one of {EXTENSIONS}, got {extension!r}")
    device = masks.device
    model_frame = torch.arange(spec.shape[-1], device=device, dtype=torch.float64) * (
        grid.hop * dsp.SAMPLE_RATE / (grid.rate * dsp.HOP)
    )
    timed = interp_axis(masks, model_frame, 3)  # [B, S, 512, frames]
    bins = grid.n_fft // 2 + 1
    model_bin = torch.arange(bins, device=device, dtype=torch.float64) * (
        grid.rate * dsp.N_FFT / (grid.n_fft * dsp.SAMPLE_RATE)
    )
    inside = int((model_bin <= dsp.FREQ_BINS - 1 + 1e-9).sum())
    low = interp_axis(timed, model_bin[:inside], 2).unsqueeze(2)  # [B, S, 1, inside, frames]
    if inside == bins:
        return low, None
    return low, _EXTEND[extension](Above(timed, low, spec, model_bin, inside))


def masks_on_grid(
    masks: torch.Tensor, spec: torch.Tensor, grid: Grid, extension: str = DEFAULT_EXTENSION
) -> torch.Tensor:
    """Model-grid masks ``[B, S, 512, T]`` on the output grid: ``[B, S, C, n_fft/2 + 1, frames]``,
    for the mixture's STFT ``spec`` ``[B, C, n_fft/2 + 1, frames]`` on that grid (which the
    ``envelope`` extension weighs the masks with)."""
    low, top = _on_grid(masks, spec, grid, extension)
    channels, bins = spec.shape[1], spec.shape[2]
    parts = [low.expand(-1, -1, channels, -1, -1)]
    if top is not None:
        parts.append(top.expand(-1, -1, channels, bins - low.shape[3], -1))
    return torch.cat(parts, 3)


def _masked(spec: torch.Tensor, low: torch.Tensor, top: torch.Tensor | None) -> torch.Tensor:
    """``[B, S, C, bins, frames]``: the mixture's STFT times each box's mask, written part by
    part (real and imaginary alike) so that no full-grid mask or complex copy of it is made."""
    b, c, bins, frames = spec.shape
    real = torch.view_as_real(spec).unsqueeze(1)  # [B, 1, C, bins, frames, 2]
    out = torch.empty((b, low.shape[1], c, bins, frames, 2), dtype=real.dtype, device=real.device)
    inside = low.shape[3]
    torch.mul(real[:, :, :, :inside], low.unsqueeze(-1), out=out[:, :, :, :inside])
    if top is not None:
        torch.mul(real[:, :, :, inside:], top.unsqueeze(-1), out=out[:, :, :, inside:])
    return torch.view_as_complex(out)


#: Largest distance from 1 of the boxes' masks summed, in any bin, that counts as sharing it all.
SHARED_ALL = 1e-5


def _last_is_the_rest(low: torch.Tensor, top: torch.Tensor | None) -> bool:
    """Whether the boxes' masks ``[B, S, ...]`` (both parts of :func:`_on_grid`) divide every
    bin among them (``--mask ratio``, the default, does) and the last box has a share somewhere:
    then its samples are the mixture minus the others' (the inverse STFT is linear and the Hann
    STFT inverts exactly), one inverse STFT fewer; measured on the bundled example, within
    1.2e-7 of its own. A box with no share at all is left to its own inverse STFT, which makes
    it exactly silent (and reported so), not 1e-7 of rounding."""
    parts = [low] if top is None else [low, top]
    spread = torch.stack([(part.sum(1) - 1).abs().amax() for part in parts]).max()
    last = torch.stack([part[:, -1].amax() for part in parts]).max()
    return float(spread) <= SHARED_ALL and float(last) > SHARED_ALL


def apply_masks(
    masks: torch.Tensor,
    mixture: torch.Tensor,
    grid: Grid,
    residual: bool = False,
    extension: str = DEFAULT_EXTENSION,
) -> torch.Tensor:
    """Per-box, per-channel waveforms ``[B, S(+1), C, L]`` from combined model-grid masks
    ``[B, S, 512, T]`` and the windows' mixture at the output rate ``[B, C, L]``.

    With ``residual`` a last row holds the mixture minus the sum of the boxes' outputs. Where
    the masks share every bin out (:func:`_last_is_the_rest`), the last box is computed so.
    Windows go one at a time, and each other output row through its own inverse STFT: at 48 kHz a
    window's spectra for two boxes and two channels are about 100 MB, and the inverse STFT's
    frames several times that, so batching them would hold hundreds of MB more at the peak
    (issue 30); each row is independent, so the samples are the same.
    """
    if mixture.shape[0] > 1:
        return torch.cat(
            [
                apply_masks(masks[i : i + 1], mixture[i : i + 1], grid, residual, extension)
                for i in range(mixture.shape[0])
            ]
        )
    b, c, length = mixture.shape
    s = masks.shape[1]
    window = _hann(grid.win, str(mixture.device))
    spec = torch.stft(
        mixture.reshape(b * c, length),
        grid.n_fft,
        grid.hop,
        win_length=grid.win,
        window=window,
        center=True,
        return_complex=True,
    ).reshape(b, c, grid.n_fft // 2 + 1, -1)
    low, top = _on_grid(masks.to(torch.float32), spec, grid, extension)
    last = s > 1 and _last_is_the_rest(low, top)  # then the last box is what the others leave
    if last:
        low, top = low[:, :-1], None if top is None else top[:, :-1]
    masked = _masked(spec, low, top).reshape(b * (s - last) * c, *spec.shape[2:])
    rows = [
        torch.istft(row, grid.n_fft, grid.hop, win_length=grid.win, window=window, center=True, length=length)
        for row in masked
    ]
    out = torch.stack(rows).reshape(b, s - last, c, length)
    if last:
        out = torch.cat([out, (mixture - out.sum(1)).unsqueeze(1)], 1)
    if residual:
        out = torch.cat([out, (mixture - out.sum(1)).unsqueeze(1)], 1)
    return out


class MixtureTap:
    """The decoded mixture at the output rate, ``channels`` channels, kept from the first window
    still to be separated to what has been decoded.

    :meth:`push` is fed each decoded piece (``[n, channels]`` at the file's rate; ``None`` at the
    end) while the model-rate stream is cut into windows; :meth:`segments` hands out the windows'
    samples and :meth:`release` drops what no later window needs. A piece with another channel
    count (``channels=1``: the downmix; a stream whose layout changes) is averaged and spread.
    """

    def __init__(self, rate: int, channels: int) -> None:
        self.grid = Grid.for_rate(rate)
        self.channels = max(1, channels)
        self.complete = False
        self._resamplers: list[Resampler] = []
        self._pieces: list[np.ndarray] = []  # [C, n] runs, joined on demand
        self._origin = 0  # output-rate index of the first kept sample
        self._end = 0  # one past the last sample pushed

    def push(self, piece: np.ndarray | None, rate: int) -> None:
        if not self._resamplers:
            self._resamplers = [Resampler(rate, self.grid.rate) for _ in range(self.channels)]
        if piece is None:
            self._append([r.flush() for r in self._resamplers])
            self.complete = True
            return
        piece = np.asarray(piece, np.float32)
        if piece.shape[1] != self.channels:
            mean = piece[:, 0] if piece.shape[1] == 1 else piece.mean(axis=1, dtype=np.float32)
            piece = np.repeat(mean[:, None], self.channels, axis=1)
        columns = np.ascontiguousarray(piece.T)  # the resampler takes contiguous mono runs
        self._append([r.push(column) for r, column in zip(self._resamplers, columns)])

    def _append(self, columns: list[np.ndarray]) -> None:
        if columns and len(columns[0]):
            self._pieces.append(np.stack(columns))
            self._end += len(columns[0])

    @property
    def end(self) -> int:
        """Samples pushed so far (the whole length once :attr:`complete`)."""
        return self._end

    def _kept(self) -> np.ndarray:
        if len(self._pieces) != 1:
            joined = np.concatenate(self._pieces, axis=1) if self._pieces else np.zeros((self.channels, 0), np.float32)
            self._pieces = [joined]
        return self._pieces[0]

    def segments(self, model_starts: list[int]) -> np.ndarray:
        """``[B, C, window]`` samples of the windows starting at these model samples, with
        zeros past the end."""
        kept = self._kept()
        out = np.zeros((len(model_starts), self.channels, self.grid.window), np.float32)
        for i, start in enumerate(model_starts):
            lo = self.grid.start(start) - self._origin
            piece = kept[:, lo : lo + self.grid.window]
            out[i, :, : piece.shape[1]] = piece
        return out

    def release(self, model_start: int) -> None:
        """Drop the samples before the window starting at model sample ``model_start``."""
        cut = min(self.grid.start(model_start), self._end) - self._origin
        if cut > 0:
            self._pieces = [self._kept()[:, cut:]]
            self._origin += cut


class Stitching:
    """Blends windows' full-band outputs ``[rows, C, window]`` into finished ``[rows, C, n]``
    runs at the output rate, the way :class:`~avsep.signal.chunking.Stitcher` does at the model rate,
    and lets the tap drop what the next window no longer needs."""

    def __init__(self, tap: MixtureTap, rows: int, overlap: float) -> None:
        self.tap = tap
        self.rows = rows
        self.model_hop = hop_for(overlap)
        grid = tap.grid
        hop = max(1, self.model_hop * grid.rate // dsp.SAMPLE_RATE)  # floor: never emits too early
        self._stitcher = Stitcher(rows * tap.channels, overlap, grid.window, hop=hop, slack=_SLACK)

    def add(self, win: Window, outputs: np.ndarray, end: int) -> np.ndarray:
        """``win``'s outputs, stitched; ``end``: the tap's :attr:`~MixtureTap.end` when the
        window's batch was read (:func:`avsep.separation.pipeline.batches`)."""
        grid = self.tap.grid
        start = grid.start(win.start)
        valid = max(0, min(grid.window, end - start))
        at_rate = Window(win.index, start, valid, np.zeros(0, np.float32))
        block = self._stitcher.add(at_rate, outputs.reshape(-1, grid.window))
        self.tap.release(win.start + self.model_hop)
        return self._rows(block)

    def finish(self) -> np.ndarray:
        return self._rows(self._stitcher.finish())

    def _rows(self, block: np.ndarray) -> np.ndarray:
        return block.reshape(self.rows, self.tap.channels, -1)
