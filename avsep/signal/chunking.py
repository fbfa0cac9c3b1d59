"""Long signals through a fixed-size model: overlapping windows and seamless stitching.

The networks see windows of 65535 samples (5.9 s at 11025 Hz). A video of any length is covered
by windows that overlap by a fraction ``overlap``; each window's separated outputs are blended
with a normalised weighted overlap-add whose weights ramp with a raised cosine across the
overlap and never reach zero, so an identity mask reproduces the input exactly, with no seams.

Both halves stream: :class:`Windower` holds at most one window of input, :class:`Stitcher` at
most one window of output per source, so memory does not grow with the video's length.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from avsep.options import DEFAULT_OVERLAP
from avsep.signal.dsp import HOP as STFT_HOP
from avsep.signal.dsp import SAMPLE_RATE, WINDOW_SAMPLES

#: Seconds, relative to a window's centre, of the 3 frames that guide it. Spread over half the
#: window so a player who moves is still seen, and shared with training so both see the same.
FRAME_OFFSETS = (-1.5, 0.0, 1.5)
#: A guide frame may be the keyframe shown this close to its time instead (a keyframe decodes
#: alone: :meth:`avsep.io.video.FrameReader.frames_and_times_at`); a third of the frames'
#: spacing, so the 3 frames stay 3 distinct moments around the centre.
GUIDE_SNAP_S = 0.5


def hop_for(overlap: float, window: int = WINDOW_SAMPLES) -> int:
    """Window hop in samples for an overlap fraction in [0, 0.9].

    With any overlap the hop is a whole number of STFT hops (256 samples; 49152 rather than
    49151 at the default 0.25), so the STFT frames of all windows lie on one grid: where two
    windows overlap they analyse the very same frames, and with a model of limited temporal
    context the stitched result equals one pass over the whole signal (tests/test_seams.py).
    Off the grid, the frames of consecutive windows differ by a fraction of a hop and so do their
    masks. Overlap 0 keeps hop = window: windows that just touch, joined by hard cuts.
    """
    if not 0.0 <= overlap <= 0.9:
        raise ValueError(f"overlap must be between 0 and 0.9, got {overlap}")
    hop = max(1, round(window * (1.0 - overlap)))
    if overlap > 0 and window > STFT_HOP:
        # Nearest multiple of the STFT hop that still leaves an overlap.
        hop = min(max(STFT_HOP, round(hop / STFT_HOP) * STFT_HOP), (window - 1) // STFT_HOP * STFT_HOP)
    return hop


@dataclass
class Window:
    index: int
    start: int  # first sample, in model-rate samples from the start of the audio
    valid: int  # samples of real audio in the window (the rest is zero padding)
    audio: np.ndarray  # [window] float32

    def frame_times(self, sample_rate: int = SAMPLE_RATE) -> list[float]:
        """Times (s) of the guide frames: around the centre of the window's real audio."""
        centre = (self.start + self.valid / 2) / sample_rate
        return [max(0.0, centre + off) for off in FRAME_OFFSETS]


class Windower:
    """Cuts a stream of sample blocks into overlapping, zero-padded windows."""

    def __init__(self, overlap: float = DEFAULT_OVERLAP, window: int = WINDOW_SAMPLES) -> None:
        self.window = window
        self.hop = hop_for(overlap, window)

    def __call__(self, blocks: Iterable[np.ndarray]) -> Iterator[Window]:
        buf = np.zeros(0, dtype=np.float32)
        start = 0  # absolute sample index of buf[0]
        index = 0
        for block in blocks:
            buf = np.concatenate([buf, np.asarray(block, dtype=np.float32)])
            while buf.shape[0] >= self.window:
                yield Window(index, start, self.window, buf[: self.window].copy())
                buf = buf[self.hop :]
                start += self.hop
                index += 1
        while covers_more(index, buf.shape[0], self.window, self.hop):
            valid = min(buf.shape[0], self.window)
            audio = np.zeros(self.window, dtype=np.float32)
            audio[:valid] = buf[:valid]
            yield Window(index, start, valid, audio)
            buf = buf[self.hop :]
            start += self.hop
            index += 1


def window_spans(
    num_samples: int, overlap: float = DEFAULT_OVERLAP, window: int = WINDOW_SAMPLES
) -> list[tuple[int, int]]:
    """``(start, valid)`` of every window :class:`Windower` cuts ``num_samples`` into, without
    the audio: what a pass over the picture needs to look at the same frames the separation
    will (:meth:`Window.frame_times`)."""
    hop = hop_for(overlap, window)
    spans: list[tuple[int, int]] = []
    start = 0
    while covers_more(len(spans), num_samples - start, window, hop):
        spans.append((start, max(0, min(num_samples - start, window))))
        start += hop
    return spans


def covers_more(cut: int, remaining: int, window: int, hop: int) -> bool:
    """The one rule of how many windows cover a signal: after ``cut`` windows, with ``remaining``
    samples from the next window's start, another window is needed while real audio lies past
    the part the next window shares with the last one (and always at least one window)."""
    return cut == 0 or remaining > window - hop


def num_windows(duration: float, overlap: float = DEFAULT_OVERLAP, window: int = WINDOW_SAMPLES) -> int:
    """How many windows a ``duration``-second signal is cut into (for progress bars)."""
    return len(window_spans(int(round(duration * SAMPLE_RATE)), overlap, window))


def blend_weights(window: int, hop: int) -> np.ndarray:
    """Per-sample weight of one window: raised-cosine ramps over the overlap, strictly > 0."""
    w = np.ones(window, dtype=np.float64)
    overlap = window - hop
    if overlap > 0:
        ramp = 0.5 - 0.5 * np.cos(np.pi * (np.arange(overlap) + 0.5) / overlap)
        w[:overlap] = ramp
        w[window - overlap :] = ramp[::-1]
    return w


class Stitcher:
    """Blends per-window outputs ``[S, window]`` into finished sample runs ``[S, n]``.

    ``add`` takes windows in order and returns the samples that no later window can touch;
    ``finish`` returns the rest, trimmed to the real audio's length. ``hop`` and ``slack`` serve
    windows mapped onto another rate (:mod:`avsep.separation.fullband`), whose starts are rounded: ``hop``
    is then the smallest distance between two starts, and a start may fall up to ``slack``
    samples later than ``hop`` says.
    """

    def __init__(
        self,
        sources: int,
        overlap: float = DEFAULT_OVERLAP,
        window: int = WINDOW_SAMPLES,
        hop: int | None = None,
        slack: int = 0,
    ) -> None:
        self.window = window
        self.hop = hop_for(overlap, window) if hop is None else hop
        self.weights = blend_weights(window, self.hop)
        self.acc = np.zeros((sources, window + slack), dtype=np.float64)
        self.wsum = np.zeros(window + slack, dtype=np.float64)
        self.origin = 0  # absolute sample index of acc[:, 0]
        self.end = 0  # one past the last real sample seen

    def add(self, win: Window, outputs: np.ndarray) -> np.ndarray:
        offset = win.start - self.origin
        self.acc[:, offset : offset + self.window] += outputs * self.weights
        self.wsum[offset : offset + self.window] += self.weights
        self.end = max(self.end, win.start + win.valid)
        return self._emit(win.start + self.hop - self.origin)

    def _emit(self, upto: int) -> np.ndarray:
        upto = max(0, min(upto, self.end - self.origin))
        out = (self.acc[:, :upto] / self.wsum[:upto]).astype(np.float32)
        if upto:  # shift the buffers so that acc[:, 0] is the first unfinished sample
            self.acc = np.roll(self.acc, -upto, axis=1)
            self.acc[:, -upto:] = 0.0
            self.wsum = np.roll(self.wsum, -upto)
            self.wsum[-upto:] = 0.0
        self.origin += upto
        return out

    def finish(self) -> np.ndarray:
        return self._emit(self.end - self.origin)
