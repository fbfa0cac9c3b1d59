"""Frames at given times, in displayed orientation, without decoding the whole video.

The separator needs three frames around each 5.94 s window centre, i.e. a handful of frames per
window spread over a possibly hours-long file. :class:`FrameReader` therefore keeps one container
open and, per request, either keeps decoding forward (the next time is close) or seeks to the
keyframe before the time and decodes from there. Frames are located by timestamp, never by frame
count, so variable frame rate works.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

import av
import numpy as np

from avsep.errors import InputError
from avsep.io.ffmpeg_log import decoder_threads
from avsep.io.keyframes import EPS as _EPS
from avsep.io.keyframes import STILL_MAX_S, Keyframes, Still
from avsep.io.media import (
    MediaInfo,
    VideoStreamInfo,
    container_origin,
    decode_frames,
    open_input,
    probe,
)
from avsep.timing import stage

if TYPE_CHECKING:
    import torch


#: Decode forward rather than seek when the next time is at most this far ahead (or one GOP,
#: whichever is longer): a seek lands on the keyframe before the time and decodes from there
#: anyway, so it only pays off for jumps longer than a keyframe interval.
_MIN_FORWARD_S = 2.0

#: Frames shown more than this before the time being decoded to are decoded only if other
#: frames are predicted from them (FFmpeg's ``skip_frame = NONREF``): a phone's or x264's
#: B-frames are about half of all frames, and nothing refers to the skipped ones, so every frame
#: that is decoded, the answer included, is bit for bit what decoding everything gives. A tenth
#: of a second is a hundred times timestamp rounding (milliseconds), so the answer is never
#: skipped; within it (and near the stream's end, where the last frame answers later times)
#: every frame is decoded. (Half a second, before: the exact motion frames of automatic mode
#: decoded 0.04 s more CPU per 720p shot for nothing.)
_SKIP_BEFORE_S = 0.1

#: Within this much of the stream's end nothing is skipped: a time past the last frame is
#: answered by that frame, which is shown before the time (a video stream may end a few frames
#: before its stated duration).
_NEAR_END_S = 1.0

#: Decoder options of a reader whose frames are analysed (the guide's crops, the player finder),
#: not shown: H.264's and HEVC's deblocking filter is skipped. It smooths block edges for the
#: eye; the analysis shrinks each crop to 224 x 224 with antialiasing, which smooths them anyway.
#: On the 2-minute 720p benchmark video the guide frames took 18-22 % less decoding CPU and
#: differed from fully filtered ones by 0.12 grey levels on average
#: (docs/experiments/2026-12-06-speed-round-2.md). Frames for the eye (``display=True``) keep it.
_ANALYSIS_OPTIONS = {"skip_loop_filter": "all"}

#: This many keyframe pairs in a row whose picture did not hold still: the video moves, and
#: judging more pairs (a keyframe decoded and cropped for each) would only cost.
_MOVING_PAIRS = 3


class FrameReader:
    """Seek-based reader of one video stream; use as a context manager.

    Times are seconds on the avsep timeline (0 = container start, see :mod:`avsep.io.media`).
    """

    info: VideoStreamInfo

    def __init__(
        self, source: str | Path | MediaInfo, video_stream: int | None = None, *, display: bool = False
    ) -> None:
        """``source``: the file's :func:`probe` result (the pipeline's file handle: probing decodes
        a frame for the rotation, so a file is probed once, not once per reader), or a path to
        probe here with ``video_stream``. ``display``: the frames are shown to a person, so they
        are decoded in full (:data:`_ANALYSIS_OPTIONS` are for frames that are only analysed)."""
        media = source if isinstance(source, MediaInfo) else probe(source, video_stream=video_stream)
        if media.video is None:
            raise InputError(f"{media.path}: no video stream; avsep needs a video with pictures (see --video-stream)")
        self.path = media.path
        self.info = media.video
        self._start = media.start  # time 0 of a --start range, in the file's seconds
        self._container: av.container.InputContainer | None = None
        self._gop = _MIN_FORWARD_S  # lower bound on the keyframe interval, seconds
        self._options = {} if display else _ANALYSIS_OPTIONS
        self._snapping = True  # keyframes may answer for times (until they prove rare)
        self._moving = 0  # keyframe pairs in a row judged not still
        self._open()

    # -- public API -------------------------------------------------------------------------

    def frames_at(self, times: Sequence[float]) -> list[np.ndarray]:
        """One HxWx3 uint8 RGB frame per time, in the order given.

        Each is the first frame shown at or after the time; times past the end get the last
        frame, times before the start the first. Repeated or close times reuse decoding, and
        requests are served in time order whatever order they come in.
        """
        return [frame for frame, _ in self.frames_and_times_at(times)]

    def frames_and_times_at(
        self, times: Sequence[float], snap: float = 0.0, still: Still | None = None
    ) -> list[tuple[np.ndarray, float]]:
        """:meth:`frames_at`, each frame with the time it is shown from (its timestamp on the
        avsep timeline): at or after the time asked for, or before it past the end. Boxes that
        change at a given time apply to the frames *shown* from then on, which is this time.

        ``snap`` > 0: a keyframe shown within ``snap`` seconds of a time may answer for it (then
        its own time is returned, which may be before the time). A keyframe decodes alone, while
        the frame at the time needs every reference frame since the keyframe before it: where
        keyframes come often (a phone's encoder puts one every 1-2 s), a frame that only guides
        the separation costs one picture instead of a run of them. ``still`` (with ``snap``):
        where the caller judges that the picture held still from the keyframe before a time to
        the one after it (at most :data:`STILL_MAX_S` apart; a pair is judged once while times
        go forward), the nearer one answers however far it is: at x264's default interval
        (8-10 s) every reference frame would be decoded otherwise; after
        :data:`_MOVING_PAIRS` pairs in a row that did not hold still, the reader stops judging.
        Where keyframes are rare (or the index does not lead to them), it stops trying and
        decodes exactly."""
        result: list[tuple[np.ndarray, float] | None] = [None] * len(times)
        for i in sorted(range(len(times)), key=lambda k: times[k]):
            t = max(0.0, float(times[i]))
            result[i] = self._keyframe_answer(t, snap, still) if snap > 0 and self._snapping else None
            if result[i] is None:
                frame = self._frame_at(t)
                result[i] = (frame, self._held_time)
        return result  # type: ignore[return-value]

    def close(self) -> None:
        """Release the container and the keyframes held (idempotent)."""
        if self._container is not None:
            self._container.close()
            self._container = None
            self._keys.pair = None

    def __enter__(self) -> FrameReader:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- decoding state ---------------------------------------------------------------------

    def _open(self) -> None:
        self.close()
        self._container = open_input(self.path)
        self._stream = next(s for s in self._container.streams if s.index == self.info.index)
        self._stream.thread_type = decoder_threads()
        self._stream.codec_context.options = dict(self._options)
        self._origin = container_origin(self._container) + self._start
        self._skipping = False  # the decoder's skip_frame is NONREF
        self._skip_before = -float("inf")  # non-reference frames shown before this are skipped
        self._keys = Keyframes(
            self._container, self._stream, self._origin, self._options, self._upright, self._drop_run
        )
        self._reset(decode_frames(self._container, self._stream, self._before_packet))

    def _reset(self, decoder: Iterator[av.VideoFrame]) -> None:
        """Start a fresh decoding run (after opening or seeking)."""
        self._decoder = decoder
        self._held: av.VideoFrame | None = None  # last frame decoded in this run
        self._held_time = 0.0
        self._held_rgb: np.ndarray | None = None
        self._held_for = 0.0  # the held frame is the answer for times in [_held_for, _held_time]
        self._first_time: float | None = None  # first frame time of this run
        self._exhausted = False
        self._last_key: float | None = None

    def _time(self, frame: av.VideoFrame) -> float:
        if frame.time is not None:
            return frame.time - self._origin
        # No timestamp: assume it follows the previous frame at the average rate.
        step = 1.0 / self.info.fps if self.info.fps > 0 else 0.0
        return self._held_time + step if self._held is not None else 0.0

    def _advance(self, t: float) -> None:
        """Decode until the held frame is the first at/after ``t`` or the stream ends."""
        end = self.info.duration
        near_end = end is None or t > end - _NEAR_END_S
        self._skip_before = -float("inf") if near_end else t - _SKIP_BEFORE_S
        while self._held is None or self._held_time < t - _EPS:
            frame = next(self._decoder, None)
            if frame is None:
                self._exhausted = True
                break
            time = self._time(frame)
            # A frame this far after the run's last keyframe proves the GOP at least this long.
            if frame.key_frame:
                self._last_key = time
            elif self._last_key is not None:
                self._gop = max(self._gop, time - self._last_key)
            if self._first_time is None:
                self._first_time = time
            self._held, self._held_time, self._held_rgb = frame, time, None
        self._held_for = t

    def _seek(self, start: float) -> None:
        offset = int((self._origin + max(start, 0.0)) / self._stream.time_base)
        try:
            self._container.seek(offset, stream=self._stream, backward=True)
        except (av.error.FFmpegError, OSError, ValueError):
            # Unseekable input: start over from the beginning instead.
            self._open()
            return
        self._reset(decode_frames(self._container, self._stream, self._before_packet))

    def _before_packet(self, packet: av.Packet) -> None:
        """Skip decoding ``packet`` if it is a non-reference frame shown before
        :data:`_SKIP_BEFORE_S` ahead of the time being decoded to (see there)."""
        shown = packet.pts * self._stream.time_base - self._origin if packet.pts is not None else None
        skip = shown is not None and shown < self._skip_before
        if skip != self._skipping:
            self._stream.codec_context.skip_frame = "NONREF" if skip else "DEFAULT"
            self._skipping = skip

    def _frame_at(self, t: float) -> np.ndarray:
        if self._held is not None and self._held_for <= t:
            if t <= self._held_time + _EPS or self._exhausted:
                return self._rgb()
            if t - self._held_time <= self._gop:
                self._advance(t)
                return self._rgb()
        back = 0.0
        while True:
            start = t - back
            self._seek(start)
            self._advance(t)
            # The run must begin at/before t, else a frame before t could have been skipped
            # (an imprecise index, or t past the real end of a cut file).
            if self._held is not None and (self._first_time <= t + _EPS or start <= 0):
                return self._rgb()
            if start <= 0:
                raise InputError(f"{self.path}: no decodable video frames; check that the file plays in a media player")
            back = max(1.0, back * 4)

    def _rgb(self) -> np.ndarray:
        """The held frame as displayed RGB: converted once however often it is asked for, and
        returned as a fresh copy so callers may modify it."""
        if self._held_rgb is None:
            self._held_rgb = self._upright(self._held)
        return self._held_rgb.copy()

    def _upright(self, frame: av.VideoFrame) -> np.ndarray:
        # np.rot90 turns counter-clockwise; rotation is clockwise.
        return np.rot90(frame.to_ndarray(format="rgb24"), -self.info.rotation // 90)

    def _keyframe_answer(self, t: float, snap: float, still: Still | None) -> tuple[np.ndarray, float] | None:
        """The keyframe that may answer for ``t`` (see :meth:`frames_and_times_at`) and its time,
        or None: then the caller decodes exactly. Stops looking for good when keyframes prove
        rare (none within :data:`STILL_MAX_S` before ``t``: a video with one keyframe would
        otherwise be demuxed from its start at every lookup), when a seek does not land on a
        keyframe (an MPEG-TS file's index), or when a keyframe does not decode alone. Where
        keyframes are merely far apart, a lookup costs a seek, a demux of at most 13 s of
        packets and a decoding run started again from the keyframe before ``t``."""
        if self._moving >= _MOVING_PAIRS:
            still = None
        pair = self._keys.around(t)
        if pair is None:
            self._snapping = False
            return None
        first, after = pair
        latest = after if after is not None and after.time <= t + snap else first  # the last within reach
        if t - latest.time > STILL_MAX_S:
            self._snapping = False
            return None
        shown = [k for k in pair if k is not None and k.time >= -_EPS]  # not before the range's start
        if not shown:
            return None
        near = min(shown, key=lambda k: abs(k.time - t))
        if abs(near.time - t) > snap + _EPS and not self._held_still(t, still):
            return None
        picture = self._keys.picture(near)
        if picture is None:
            self._snapping = False
            return None
        return picture.copy(), near.time

    def _held_still(self, t: float, still: Still | None) -> bool:
        """Whether the keyframes around ``t`` show one picture, as ``still`` judges (once per
        pair and judge): both shown (not before the range's start) and at most
        :data:`STILL_MAX_S` apart."""
        first, after = self._keys.pair
        if still is None or after is None or not -_EPS <= first.time <= t + _EPS < after.time:
            return False
        if after.time - first.time > STILL_MAX_S:
            return False
        if self._keys.verdict is None or self._keys.verdict[0] != still:
            pictures = [self._keys.picture(k) for k in (first, after)]
            if pictures[0] is None or pictures[1] is None:
                self._snapping = False
                return False
            held = bool(still((pictures[0], first.time), (pictures[1], after.time)))
            self._keys.verdict = (still, held)
            self._moving = 0 if held else self._moving + 1
        return self._keys.verdict[1]

    def _drop_run(self) -> None:
        """The container moved (a keyframe lookup): an exact frame seeks again."""
        self._held = None


def _letterbox(crop: "torch.Tensor") -> "torch.Tensor":
    """Pad ``[1, 3, h, w]`` to a centred square filled with the crop's mean colour."""
    h, w = crop.shape[-2:]
    side = max(h, w)
    if h == w:
        return crop
    out = crop.mean(dim=(2, 3), keepdim=True).expand(1, 3, side, side).clone()
    top, left = (side - h) // 2, (side - w) // 2
    out[:, :, top : top + h, left : left + w] = crop
    return out


#: side of the square crops the visual trunk reads (:func:`crop_boxes`)
CROP_SIZE = 224


def box_region(frame: np.ndarray, box: Sequence[float]) -> np.ndarray:
    """``frame``'s pixels inside ``(x0, y0, x1, y1)`` (displayed-frame pixels, rounded and
    clipped to the frame); a box with nothing inside is a one-line :class:`InputError`."""
    height, width = frame.shape[:2]
    x0, y0, x1, y1 = (int(round(v)) for v in box)
    x0, x1 = min(max(x0, 0), width), min(max(x1, 0), width)
    y0, y1 = min(max(y0, 0), height), min(max(y1, 0), height)
    if x1 <= x0 or y1 <= y0:
        raise InputError(
            f"box {tuple(box)} lies outside the {width}x{height} frame; "
            "give boxes as x0,y0,x1,y1 in displayed-frame pixels"
        )
    return frame[y0:y1, x0:x1]


def crop_boxes(frame: np.ndarray, boxes: Sequence[tuple[int, int, int, int]], size: int = CROP_SIZE) -> np.ndarray:
    """Crop ``(x0, y0, x1, y1)`` boxes (displayed-frame pixels, clipped to the frame) and resize
    each to ``size`` x ``size`` bilinearly; returns ``[n_boxes, size, size, 3]`` uint8.

    A non-square crop is first padded to a square with its own mean colour (letterboxed), not
    squashed: a duet's half-frame strip squashed 2:1 distorts the instrument's shape, and on
    the real clips squashing cost the ImageNet trunk its cello (docs/backbones.md).

    Antialiasing is on so that shrinking a large box matches what the visual trunk saw in
    training (PIL-style bilinear), instead of aliasing fine texture.
    """
    # Deferred: probing and audio-only work should not pay torch's import time.
    import torch
    import torch.nn.functional as F

    out = np.empty((len(boxes), size, size, 3), np.uint8)
    for i, box in enumerate(boxes):
        crop = torch.from_numpy(np.ascontiguousarray(box_region(frame, box)))
        crop = _letterbox(crop.permute(2, 0, 1)[None].float())
        resized = F.interpolate(crop, size=(size, size), mode="bilinear", align_corners=False, antialias=True)
        out[i] = resized[0].permute(1, 2, 0).round().clamp(0, 255).to(torch.uint8).numpy()
    return out


def resize_frames(frames: np.ndarray) -> np.ndarray:
    """``[F, H, W, 3]`` uint8 of any size -> ``[F, 224, 224, 3]`` (the whole picture is the box)."""
    frames = np.asarray(frames, dtype=np.uint8)
    if frames.ndim == 3:
        frames = frames[None]
    if frames.ndim != 4 or frames.shape[-1] != 3 or 0 in frames.shape:
        raise InputError(f"frames must be [F, H, W, 3] or [H, W, 3] RGB pictures, got shape {frames.shape}")
    with stage("crop+resize"):
        return np.stack([crop_boxes(f, [(0, 0, f.shape[1], f.shape[0])])[0] for f in frames])
