"""Decoded audio as mono float32 at the model rate, streamed in fixed-size blocks.

Inputs can be hours long, so :func:`stream_audio` never holds more than a block or two: frames
are decoded, converted, averaged to mono and resampled one at a time. Lengths are exact
(``round(n * out / in)`` samples) because the separation pipeline maps sample positions back to
the input rate and to video times; see :class:`Resampler`.

Samples follow the shared timeline of :mod:`avsep.io.media`: sample ``i`` plays at
``i / sample_rate`` seconds after the container start. Audio that starts late, or that has a
hole (a damaged packet skipped, a recording gap), is padded with silence so it stays in sync
with :class:`avsep.io.video.FrameReader` times.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from itertools import chain
from pathlib import Path

import av
import numpy as np

from avsep.errors import InputError
from avsep.io.media import MediaInfo, container_origin, decode_frames, open_input, probe, warn_if_short
from avsep.timing import stage

#: The separation model's sample rate.
MODEL_SR = 11025

#: Timestamp jumps shorter than this (seconds) are jitter from rounded time bases, not gaps.
_GAP_TOLERANCE_S = 0.01

#: Silence for gaps is produced in pieces of at most this many seconds, so a long gap does not
#: allocate a long array.
_GAP_PIECE_S = 1.0

#: Seconds decoded (and dropped) before a ``--start`` range: a decoder that starts cold after a
#: seek gets its first frame wrong (AAC's overlap with the frame before), this much earlier it
#: is warm by the range's start.
_PREROLL_S = 0.25

#: Decoded samples (per channel) gathered before downmixing and resampling: a few hundred
#: milliseconds, so memory stays negligible while the per-call overheads are paid 16x less often.
_COALESCE = 16384


def _round_ratio(n: int, num: int, den: int) -> int:
    """``round(n * num / den)`` in exact integer arithmetic (halves round up)."""
    return (2 * n * num + den) // (2 * den)


class Resampler:
    """Streaming mono float32 resampler whose total output is exactly ``round(n_in * out / in)``.

    FFmpeg's resampler (``av.AudioResampler``) is stateful, so block boundaries leave no
    clicks, but its total length can differ from the ideal by its filter delay. A few output
    samples are held back on every :meth:`push` so that :meth:`flush` can trim or zero-pad the
    tail to the exact length. After :meth:`flush` the instance starts over for a new signal.
    """

    #: Output samples held back per push; larger than swresample's rounding slack.
    _HOLD = 32

    def __init__(self, in_rate: int, out_rate: int) -> None:
        if in_rate <= 0 or out_rate <= 0:
            raise ValueError(f"sample rates must be positive, got {in_rate} -> {out_rate}")
        self.in_rate = int(in_rate)
        self.out_rate = int(out_rate)
        self._start()

    def _start(self) -> None:
        same = self.in_rate == self.out_rate
        self._av = None if same else av.AudioResampler(format="flt", layout="mono", rate=self.out_rate)
        self._n_in = 0
        self._n_out = 0
        self._pending = np.zeros(0, np.float32)

    def push(self, x: np.ndarray) -> np.ndarray:
        """Resample the next piece of a mono signal; returns what is ready (may be empty)."""
        x = np.ascontiguousarray(x, dtype=np.float32)  # a channel's column: FFmpeg needs it packed
        if x.ndim != 1:
            raise ValueError(f"Resampler takes mono 1-D samples, got shape {x.shape}")
        self._n_in += len(x)
        ready = np.concatenate([self._pending, self._convert(x)])
        keep = min(len(ready), self._HOLD)
        self._pending = ready[len(ready) - keep :]
        out = ready[: len(ready) - keep]
        self._n_out += len(out)
        return out

    def flush(self) -> np.ndarray:
        """The rest of the signal, trimmed or zero-padded to the exact total length."""
        tail = np.concatenate([self._pending, self._convert(None)])
        want = _round_ratio(self._n_in, self.out_rate, self.in_rate) - self._n_out
        if len(tail) >= want:
            tail = tail[: max(want, 0)]
        else:
            tail = np.concatenate([tail, np.zeros(want - len(tail), np.float32)])
        self._start()
        return tail

    def _convert(self, x: np.ndarray | None) -> np.ndarray:
        """Run FFmpeg's resampler on ``x`` (None drains its delay line)."""
        if self._av is None:
            return np.zeros(0, np.float32) if x is None else x.copy()
        if x is not None and len(x) == 0:
            return np.zeros(0, np.float32)
        frame = None
        if x is not None:
            frame = av.AudioFrame.from_ndarray(x[None, :], format="flt", layout="mono")
            frame.sample_rate = self.in_rate
        outs = [o.to_ndarray().reshape(-1) for o in self._av.resample(frame)]
        return np.concatenate(outs) if outs else np.zeros(0, np.float32)


def resample_stream(rows: Iterable[np.ndarray], in_rate: int, out_rate: int) -> Iterator[np.ndarray]:
    """Streams ``[R, n]`` blocks from ``in_rate`` to ``out_rate``, one resampler per row."""
    if in_rate == out_rate:
        yield from (r for r in rows if r.shape[1])
        return
    resamplers: list[Resampler] = []
    for block in rows:
        if not resamplers:
            resamplers = [Resampler(in_rate, out_rate) for _ in range(block.shape[0])]
        if block.shape[1]:
            with stage("resample out"):
                out = _stack_ragged([r.push(row) for r, row in zip(resamplers, block)])
            yield out
    if resamplers:
        with stage("resample out"):
            out = _stack_ragged([r.flush() for r in resamplers])
        yield out


def _stack_ragged(rows: list[np.ndarray]) -> np.ndarray:
    """Rows from independent resamplers of identical input agree in length; guard anyway."""
    n = min(r.shape[0] for r in rows)
    return np.stack([r[:n] for r in rows])


def resample_rows(x: np.ndarray, in_rate: int, out_rate: int, length: int) -> np.ndarray:
    """Rows ``[R, n]`` at ``in_rate`` -> ``[R, length]`` at ``out_rate`` (padded or cut to it)."""
    out = np.concatenate(list(resample_stream([x], in_rate, out_rate)), axis=1)
    if out.shape[1] < length:
        out = np.pad(out, ((0, 0), (0, length - out.shape[1])))
    return out[:, :length]


class _NativeAudio:
    """One audio stream decoded at its native rate as float32 ``[n, channels]`` pieces.

    The first frame is decoded on construction: bad input then fails at the call site rather
    than on first iteration, and the true rate is known (HE-AAC decodes at twice the rate its
    header announces).
    """

    def __init__(self, source: str | Path | MediaInfo, audio_stream: int | None = None) -> None:
        media = source if isinstance(source, MediaInfo) else probe(source, audio_stream=audio_stream)
        if media.audio is None:
            raise InputError(f"{media.path}: no audio stream; avsep needs a video with sound (see --audio-stream)")
        self.path = media.path
        self._container = open_input(media.path)
        stream = next(s for s in self._container.streams if s.index == media.audio.index)
        self._start = media.start
        self._origin = container_origin(self._container) + media.start  # a --start range's time 0
        if media.start > 0:
            _seek(self._container, stream, self._origin - _PREROLL_S)
        self._frames = decode_frames(self._container, stream)
        first = next(self._frames, None)
        if first is None:
            self._container.close()
            raise InputError(
                f"{self.path}: the audio stream could not be decoded; check that the file plays in a media player"
            )
        self._first = first
        self.rate: int = first.sample_rate
        # What the container says (checked at the end); in a range, up to its end from its start.
        ends = [t for t in (media.audio.duration, media.end) if t is not None]
        self._declared = min(ends) - media.start if ends else None
        self._limit = None if media.end is None else round(media.duration * self.rate)

    def pieces(self) -> Iterator[np.ndarray]:
        """Decode to the end (closing the file), filling timestamp gaps with silence; in a range,
        from its start (what decodes before it is dropped) to its end (decoding stops there)."""
        try:
            cursor = _Cursor(self._limit)
            normaliser = None
            signature = None
            for frame in chain([self._first], self._frames):
                # Convert every frame to packed float at the first frame's rate: one code path
                # for any sample format, and PyAV 18 cannot export planar audio of 8+ channels.
                current = (frame.format.name, frame.layout.name, frame.sample_rate)
                if current != signature:
                    if normaliser is not None:
                        yield from cursor.kept(_unpack(normaliser.resample(None)))
                    normaliser = av.AudioResampler(format="flt", layout=frame.layout, rate=self.rate)
                    signature = current
                if frame.time is not None:
                    position = round((frame.time - self._origin) * self.rate)
                    cursor.begin(position)
                    gap = position - cursor.at
                    if gap > _GAP_TOLERANCE_S * self.rate:
                        channels = frame.layout.nb_channels
                        yield from cursor.kept(_silence(gap, channels, int(_GAP_PIECE_S * self.rate)))
                cursor.begin(0)
                yield from cursor.kept(_unpack(normaliser.resample(frame)))
                if cursor.done:
                    return  # the range's end: nothing after it is decoded
            yield from cursor.kept(_unpack(normaliser.resample(None)))
            if self._start > 0 and cursor.at <= 0:  # the container did not say where the audio ends
                raise InputError(
                    f"{self.path}: the audio track ends before the range's start ({self._start:g} s), so the range "
                    "holds no sound; start it earlier"
                )
            warn_if_short(self.path, "audio", max(cursor.at, 0) / self.rate, self._declared)
        finally:
            self._container.close()


class _Cursor:
    """Where the next decoded sample lies on the timeline (samples from its time 0), and what of
    each piece is kept: nothing before 0 (a range starts inside a frame), nothing from ``limit``
    on (the range's end)."""

    def __init__(self, limit: int | None) -> None:
        self.at: int | None = None
        self.limit = limit

    def begin(self, position: int) -> None:
        """The first sample's position: before 0 it is dropped; after 0, silence leads up to it."""
        if self.at is None:
            self.at = min(position, 0)

    @property
    def done(self) -> bool:
        return self.limit is not None and self.at is not None and self.at >= self.limit

    def kept(self, pieces: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
        """The part of each piece inside ``[0, limit)``, advancing the position."""
        for piece in pieces:
            start, self.at = self.at, self.at + len(piece)
            stop = len(piece) if self.limit is None else min(len(piece), self.limit - start)
            if stop > max(0, -start):
                yield piece[max(0, -start) : stop]


def _seek(container: av.container.InputContainer, stream: av.stream.Stream, seconds: float) -> None:
    """Seek ``stream`` to the last point at or before ``seconds`` of the file; an input that
    cannot seek is decoded from its start instead (what comes before is dropped all the same)."""
    try:
        container.seek(int(seconds / stream.time_base), stream=stream, backward=True)
    except (av.error.FFmpegError, OSError, ValueError):
        pass


def _unpack(frames: Iterable[av.AudioFrame]) -> Iterator[np.ndarray]:
    for frame in frames:
        yield frame.to_ndarray().reshape(-1, frame.layout.nb_channels)


def _silence(n: int, channels: int, piece: int) -> Iterator[np.ndarray]:
    for start in range(0, n, piece):
        yield np.zeros((min(piece, n - start), channels), np.float32)


def _coalesce(pieces: Iterable[np.ndarray], at_least: int) -> Iterator[np.ndarray]:
    """Join consecutive ``[n, channels]`` pieces into runs of at least ``at_least`` samples.

    Decoders hand out about 1024 samples per frame; the per-piece overhead of downmixing and
    resampling that many small arrays cost more than the work itself (benchmarks/README.md).
    A change of channel count ends a run, so every run has one shape.
    """
    run: list[np.ndarray] = []
    count = 0
    for piece in pieces:
        if run and piece.shape[1] != run[0].shape[1]:
            yield run[0] if len(run) == 1 else np.concatenate(run)
            run, count = [], 0
        run.append(piece)
        count += len(piece)
        if count >= at_least:
            yield run[0] if len(run) == 1 else np.concatenate(run)
            run, count = [], 0
    if run:
        yield run[0] if len(run) == 1 else np.concatenate(run)


def _mono(pieces: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
    """Average all channels, whatever their number: every channel counts equally, unlike
    FFmpeg's standard downmix matrices which weight or drop channels (LFE, surrounds)."""
    for piece in pieces:
        if piece.shape[1] == 1:
            yield piece[:, 0]
        elif piece.shape[1] == 2:
            # Bit-identical to mean(axis=1, dtype=float32) for two channels, several times faster.
            yield (piece[:, 0] + piece[:, 1]) * np.float32(0.5)
        else:
            yield piece.mean(axis=1, dtype=np.float32)


def _resampled(pieces: Iterable[np.ndarray], in_rate: int, out_rate: int) -> Iterator[np.ndarray]:
    resampler = Resampler(in_rate, out_rate)
    for piece in pieces:
        with stage("resample in"):
            out = resampler.push(piece)
        yield out
    with stage("resample in"):
        out = resampler.flush()
    yield out


def _tee(pieces: Iterable[np.ndarray], see: Callable[[np.ndarray | None], None]) -> Iterator[np.ndarray]:
    """Pass ``pieces`` on, showing each to ``see`` first and ``None`` after the last."""
    for piece in pieces:
        see(piece)
        yield piece
    see(None)


def _reblock(pieces: Iterable[np.ndarray], block: int) -> Iterator[np.ndarray]:
    """Regroup into blocks of exactly ``block`` samples; only the last may be shorter."""
    buffered: list[np.ndarray] = []
    count = 0
    for piece in pieces:
        if not len(piece):
            continue
        buffered.append(piece)
        count += len(piece)
        if count >= block:
            data = np.concatenate(buffered)
            whole = count - count % block
            for start in range(0, whole, block):
                yield data[start : start + block]
            buffered = [data[whole:]] if whole < count else []
            count -= whole
    if count:
        yield np.concatenate(buffered)


def stream_audio(
    source: str | Path | MediaInfo,
    sample_rate: int = MODEL_SR,
    audio_stream: int | None = None,
    block: int = 65536,
    *,
    on_native: Callable[[np.ndarray | None, int], None] | None = None,
) -> Iterator[np.ndarray]:
    """Mono float32 blocks of exactly ``block`` samples at ``sample_rate``; the last may be shorter.

    The file is probed and opened before this returns, so a bad input raises
    :class:`InputError` here rather than at the first ``next()``. Memory use does not depend on
    the file's length. A cut file yields what decodes; it is an error only if nothing does.
    ``source`` is the file's :func:`probe` result (its stream already chosen), or a path to
    probe here with ``audio_stream``.
    ``on_native(piece, rate)`` sees every decoded piece (``[n, channels]`` float32 at the file's
    own rate) before it is downmixed, then ``None`` at the end: the full-band path keeps the
    channels from the same single decode (:class:`avsep.separation.fullband.MixtureTap`).
    """
    if block <= 0:
        raise ValueError(f"block must be positive, got {block}")
    native = _NativeAudio(source, audio_stream)
    pieces = _coalesce(native.pieces(), _COALESCE)
    if on_native is not None:
        pieces = _tee(pieces, lambda piece: on_native(piece, native.rate))
    return _reblock(_resampled(_mono(pieces), native.rate, sample_rate), block)


def load_audio(
    path: str | Path,
    sample_rate: int | None = None,
    audio_stream: int | None = None,
    mono: bool = True,
) -> tuple[np.ndarray, int]:
    """The whole stream as float32 ``[n]`` (mono) or ``[n, channels]``, and its rate.

    ``sample_rate=None`` keeps the native rate. Reads anything FFmpeg reads, plain WAV included.
    Meant for short files (evaluation references, tests); use :func:`stream_audio` otherwise.
    """
    source = _NativeAudio(path, audio_stream)
    rate = sample_rate or source.rate
    if mono:
        pieces = list(_resampled(_mono(_coalesce(source.pieces(), _COALESCE)), source.rate, rate))
        return np.concatenate(pieces), rate
    native = list(source.pieces())
    channels = {piece.shape[1] for piece in native}
    if len(channels) != 1:
        raise InputError(f"{source.path}: the channel count changes mid-stream ({sorted(channels)}); load it as mono")
    data = np.concatenate(native)
    columns = [np.concatenate(list(_resampled([data[:, c]], source.rate, rate))) for c in range(data.shape[1])]
    return np.stack(columns, axis=1), rate
