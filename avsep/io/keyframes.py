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
    them (:attr:`verdict`, the reader's to set: judged once per pair and judge).

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
        #: the keyframes around the last time looked up: the last at or before it and the next
        #: (None: none up to :attr:`_until`, or the end); :attr:`verdict` is whether the picture
        #: held between them, as the judge it was asked of said
        self.pair: tuple[Keyframe, Keyframe | None] | None = None
        self.verdict: tuple[Still, bool] | None = None
        self._until = 0.0
        self._codec: av.CodecContext | None = None

    def around(self, t: float) -> tuple[Keyframe, Keyframe | None] | None:
        """The keyframe shown last at or before ``t`` (the first one, if ``t`` precedes it) and
        the next one within :data:`STILL_MAX_S` after ``t``, found by one seek and demuxing
        (no decoding; an index that lands on an earlier keyframe is walked forward); kept while
        times fall between them. None when the seek lands on no keyframe (an MPEG-TS file's
        index) or fails."""
        if self.pair is not None:
            first, after = self.pair
            if first.time <= t + EPS and t < (after.time - EPS if after else self._until):
                return self.pair
        self._on_seek()
        try:
            self._container.seek(int((self._origin + t) / self._stream.time_base), stream=self._stream)
            packets = (p for p in self._container.demux(self._stream) if p.pts is not None and p.size)
            head = next(packets, None)
            if head is None or not head.is_keyframe:
                return None
            first, after, self._until = Keyframe(self._time(head), head), None, float("inf")
            for packet in packets:
                shown = self._time(packet)
                if packet.is_keyframe and shown > first.time + EPS:
                    if shown > t + EPS:
                        after = Keyframe(shown, packet)
                        break
                    first = Keyframe(shown, packet)  # still at or before t
                elif shown > max(t, first.time) + STILL_MAX_S + 1.0:  # + 1 s: B-frames come out of order
                    self._until = t + STILL_MAX_S
                    break
        except (av.error.FFmpegError, OSError, ValueError):
            return None
        if self.pair is not None and self.pair[1] is not None and abs(self.pair[1].time - first.time) < EPS:
            first.rgb = self.pair[1].rgb  # the last pair's second keyframe is this pair's first
        self.pair, self.verdict = (first, after), None
        return self.pair

    def picture(self, key: Keyframe) -> np.ndarray | None:
        """``key``'s picture, decoded alone once (None if it does not decode alone), by a decoder
        of its own with slice threads: the stream's frame threads only delay a lone picture
        (720p: 15 instead of 26 ms a keyframe), and the stream's decoding run is left as it is.
        A stream whose set-up data comes inside it rather than in its header (H.264 "avc3",
        MPEG-4 part 2 in AVI) gives that decoder nothing: the stream's own decoder, which has
        seen it, decodes the keyframe then (and its decoding run is dropped)."""
        if key.rgb is None:
            frames = self._decode(key.packet, own=True) or self._decode(key.packet, own=False)
            if not frames:
                return None
            key.rgb = self._upright(frames[0])
        return key.rgb

    def _decode(self, packet: av.Packet, own: bool) -> list[av.VideoFrame]:
        try:
            if own and self._codec is None:
                self._codec = av.CodecContext.create(self._stream.codec_context.name, "r")
                self._codec.extradata = self._stream.codec_context.extradata
                self._codec.thread_type = "SLICE"
                self._codec.options = dict(self._options)
            if not own:
                self._on_seek()
            codec = self._codec if own else self._stream.codec_context
            codec.flush_buffers()
            return codec.decode(packet) + codec.decode(None)
        except (av.error.FFmpegError, OSError, ValueError):
            return []

    def _time(self, packet: av.Packet) -> float:
        return float(packet.pts * self._stream.time_base - self._origin)
