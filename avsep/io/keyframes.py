"""Keyframes found by demuxing and decoded alone: what may answer for a guide frame instead of
a run of decoding (:meth:`avsep.io.video.FrameReader.frames_and_times_at`).

A keyframe decodes without the frames before it, and finding one costs no decoding at all (a
seek and a read of packets), so the keyframes around a time are cheap to know; which of them
may stand for the time is the reader's decision, not this module's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import av
import numpy as np

#: Timestamps closer than this count as equal (pts rounding in millisecond time bases).
EPS = 1e-4

#: Two keyframes further apart than this are never taken to show one still picture between them:
#: x264's default interval is 250 frames (10 s at 25 fps, 8.3 s at 30), and over a longer span a
#: player may well move and come back. Beyond it, frames are decoded exactly.
STILL_MAX_S = 12.0

#: ``still(a, b)``: whether the picture held still from keyframe ``a`` to keyframe ``b``, each
#: ``(frame, time)`` (:meth:`avsep.io.video.FrameReader.frames_and_times_at`).
Still = Callable[[tuple[np.ndarray, float], tuple[np.ndarray, float]], bool]


@dataclass
class Keyframe:
    """A keyframe found by demuxing: its time, its packet, and its picture once decoded."""

    time: float
    packet: av.Packet
    rgb: np.ndarray | None = None


class Keyframes:
    """The keyframes around a time in one open stream, and whether the picture held between
    them (:attr:`still`, the reader's to set: judged once per pair).

    ``origin``: the stream's seconds at time 0; ``options``: the decoder's (the reader's analysis
    options); ``upright``: a decoded frame as displayed RGB; ``on_seek``: called when a lookup
    moves the container (the reader's decoding run is then gone).
    """

    def __init__(
        self,
        container: av.container.InputContainer,
        stream: av.VideoStream,
        origin: float,
        options: dict[str, str],
        upright: Callable[[av.VideoFrame], np.ndarray],
        on_seek: Callable[[], None],
    ) -> None:
        self._container, self._stream, self._origin = container, stream, origin
        self._options, self._upright, self._on_seek = options, upright, on_seek
        #: the keyframes around the last time looked up (the second None: none within
        #: :data:`STILL_MAX_S`, or the end), and whether the picture held between them
        self.pair: tuple[Keyframe, Keyframe | None] | None = None
        self.still: bool | None = None
        self._codec: av.CodecContext | None = None

    def around(self, t: float) -> tuple[Keyframe, Keyframe | None] | None:
        """The keyframe shown last at or before ``t`` (the first one, if ``t`` precedes it) and
        the next, found by one seek and demuxing; kept while times fall between them. None
        when the seek lands on no keyframe (an MPEG-TS file's index) or fails."""
        if self.pair is not None:
            first, after = self.pair
            if first.time <= t + EPS and (t < after.time - EPS if after else t <= first.time + STILL_MAX_S):
                return self.pair
        self._on_seek()
        try:
            self._container.seek(int((self._origin + t) / self._stream.time_base), stream=self._stream)
            packets = (p for p in self._container.demux(self._stream) if p.pts is not None and p.size)
            head = next(packets, None)
            if head is None or not head.is_keyframe:
                return None
            first, after = Keyframe(self._time(head), head), None
            for packet in packets:
                if packet.is_keyframe and self._time(packet) > first.time + EPS:
                    shown = self._time(packet)
                    after = Keyframe(shown, packet) if shown <= first.time + STILL_MAX_S else None
                    break
        except (av.error.FFmpegError, OSError, ValueError):
            return None
        if self.pair is not None and self.pair[1] is not None and abs(self.pair[1].time - first.time) < EPS:
            first.rgb = self.pair[1].rgb  # the last pair's second keyframe is this pair's first
        self.pair, self.still = (first, after), None
        return self.pair

    def picture(self, key: Keyframe) -> np.ndarray | None:
        """``key``'s picture, decoded alone once (None if it does not decode alone), by a decoder
        of its own with slice threads: the stream's frame threads only delay a lone picture
        (720p: 15 instead of 26 ms a keyframe), and the stream's decoding run is left as it is."""
        if key.rgb is None:
            try:
                if self._codec is None:
                    self._codec = av.CodecContext.create(self._stream.codec_context.name, "r")
                    self._codec.extradata = self._stream.codec_context.extradata
                    self._codec.thread_type = "SLICE"
                    self._codec.options = dict(self._options)
                self._codec.flush_buffers()
                frames = self._codec.decode(key.packet) + self._codec.decode(None)
            except (av.error.FFmpegError, OSError, ValueError):
                frames = []
            if not frames:
                return None
            key.rgb = self._upright(frames[0])
        return key.rgb

    def _time(self, packet: av.Packet) -> float:
        return float(packet.pts * self._stream.time_base - self._origin)
