"""FLAC output (``--format flac`` / ``flac24``), with the guarantees of :mod:`avsep.io.wav`.

A concert's stems are long; FLAC halves them without losing a bit. PyAV's FLAC encoder (FFmpeg)
is used rather than soundfile because PyAV is already part of every install (soundfile only of
the ``train`` extra), it encodes about as fast (benchmarks/flac_encode.py), and it writes through
our own file object, so a failed write reaches us as an ``OSError`` with its errno (``ENOSPC``,
``EACCES``) and is reported with its reason. :class:`AtomicFlacWriter` keeps the temporary name
and rename of :class:`~avsep.io.wav.AtomicWavWriter`; :func:`write_flac_stdout` streams to a pipe.
"""

from __future__ import annotations

import errno
import sys
from collections.abc import Callable, Iterable
from fractions import Fraction
from typing import BinaryIO, Protocol

import av
import numpy as np

from avsep.errors import AvsepError, InputError, os_reason, write_error
from avsep.io.wav import (
    AtomicWavWriter,
    _check_format,
    _silence_stdout,
    as_frames,
    default_layout,
    pcm_ints,
    speaker_layout,
)
from avsep.options import API, Wording

#: FLAC output formats by CLI name, with their bits per sample.
FORMATS = {"flac": 16, "flac24": 24}

#: FLAC holds at most 8 channels.
MAX_CHANNELS = 8


def check_channels(channels: int, say: Wording = API, *, fmt: str = "flac", most: int = MAX_CHANNELS) -> None:
    """Refuse outputs of more channels than ``fmt`` holds (``most``: FLAC's 8 by default), as an
    input error that says what to do; the batch asks once the video is probed
    (:func:`avsep.io.output.check_output_audio`), so a 10-channel video is refused before the
    model loads or players are searched for, and the writer asks again for callers that skip it
    (``say``: how the message names the options)."""
    if not 1 <= channels <= most:
        raise InputError(
            f"{fmt.upper()} holds 1 to {most} channels, not {channels}; use {say('mono')} or another {say('fmt')}"
        )


def unplaced_layout(channels: int) -> str:
    """The layout FLAC is given for ``channels`` channels on speakers not known: mono or stereo
    (what a WAV declares of them too), else FFmpeg's unspecified order ("3 channels"), for which
    it writes no channel mask tag. FLAC has no honest way to say "no positions" (FFmpeg refuses a
    mask of 0 as invalid when it reads one), so the file claims what any FLAC of that count does,
    FLAC's own assignment (3 channels: left, right, centre), and no more: the count's default
    layout of FFmpeg (``3c``, read as 2.1) would add a mask tag claiming an LFE channel."""
    return default_layout(channels) if channels <= 2 else f"{channels} channels"


class FlacEncoder:
    """Encodes float samples into FLAC on a binary file object (seekable or not), declaring the
    input's speaker ``layout`` when it fits (FFmpeg then writes the channel mask tag a layout
    other than FLAC's own needs), else none (:func:`unplaced_layout`)."""

    def __init__(self, sink: BinaryIO, sample_rate: int, channels: int, bits: int, layout: str | None = None) -> None:
        check_channels(channels)  # the batch checked it before any work: a backstop for other callers
        self.channels = channels
        self.bits = bits
        # 24-bit samples travel as s32 with the value in the top 24 bits; FFmpeg's encoder then
        # writes a 24-bit stream.
        self._sample_fmt = "s16" if bits == 16 else "s32"
        known = speaker_layout(channels, layout)
        self._layout = known.name if known is not None else unplaced_layout(channels)
        self._container = av.open(sink, "w", format="flac")
        self._stream = self._container.add_stream("flac", rate=sample_rate)
        self._stream.layout = self._layout
        self._stream.format = self._sample_fmt
        self._rate = sample_rate
        self._pts = 0

    def write(self, block: np.ndarray) -> None:
        """Encode ``[n]`` (mono) or ``[n, channels]`` float samples."""
        data = as_frames(block, self.channels)
        if not len(data):
            return
        ints = pcm_ints(data, self.bits)
        if self.bits == 24:
            ints = ints << 8
        frame = av.AudioFrame.from_ndarray(ints.reshape(1, -1), format=self._sample_fmt, layout=self._layout)
        frame.sample_rate = self._rate
        frame.pts = self._pts
        frame.time_base = Fraction(1, self._rate)
        self._pts += len(data)
        for packet in self._stream.encode(frame):
            self._container.mux(packet)

    def finish(self) -> None:
        """Flush the encoder and complete the stream (its header, when the sink can seek)."""
        for packet in self._stream.encode():
            self._container.mux(packet)
        self._container.close()


class AtomicFlacWriter(AtomicWavWriter):
    """Write a FLAC to ``path`` all-or-nothing (``fmt`` ``flac``: 16 bit, ``flac24``: 24 bit);
    the temporary name, rename and cleanup are :class:`~avsep.io.wav.AtomicWavWriter`'s."""

    formats = FORMATS

    def _begin(self) -> None:
        self._encoder = FlacEncoder(self._file, self.sample_rate, self.channels, FORMATS[self.fmt], self.layout)

    def write(self, block: np.ndarray) -> None:
        """Append samples: float ``[n]`` for mono or ``[n, channels]``."""
        try:
            self._encoder.write(block)
        except OSError as exc:
            self.abort()
            raise write_error(self.path, exc) from None

    def _finish(self) -> None:
        self._encoder.finish()


def write_flac_stdout(
    blocks: Iterable[np.ndarray],
    sample_rate: int,
    fmt: str = "flac",
    stream: BinaryIO | None = None,
    layout: str | None = None,
) -> bool:
    """Stream a FLAC to ``stream`` (default: standard output) while ``blocks`` are produced.

    A pipe cannot seek, so the stream's header keeps no total length and checksum; players and
    decoders read it fine. See :func:`stream_encoded`.
    """
    _check_format(fmt, FORMATS)
    return stream_encoded(
        blocks, stream, lambda out, channels: FlacEncoder(out, sample_rate, channels, FORMATS[fmt], layout)
    )


class Encoder(Protocol):
    """What :func:`stream_encoded` drives: :class:`FlacEncoder`, :class:`avsep.io.encoded.LossyEncoder`."""

    def write(self, block: np.ndarray) -> None: ...

    def finish(self) -> None: ...


def stream_encoded(
    blocks: Iterable[np.ndarray], stream: BinaryIO | None, make: Callable[[BinaryIO, int], Encoder]
) -> bool:
    """Encode ``blocks`` to ``stream`` (default: standard output) with the encoder ``make(out,
    channels)`` builds, as :func:`~avsep.io.wav.write_wav_stdout` does: the channel count comes
    from the first block; returns False when the reader closed the pipe early (stop quietly)."""
    out = stream if stream is not None else sys.stdout.buffer
    iterator = iter(blocks)
    first = next(iterator, None)
    channels = 1 if first is None or np.ndim(first) == 1 else np.shape(first)[1]
    try:
        encoder = make(out, channels)
        if first is not None:
            encoder.write(first)
        for block in iterator:
            encoder.write(block)
        encoder.finish()
        out.flush()
    except OSError as exc:
        if exc.errno != errno.EPIPE:
            raise AvsepError(f"cannot write to standard output: {os_reason(exc)}") from None
        _silence_stdout(out)
        return False
    return True
