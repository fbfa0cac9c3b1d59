"""What is inside a media file: streams, duration, size and display rotation.

:func:`probe` is the single place where a path is checked and opened, so every reader reports a
missing, empty, unreadable or non-media file the same way: an :class:`InputError` naming the file
and saying what to do, never a raw ``OSError``/``av`` exception.

Timeline convention shared by all of ``avsep.io``: time 0 is the *container* start (the earliest
stream start), so a video frame at ``t`` and audio sample ``round(t * sr)`` are simultaneous even
when the streams start at different timestamps (common in MPEG-TS and phone recordings).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import av
import av.container

from avsep.errors import InputError, no_such_file, os_reason
from avsep.io.ffmpeg_log import keep_log_policy
from avsep.timerange import TimeRange, parse_time

logger = logging.getLogger(__name__)


#: A stream that decodes this much shorter than its container says (seconds) was cut short or
#: damaged; less is the codec's priming or padding.
EARLY_END_S = 0.25

#: How many packets probe will demux looking for the first video frame (its display matrix);
#: bounded so probing a damaged file cannot turn into a full decode.
_ROTATION_PACKETS = 300


@dataclass(frozen=True)
class VideoStreamInfo:
    """One video stream; sizes are as *displayed*, i.e. after :attr:`rotation` is applied."""

    index: int  #: stream index in the container (as ffprobe numbers it)
    codec: str
    width: int
    height: int
    fps: float  #: average rate; frames are located by timestamp, so variable rates work too
    rotation: int  #: degrees clockwise to turn decoded frames to get the displayed frame
    duration: float | None


@dataclass(frozen=True)
class AudioStreamInfo:
    """One audio stream at its native rate and channel count."""

    index: int  #: stream index in the container (as ffprobe numbers it)
    codec: str
    sample_rate: int
    channels: int
    duration: float | None
    #: seconds after the container start at which the stream starts (a late audio track)
    offset: float = 0.0
    #: the speaker layout as PyAV names it ("5.1", "5.1(side)", "stereo"; "6 channels" when the
    #: file does not say): WAV and FLAC outputs that keep the channels declare it
    layout: str | None = None


@dataclass(frozen=True)
class MediaInfo:
    """A probed file; ``video``/``audio`` are the selected streams (None if the file has none)."""

    path: Path
    format: str
    duration: float
    size_bytes: int
    video: VideoStreamInfo | None
    audio: AudioStreamInfo | None
    videos: tuple[VideoStreamInfo, ...]
    audios: tuple[AudioStreamInfo, ...]
    #: seconds of the file at this view's time 0 (``--start``; :func:`clip`): every reader takes
    #: it as its origin, and ``duration`` is the range's length
    start: float = 0.0
    #: seconds of the file where a ``--end`` range ends (None: the whole file after ``start``)
    end: float | None = None
    #: the whole file's length in seconds, whatever the range (None before :func:`clip`: then
    #: ``start + duration``): what a boxes file's times are checked against
    length: float | None = None

    @property
    def file_length(self) -> float:
        """The whole file's length in seconds (a range's view included)."""
        return self.length if self.length is not None else self.start + self.duration


def check_separable(info: MediaInfo) -> None:
    """A file needs sound to separate and a picture to tell the sources apart."""
    if info.audio is None:
        raise InputError(f"{info.path}: no audio stream, so nothing to separate; give a video with sound")
    if info.video is None:
        raise InputError(
            f"{info.path}: no video stream; avsep needs the picture to tell the sources apart, "
            "so give the video rather than its soundtrack"
        )


def clip(info: MediaInfo, span: TimeRange) -> MediaInfo:
    """``info`` seen from ``span.start`` to ``span.end`` (``--start``/``--end``): the readers
    start there and the duration is the range's. A range outside the video is an error."""
    if span.whole:
        return info
    length = info.duration
    for flag, value in (("--start", span.start), ("--end", span.end)):
        if value is not None and value > length + EARLY_END_S:
            raise InputError(
                f"{flag} {value:g}: {info.path} is {length:.2f} s long; give a time from 0 to {length:.2f}"
            )
    end = length if span.end is None else min(span.end, length)
    if end - span.start <= 0:
        raise InputError(f"--start {span.start:g}: {info.path} is {length:.2f} s long; start before its end")
    return replace(info, start=span.start, end=span.end and end, duration=end - span.start, length=length)


def check_readable(path: str | Path) -> Path:
    """Fail early, with the real reason, for paths FFmpeg would only call "invalid data"."""
    path = Path(path)
    try:
        st = path.stat()
    except FileNotFoundError:
        raise no_such_file(path) from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({os_reason(exc)}); check the path") from None
    if path.is_dir():
        raise InputError(f"{path}: is a directory; give the path of a media file")
    if not os.access(path, os.R_OK):
        raise InputError(f"{path}: permission denied; make the file readable (chmod +r)")
    if st.st_size == 0:
        raise InputError(f"{path}: empty file (0 bytes); re-export or re-download it")
    return path


def _not_media(path: Path, exc: Exception) -> InputError:
    if isinstance(exc, PermissionError):
        return InputError(f"{path}: permission denied; make the file readable (chmod +r)")
    reason = getattr(exc, "strerror", None) or str(exc)
    return InputError(
        f"{path}: not a video or audio file FFmpeg can read ({reason.lower()}); "
        "check that it plays in a media player (it may be truncated or corrupt)"
    )


def open_input(path: str | Path) -> av.container.InputContainer:
    """Open ``path`` for reading, turning every failure into an :class:`InputError`.

    ``av`` errors derive from ``ValueError``/``OSError``, which is why both are caught here
    rather than at each call site.
    """
    path = check_readable(path)
    keep_log_policy()
    try:
        return av.open(str(path), "r")
    except (av.error.FFmpegError, OSError, ValueError) as exc:
        raise _not_media(path, exc) from None


@contextmanager
def opened(path: str | Path) -> Iterator[av.container.InputContainer]:
    """:func:`open_input` as a context manager that always closes the container."""
    container = open_input(path)
    try:
        yield container
    finally:
        container.close()


def decode_frames(
    container: av.container.InputContainer,
    stream: av.stream.Stream,
    before: Callable[[av.Packet], None] | None = None,
) -> Iterator[av.frame.Frame]:
    """Decoded frames of ``stream`` from the current position; damage skips or ends, never raises.

    A packet that fails to decode is skipped (as players do). A demuxing error means the file
    is cut short or damaged from there on, which readers treat as the end of the stream: what
    decoded before it is still usable. ``before(packet)`` is called before each packet is
    decoded (to set the decoder's options for it).
    """
    try:
        for packet in container.demux(stream):
            if before is not None:
                before(packet)
            try:
                frames = packet.decode()
            except av.error.InvalidDataError:
                continue
            yield from frames
    except (av.error.FFmpegError, OSError, ValueError) as exc:
        logger.warning("%s: stream ends early (%s); using what decoded before it", container.name, exc)


def warn_if_short(path: Path, kind: str, decoded: float, declared: float | None) -> None:
    """Say so when a stream decoded to less than its container declares: a download or copy cut
    short (a "faststart" mp4 keeps its index and opens fine), or damage that ended decoding.
    The decodable part is still used, so this is a warning, not an error."""
    if declared is not None and declared - decoded > EARLY_END_S:
        logger.warning(
            "%s: stream ends early (its %s decodes to %.2f s of the %.2f s the file declares: "
            "cut short or damaged); using what decoded before it",
            path,
            kind,
            decoded,
            declared,
        )


def container_origin(container: av.container.InputContainer) -> float:
    """Seconds of the container start (time 0 of the avsep timeline)."""
    start = container.start_time
    return start / av.time_base if start is not None else 0.0


def select_stream(
    path: Path, streams: tuple[av.stream.Stream, ...], kind: str, index: int | None
) -> av.stream.Stream | None:
    """The ``index``-th stream of ``kind`` (first by default), None when there is none."""
    if index is None:
        return streams[0] if streams else None
    if not 0 <= index < len(streams):
        if not streams:
            raise InputError(f"{path}: has no {kind} streams, so --{kind}-stream {index} cannot be used")
        raise InputError(
            f"{path}: no {kind} stream {index} (the file has {len(streams)}); "
            f"pick 0..{len(streams) - 1} with --{kind}-stream"
        )
    return streams[index]


def video_streams(container: av.container.InputContainer) -> tuple[av.stream.Stream, ...]:
    """Real video streams; cover art ("attached pictures" in audio files) is not a video."""
    return tuple(s for s in container.streams.video if not s.disposition & av.stream.Disposition.attached_pic)


def _decodable(path: Path, streams: tuple[av.stream.Stream, ...], kind: str) -> tuple[av.stream.Stream, ...]:
    """Streams FFmpeg can decode. A stream without a codec context (unknown codec, or header
    fields lost to damage) cannot be read; if it is the only one of its kind, say so rather
    than report the file as having no such stream."""
    usable = tuple(s for s in streams if s.codec_context is not None)
    if streams and not usable:
        raise InputError(
            f"{path}: its {kind} stream cannot be decoded (unknown codec or damaged header); "
            "check that the file plays in a media player, or re-encode it"
        )
    return usable


def _seconds(stream: av.stream.Stream) -> float | None:
    """A stream's length: its header's, else from the ``DURATION`` tag Matroska and WebM keep per
    stream (where its last packet ends), so that an audio track that ends before the picture is
    known before decoding."""
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    try:
        end = parse_time(stream.metadata.get("DURATION"), "DURATION")
    except InputError:
        return None
    start = 0.0 if stream.start_time is None or stream.time_base is None else stream.start_time * stream.time_base
    return None if end is None else end - float(start)


def _rotation_from_tag(stream: av.stream.Stream) -> int | None:
    """Clockwise rotation from a legacy ``rotate`` tag (older muxers/FFmpeg versions)."""
    tag = stream.metadata.get("rotate")
    if tag is None:
        return None
    try:
        return int(round(float(tag) / 90.0)) * 90 % 360
    except ValueError:
        return None


def _rotations(container: av.container.InputContainer, streams: tuple[av.stream.Stream, ...]) -> dict[int, int]:
    """Clockwise display rotation per stream index.

    FFmpeg 7+ exposes the display matrix only as side data, which PyAV surfaces on decoded frames
    (``frame.rotation``, counter-clockwise), so the first frame of each stream without a legacy
    tag is decoded. Failures leave the rotation at 0: probe reports what it can and decoding
    errors surface where frames are actually needed.
    """
    found = {s.index: r for s in streams if (r := _rotation_from_tag(s)) is not None}
    pending = [s for s in streams if s.index not in found]
    if not pending:
        return found
    try:
        for count, packet in enumerate(container.demux(pending)):
            if count >= _ROTATION_PACKETS:
                break
            if packet.stream.index in found:
                continue
            for frame in packet.decode():
                found[packet.stream.index] = int(round(-frame.rotation / 90.0)) * 90 % 360
                break
            if len(found) == len(streams):
                break
    except (av.error.FFmpegError, ValueError, OSError):
        pass
    return found


def _scan_duration(container: av.container.InputContainer, origin: float) -> float:
    """Duration from packet timestamps, for files whose header does not say (cut streams)."""
    end = 0.0
    try:
        container.seek(0)
    except (av.error.FFmpegError, ValueError, OSError):
        pass
    try:
        for packet in container.demux():
            if packet.pts is None or packet.time_base is None:
                continue
            stop = float((packet.pts + (packet.duration or 0)) * packet.time_base)
            end = max(end, stop - origin)
    except (av.error.FFmpegError, ValueError, OSError):
        pass
    return end


def probe(path: str | Path, audio_stream: int | None = None, video_stream: int | None = None) -> MediaInfo:
    """Describe ``path``; raises :class:`InputError` if it is not a usable media file.

    ``audio_stream``/``video_stream`` are 0-based among streams of that type. A file without
    video or without audio is not an error here (the field is None): whether that matters is
    the caller's decision.
    """
    path = check_readable(path)
    size = path.stat().st_size
    with opened(path) as container:
        vstreams = _decodable(path, video_streams(container), "video")
        astreams = _decodable(path, tuple(container.streams.audio), "audio")
        if not vstreams and not astreams:
            raise InputError(f"{path}: contains no audio or video streams; give a video file with sound")
        selected_video = select_stream(path, vstreams, "video", video_stream)
        selected_audio = select_stream(path, astreams, "audio", audio_stream)
        rotations = _rotations(container, vstreams)

        videos = []
        for s in vstreams:
            ctx = s.codec_context
            rotation = rotations.get(s.index, 0)
            width, height = ctx.width, ctx.height
            if rotation in (90, 270):
                width, height = height, width
            rate = s.average_rate or s.guessed_rate or s.base_rate
            videos.append(
                VideoStreamInfo(
                    index=s.index,
                    codec=ctx.name,
                    width=width,
                    height=height,
                    fps=float(rate) if rate else 0.0,
                    rotation=rotation,
                    duration=_seconds(s),
                )
            )
        origin = container_origin(container)
        audios = tuple(
            AudioStreamInfo(
                index=s.index,
                codec=s.codec_context.name,
                sample_rate=s.codec_context.sample_rate,
                channels=s.codec_context.channels,
                duration=_seconds(s),
                offset=0.0 if s.start_time is None else float(s.start_time * s.time_base) - origin,
                layout=s.codec_context.layout.name if s.codec_context.channels else None,
            )
            for s in astreams
        )

        if container.duration is not None and container.duration > 0:
            duration = container.duration / av.time_base
        else:
            known = [d for d in (*(v.duration for v in videos), *(a.duration for a in audios)) if d]
            duration = max(known) if known else _scan_duration(container, origin)
        return MediaInfo(
            path=path,
            format=container.format.name,
            duration=duration,
            size_bytes=size,
            video=videos[vstreams.index(selected_video)] if selected_video is not None else None,
            audio=audios[astreams.index(selected_audio)] if selected_audio is not None else None,
            videos=tuple(videos),
            audios=audios,
        )
