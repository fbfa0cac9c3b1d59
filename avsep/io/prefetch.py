"""A video's sound decoded on a worker thread while its players are being found.

Automatic mode runs the player finder before the separation, and the finder leaves part of a
core idle (issue 30: it runs at 1.4-1.6 of 2 cores). The separation's first step needs nothing
the finder finds: the sound, decoded, downmixed and resampled (:func:`~avsep.io.audio.stream_audio`,
a quarter of a second for two minutes of 48 kHz stereo AAC). :class:`AudioAhead` runs that
stream on a worker thread from the moment the finder starts, up to :data:`AHEAD_BYTES`, and
hands the separation what it decoded, then the rest of the same stream, decoded as it is read:
the same blocks in the same order, and the same pieces at the file's own rate for the
full-band path, so the outputs are the same bytes. Memory stays bounded for any length.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterator

import numpy as np

from avsep.io.audio import stream_audio
from avsep.io.ffmpeg_log import log_routed
from avsep.io.media import MediaInfo

#: At most this many bytes decoded ahead (blocks, and native pieces when they are kept): about
#: 2.5 minutes of 48 kHz stereo with its 11025 Hz mono blocks; a longer video decodes the rest
#: as the separation reads it.
AHEAD_BYTES = 64 * 2**20

#: what the full-band path is told of each native piece (``stream_audio``'s ``on_native``)
OnNative = Callable[[np.ndarray | None, int], None]


class AudioAhead:
    """:func:`~avsep.io.audio.stream_audio` of ``media`` at ``sample_rate``, started now on a
    worker thread; ``keep_native``: record the native pieces too (the full-band path reads them).
    :meth:`blocks` hands it over, once."""

    def __init__(self, media: MediaInfo, sample_rate: int, keep_native: bool, budget: int = AHEAD_BYTES) -> None:
        self.media, self.sample_rate, self.keep_native = media, sample_rate, keep_native
        self._budget = budget
        self._held = 0
        self._events: deque[tuple[np.ndarray | None, int | None]] = deque()  # (piece, rate) or (block, None)
        self._sink: OnNative | None = self._record if keep_native else None
        self._stream: Iterator[np.ndarray] | None = None
        self._error: BaseException | None = None
        self._stop = False  # the separation is reading: the worker leaves the rest to it
        self._worker = threading.Thread(target=self._run, name="avsep-audio-ahead", daemon=True)
        self._worker.start()

    @classmethod
    def start(cls, media: MediaInfo, sample_rate: int, keep_native: bool) -> AudioAhead | None:
        """One started, or None where a second thread must not decode: FFmpeg's log routed
        through Python (``--debug``), where a decoder logging while another thread frees a
        codec could deadlock (:mod:`avsep.io.ffmpeg_log`)."""
        return None if log_routed() else cls(media, sample_rate, keep_native)

    def _record(self, piece: np.ndarray | None, rate: int) -> None:
        self._events.append((piece, rate))
        self._held += 0 if piece is None else piece.nbytes

    def _native(self, piece: np.ndarray | None, rate: int) -> None:
        if self._sink is not None:
            self._sink(piece, rate)

    def _run(self) -> None:
        on_native = self._native if self.keep_native else None
        try:
            self._stream = stream_audio(self.media, self.sample_rate, on_native=on_native)
            while self._held < self._budget and not self._stop:
                block = next(self._stream, None)
                if block is None:
                    self._stream = None
                    return
                self._events.append((block, None))
                self._held += block.nbytes
        except Exception as exc:  # raised where the separation reads the sound, as without this
            self._error, self._stream = exc, None

    def blocks(self, on_native: OnNative | None) -> Iterator[np.ndarray]:
        """The stream's blocks (``on_native`` told of each native piece, in order), as
        :func:`~avsep.io.audio.stream_audio` would give them; the worker stops at its next block."""
        self._stop = True
        self._worker.join()
        while self._events:  # each let go once handed on
            data, rate = self._events.popleft()
            if rate is None:
                yield data
            elif on_native is not None:
                on_native(data, rate)
        if self._error is not None:
            raise self._error
        if self._stream is not None:
            self._sink = on_native
            yield from self._stream


def audio_blocks(
    ahead: AudioAhead | None, media: MediaInfo, sample_rate: int, on_native: OnNative | None
) -> Iterator[np.ndarray]:
    """``media``'s sound as :func:`~avsep.io.audio.stream_audio` gives it: from ``ahead`` when
    it was started for this very probe and rate (keeping the native pieces if they are
    wanted), else decoded now."""
    if ahead is not None and ahead.media is media and ahead.sample_rate == sample_rate:
        if ahead.keep_native or on_native is None:
            return ahead.blocks(on_native)
    return stream_audio(media, sample_rate, on_native=on_native)
