"""A new video around new sound: the picture copied packet for packet, audio tracks encoded.

``avsep remix`` puts a rebalanced soundtrack under the picture, and ``avsep remix --stems``
writes the original soundtrack plus one titled track per source for a video editor. Both are
:func:`write_video`: the input's video stream (and, if asked, its audio stream) is copied
without decoding (no re-encode, no quality loss, the exact packets), and each new track is
encoded as its samples arrive, interleaved with the copied packets by time, so memory does not
grow with the video's length. The file is written to a temporary name beside the target and
renamed when complete; a disk error is one line with its reason.
"""

from __future__ import annotations

import os
import tempfile
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from avsep.errors import AvsepError, InputError, already_exists, write_error
from avsep.io.encoded import codec_rate
from avsep.io.media import MediaInfo, container_origin, open_input
from avsep.io.soundtrack import SoundtrackWarning
from avsep.io.wav import as_frames, default_layout

#: Container format by output suffix.
CONTAINERS = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".mkv": "matroska", ".webm": "webm"}

#: Audio codecs each container takes (``None``: any); another input codec becomes AAC.
_TAKES: dict[str, frozenset[str] | None] = {
    "mp4": frozenset({"aac", "mp3", "ac3", "eac3", "flac", "alac", "opus"}),
    "mov": frozenset({"aac", "mp3", "ac3", "alac", "pcm_s16le", "pcm_s24le", "pcm_f32le"}),
    "matroska": None,
    "webm": frozenset({"opus", "vorbis"}),
}
#: Video codecs a container takes when copied (absent: any this FFmpeg muxes): WebM is VP8, VP9
#: or AV1 only, so an H.264 picture cannot be copied into it.
_TAKES_VIDEO = {"webm": frozenset({"vp8", "vp9", "av1"})}
#: Encoder names of decoders whose FFmpeg encoder is called differently.
_ENCODERS = {"opus": "libopus", "vorbis": "libvorbis"}
#: AAC bit rate per channel: transparent for most music.
_AAC_BITS_PER_CHANNEL = 96_000


@dataclass
class Track:
    """One encoded audio track of the output: its title (what an editor shows) and codec."""

    title: str
    codec: str


def container_for(path: Path) -> str:
    """The container format of an output path, or a one-line error naming the choices."""
    fmt = CONTAINERS.get(path.suffix.lower())
    if fmt is None:
        raise InputError(f"{path}: write the video as {', '.join(sorted(CONTAINERS))}")
    return fmt


def _encodable(name: str) -> bool:
    try:
        av.codec.Codec(name, "w")
    except (ValueError, av.error.FFmpegError):
        return False
    return True


def takes(container: str, codec: str) -> bool:
    """Whether ``container`` can hold ``codec`` audio (copied as it is)."""
    allowed = _TAKES[container]
    return allowed is None or codec in allowed


def audio_codec(input_codec: str, container: str) -> str:
    """The input's audio codec when this FFmpeg can encode it and ``container`` takes it, else
    AAC (what every player and editor reads)."""
    encoder = _ENCODERS.get(input_codec, input_codec)
    if takes(container, input_codec) and _encodable(encoder):
        return encoder
    if container == "webm":
        return "libopus"
    return "aac"


def write_video(
    media: MediaInfo,
    dest: Path,
    tracks: list[Track],
    blocks: Iterable[list[np.ndarray]],
    *,
    sample_rate: int,
    channels: int,
    copy_audio: str | None = None,
    overwrite: bool = False,
) -> Path:
    """Write ``dest``: ``media``'s video stream copied, then the input's audio stream copied
    (titled ``copy_audio``, when given), then ``tracks`` encoded from ``blocks``: each block is
    one ``[n, channels]`` (or ``[n]``) float array per track, at ``sample_rate``, on the
    timeline of :mod:`avsep.io.media` (sample 0 at the container's start)."""
    container = container_for(dest)
    if dest.exists() and not overwrite:
        raise already_exists(dest)
    allowed = _TAKES_VIDEO.get(container)
    if allowed is not None and media.video.codec not in allowed:
        raise InputError(
            f"{dest}: {dest.suffix} holds {', '.join(sorted(allowed))} video, not {media.video.codec} "
            "(the picture is copied, never re-encoded); write .mkv or .mp4"
        )
    _say_rates(dest, tracks, sample_rate)
    if dest.is_dir():
        raise InputError(f"{dest}: is a directory; give a file name for the output video")
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    except OSError as exc:
        raise write_error(dest, exc) from None
    try:
        with os.fdopen(fd, "wb") as sink:
            _mux(media, sink, container, tracks, blocks, sample_rate, channels, copy_audio)
            sink.flush()
            os.fsync(sink.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temp, 0o666 & ~umask)  # mkstemp makes 0600; the result is an ordinary file
        os.replace(temp, dest)
    except av.error.FFmpegError as exc:  # the muxer refused (a codec this container cannot hold)
        Path(temp).unlink(missing_ok=True)
        raise AvsepError(f"cannot write {dest}: {exc.strerror or exc}; try an .mkv output") from None
    except OSError as exc:
        Path(temp).unlink(missing_ok=True)
        raise write_error(dest, exc) from None
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return dest


def _mux(
    media: MediaInfo,
    sink,
    container: str,
    tracks: list[Track],
    blocks: Iterable[list[np.ndarray]],
    sample_rate: int,
    channels: int,
    copy_audio: str | None,
) -> None:
    source = open_input(media.path)
    out = av.open(sink, "w", format=container)
    try:
        copied = [s for s in source.streams if s.index == media.video.index]
        if copy_audio is not None and media.audio is not None:
            copied += [s for s in source.streams if s.index == media.audio.index]
        copies = {s.index: out.add_stream_from_template(s) for s in copied}
        if copy_audio is not None and len(copied) > 1:
            original = copies[copied[1].index]
            original.metadata["title"] = original.metadata["handler_name"] = copy_audio
        encoders = [_add_track(out, t, sample_rate, channels) for t in tracks]
        origin = container_origin(source) + media.start  # a --start range's time 0
        packets = _packets(source, copied, media)
        pending = next(packets, None)
        written = 0
        for block in blocks:
            n = _encode(out, encoders, block, written, origin, sample_rate, channels)
            written += n
            until = origin + written / sample_rate
            while pending is not None and _seconds(pending) <= until:
                _copy(out, pending, copies)
                pending = next(packets, None)
        for stream in encoders:
            for packet in stream.encode():
                out.mux(packet)
        while pending is not None:
            _copy(out, pending, copies)
            pending = next(packets, None)
    finally:
        source.close()
    out.close()


def _say_rates(dest: Path, tracks: list[Track], sample_rate: int) -> None:
    """Warn when a track's codec cannot hold ``sample_rate`` (Opus: no 44.1 kHz) and is written
    at another: the sound is resampled, which a user who asked nothing should hear of."""
    for codec in dict.fromkeys(t.codec for t in tracks):
        rate = codec_rate(codec, sample_rate)
        if rate != sample_rate:
            warnings.warn(
                f"{dest}: {codec} cannot be written at {sample_rate} Hz, so its sound is {rate} Hz (resampled); "
                "an .mkv output keeps the rate",
                SoundtrackWarning,
                stacklevel=3,
            )


def _add_track(out: av.container.OutputContainer, track: Track, sample_rate: int, channels: int) -> av.AudioStream:
    # Opus (WebM's codec when the input's cannot be encoded) takes no 44.1 kHz: the stream is
    # made at the rate the codec takes, and PyAV's encoder resamples the frames to it
    stream = out.add_stream(track.codec, rate=codec_rate(track.codec, sample_rate))
    stream.layout = default_layout(channels)
    if track.codec == "aac":
        stream.bit_rate = _AAC_BITS_PER_CHANNEL * channels
    # MKV keeps "title"; MP4/MOV write "handler_name" as the track's name, which editors show.
    stream.metadata["title"] = stream.metadata["handler_name"] = track.title
    return stream


def _encode(
    out: av.container.OutputContainer,
    encoders: list[av.AudioStream],
    block: list[np.ndarray],
    written: int,
    origin: float,
    sample_rate: int,
    channels: int,
) -> int:
    """Encode one block of every track; returns its length in samples."""
    n = 0
    for stream, samples in zip(encoders, block):
        data = as_frames(samples, channels)
        n = len(data)
        if not n:
            continue
        frame = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(data).reshape(1, -1), format="flt", layout=default_layout(channels)
        )
        frame.sample_rate = sample_rate
        frame.time_base = Fraction(1, sample_rate)
        frame.pts = written + round(origin * sample_rate)
        for packet in stream.encode(frame):
            out.mux(packet)
    return n


def _packets(
    source: av.container.InputContainer, streams: list[av.stream.Stream], media: MediaInfo
) -> Iterator[av.Packet]:
    """The streams' packets in file order (the demuxer's empty flush packets left out); in a
    ``--start``/``--end`` range, from the last keyframe at or before its start (packets are
    copied, not cut, so the picture covers the range) to its end."""
    origin = container_origin(source)
    if media.start > 0:
        try:
            source.seek(int((origin + media.start) / streams[0].time_base), stream=streams[0], backward=True)
        except (av.error.FFmpegError, OSError, ValueError):
            pass  # unseekable: copied from the start
    for packet in source.demux(streams):
        if media.end is not None and packet.dts is not None and _seconds(packet) > origin + media.end:
            return
        if packet.size and packet.dts is not None:
            yield packet


def _seconds(packet: av.Packet) -> float:
    return float(packet.dts * packet.time_base)


def _copy(out: av.container.OutputContainer, packet: av.Packet, copies: dict[int, av.stream.Stream]) -> None:
    packet.stream = copies[packet.stream.index]
    out.mux(packet)
