"""Compressed output (``--format mp3``, ``m4a``, ``opus``), with the guarantees of :mod:`avsep.io.wav`.

Stems meant for listening, sharing or a phone are wanted small, in what every player opens: MP3
(LAME), M4A (FFmpeg's AAC in an MP4 container) and Opus (libopus in Ogg). They are encoded with
PyAV, already part of every install (its wheel carries these encoders), into a temporary file
that is renamed when complete (:class:`~avsep.io.wav.AtomicWavWriter`'s rules). Each file is
tagged with its source's name (title) and the video it came from, so a music player lists the
stems by name. Encoders take fixed-size frames in their own sample format and a few rates only
(Opus: 48 kHz and a few lower); FFmpeg's resampler converts the format, cuts the frames and, when
the rate is not one the encoder takes, changes the rate (Opus at 44.1 kHz becomes 48 kHz).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import BinaryIO

import av
import numpy as np

from avsep.io import flac
from avsep.io.flac import AtomicFlacWriter, stream_encoded
from avsep.io.wav import _check_format, as_frames, default_layout
from avsep.options import API, Wording


@dataclass(frozen=True)
class Lossy:
    """One compressed format: its container, encoder, file extension, default bit rate (bits
    per second) and the most channels it holds."""

    container: str
    codec: str
    extension: str
    bitrate: int
    max_channels: int
    #: whether it can be written to a pipe (MP4 writes its index last, at the start of the file)
    streams: bool = True


#: The compressed formats by CLI name.
FORMATS = {
    "mp3": Lossy("mp3", "libmp3lame", "mp3", 192_000, 2),
    "m4a": Lossy("ipod", "aac", "m4a", 192_000, 8, streams=False),
    "opus": Lossy("ogg", "libopus", "opus", 128_000, 8),
}


def check_channels(fmt: str, channels: int, say: Wording = API) -> None:
    """Refuse outputs of more channels than ``fmt`` holds (a 5.1 video as MP3); the batch asks
    once the video is probed, so the refusal comes before any work (``say``: how the message
    names the options)."""
    flac.check_channels(channels, say, fmt=fmt, most=FORMATS[fmt].max_channels)


def encoder_rate(fmt: str, sample_rate: int) -> int:
    """The rate ``fmt``'s encoder writes for samples at ``sample_rate`` (:func:`codec_rate`)."""
    return codec_rate(FORMATS[fmt].codec, sample_rate)


def codec_rate(codec: str, sample_rate: int) -> int:
    """The rate FFmpeg's ``codec`` encoder writes for samples at ``sample_rate``: that rate when
    the encoder takes it, else the lowest rate it takes above it (its highest when none is):
    Opus takes 8 to 48 kHz but never 44.1."""
    rates = sorted(av.codec.Codec(codec, "w").audio_rates or [sample_rate])
    if sample_rate in rates:
        return sample_rate
    return next((r for r in rates if r > sample_rate), rates[-1])


class LossyEncoder:
    """Encodes float samples into ``fmt`` on a binary file object (a pipe for mp3 and opus)."""

    def __init__(
        self,
        sink: BinaryIO,
        sample_rate: int,
        channels: int,
        fmt: str,
        bitrate: int | None = None,
        tags: dict[str, str] | None = None,
    ) -> None:
        spec = FORMATS[fmt]
        check_channels(fmt, channels)
        self.channels = channels
        # The count's default, not the input's layout: libopus and LAME refuse most others.
        self._layout = default_layout(channels)
        self._rate = sample_rate
        self._container = av.open(sink, "w", format=spec.container)
        self._container.metadata.update(tags or {})
        self._stream = self._container.add_stream(spec.codec, rate=encoder_rate(fmt, sample_rate))
        self._stream.layout = self._layout
        self._stream.bit_rate = bitrate or spec.bitrate
        context = self._stream.codec_context
        self._resampler = av.AudioResampler(
            format=context.codec.audio_formats[0].name,
            layout=self._layout,
            rate=context.sample_rate,
            frame_size=context.frame_size or None,
        )
        self._pts = 0

    def write(self, block: np.ndarray) -> None:
        """Encode ``[n]`` (mono) or ``[n, channels]`` float samples."""
        data = as_frames(block, self.channels)
        if not len(data):
            return
        frame = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(np.clip(data, -1.0, 1.0)).reshape(1, -1), format="flt", layout=self._layout
        )
        frame.sample_rate = self._rate
        frame.pts = self._pts
        frame.time_base = Fraction(1, self._rate)
        self._pts += len(data)
        self._encode(self._resampler.resample(frame))

    def finish(self) -> None:
        """Flush the resampler and the encoder, and complete the file."""
        self._encode(self._resampler.resample(None))
        for packet in self._stream.encode():
            self._container.mux(packet)
        self._container.close()

    def _encode(self, frames: Iterable[av.AudioFrame]) -> None:
        for frame in frames:
            frame.pts = None  # the encoder numbers its own frames, in its own rate
            for packet in self._stream.encode(frame):
                self._container.mux(packet)


class AtomicLossyWriter(AtomicFlacWriter):
    """Write an MP3, M4A or Opus file to ``path`` all-or-nothing, at ``bitrate`` bits per second
    (default: the format's), tagged with ``tags``; the temporary name, rename and cleanup are
    :class:`~avsep.io.wav.AtomicWavWriter`'s, the encoder's writing and finishing the FLAC writer's."""

    formats = FORMATS

    def __init__(
        self,
        path: str | Path,
        sample_rate: int,
        channels: int = 1,
        fmt: str = "mp3",
        overwrite: bool = False,
        *,
        bitrate: int | None = None,
        tags: dict[str, str] | None = None,
    ) -> None:
        self.bitrate, self.tags = bitrate, tags
        super().__init__(path, sample_rate, channels, fmt, overwrite=overwrite)

    def _begin(self) -> None:
        self._encoder = LossyEncoder(self._file, self.sample_rate, self.channels, self.fmt, self.bitrate, self.tags)


def write_lossy_stdout(
    blocks: Iterable[np.ndarray],
    sample_rate: int,
    fmt: str = "mp3",
    stream: BinaryIO | None = None,
    bitrate: int | None = None,
) -> bool:
    """Stream an MP3 or Opus file to ``stream`` (default: standard output) while ``blocks`` are
    produced; False when the reader closed the pipe early (see :func:`avsep.io.flac.stream_encoded`)."""
    _check_format(fmt, FORMATS)
    return stream_encoded(blocks, stream, lambda out, channels: LossyEncoder(out, sample_rate, channels, fmt, bitrate))
