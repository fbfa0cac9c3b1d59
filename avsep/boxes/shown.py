"""What a box shows: its crop of a picture, cut once per picture, and whether the picture held
still, judged on small grey thumbnails of the crops.

The separation reuses the trunk's parts of a crop that looks like the last one computed
(:mod:`avsep.separation.reuse`), and a keyframe may stand for the guide frames between it and
the next when every box shows the same picture at both
(:meth:`avsep.io.video.FrameReader.frames_and_times_at`); the player finder judges the same way
once it knows a shot's players. One threshold, one comparison, for all three.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from avsep.boxes.plan import BoxCrops, BoxPlan
from avsep.io.video import CROP_SIZE, box_region

if TYPE_CHECKING:
    from avsep.boxes.box import Box
    from avsep.io.keyframes import Still
    from avsep.io.media import VideoStreamInfo

#: Side of the grey thumbnail a crop is compared by: 224 / 14, each cell the mean of 16 x 16
#: pixels, so camera noise, compression and a few pixels of sway average out.
THUMB = 14

#: Largest mean absolute difference (grey levels of 255) between two crops' thumbnails that
#: counts as the same picture. Chosen on generated 720p videos and the training data's frames
#: (docs/experiments/2026-12-06-speed-round-2.md), never on the real evaluation clips: a bowing
#: arm or a swaying camera stays under it, a cut or a player walking into the box is far above.
SAME_PICTURE = 3.0


def differences(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Mean absolute difference (grey levels) of thumbnails ``[..., THUMB, THUMB]``, per crop."""
    return np.abs(a - b).mean(axis=(-2, -1))


def thumbnails(crops: np.ndarray) -> np.ndarray:
    """``[n, 224, 224, 3]`` uint8 -> ``[n, THUMB, THUMB]`` float32 grey (block means)."""
    n, h, w = crops.shape[:3]
    grey = crops.astype(np.float32).mean(axis=-1)
    return grey.reshape(n, THUMB, h // THUMB, THUMB, w // THUMB).mean(axis=(2, 4))


class ByTime:
    """What ``make(frame, time)`` gives for the last :attr:`KEEP` pictures, each made once: a
    picture is known by the time it is shown from (one video, one frame per time), and the
    guide frames and keyframes come in time order, so consecutive judgements share one."""

    #: values of this many pictures are kept
    KEEP = 4

    def __init__(self, make: Callable[[Any, float], np.ndarray]) -> None:
        self.make = make
        self._made: OrderedDict[float, np.ndarray] = OrderedDict()

    def get(self, time: float) -> np.ndarray | None:
        """The value made for the picture shown at ``time``, if it is still kept."""
        return self._made.get(time)

    def __call__(self, frame: Any, time: float) -> np.ndarray:
        value = self._made.get(time)
        if value is None:
            value = self._made[time] = self.make(frame, time)
            if len(self._made) > self.KEEP:
                self._made.popitem(last=False)
        return value


class ShownCrops:
    """Each source's crop of a shown picture, cut once per picture, and whether the picture held
    still between two keyframes (the judgement :meth:`avsep.io.video.FrameReader.frames_and_times_at`
    asks for: then the keyframes answer for the guide frames between them, which are not decoded).

    A picture is known by the time it is shown from: one video, one frame per time. Where
    keyframes answer, several windows' guide frames are one keyframe, cut here once. Still
    means what :class:`~avsep.separation.reuse.CropMemo` would reuse: every source's crops at
    most ``threshold`` apart, so the guide is what the trunk would have said of either keyframe
    (a source's picture that changed between them, a cut or a player walking in, is decoded
    frame by frame as before).
    """

    def __init__(self, plan: BoxPlan, threshold: float = SAME_PICTURE) -> None:
        self.plan = plan
        self.threshold = threshold
        self._cut = ByTime(plan.crops)

    def __call__(self, frame: np.ndarray | BoxCrops, time: float) -> np.ndarray:
        """``[sources, 224, 224, 3]``: :meth:`BoxPlan.crops` of ``frame``, shown at ``time``."""
        return self._cut(frame, time)

    def still(self, first: tuple[np.ndarray, float], second: tuple[np.ndarray, float]) -> bool:
        """Whether every source's picture is the same in the two ``(frame, time)`` keyframes."""
        return held_still(lambda frame, time: thumbnails(self(frame, time)), self.threshold)(first, second)


def held_still(thumbs: Callable[[Any, float], np.ndarray], threshold: float = SAME_PICTURE) -> Still:
    """The one judgement: every box's picture the same at both keyframes, its grey thumbnails
    (``thumbs(frame, time)``, ``[boxes, THUMB, THUMB]``) at most ``threshold`` apart."""

    def still(first: tuple[np.ndarray, float], second: tuple[np.ndarray, float]) -> bool:
        return bool(differences(thumbs(*first), thumbs(*second)).max() <= threshold)

    return still


def box_thumbnails(frame: np.ndarray, boxes: Sequence[Box]) -> np.ndarray:
    """:func:`thumbnails` of the boxes' crops of ``frame`` (``H x W x 3`` uint8), without cutting
    the 224 x 224 crops: each box letterboxed with its mean colour and area-averaged to 224 by
    OpenCV, then block means. On 60 photos, boxes from 40 px to the whole picture, within 0.14
    grey levels of ``thumbnails(crop_boxes(...))`` on average and under 1 level for every box
    (the judgement's threshold is 3), at a third of the time for a whole 1080p frame, whose
    float letterbox is what the guide crops need and a judgement does not."""
    import cv2

    resized = []
    for box in boxes:
        crop = box_region(frame, box)
        h, w = crop.shape[:2]
        side = max(h, w)
        if h != w:
            top, left = (side - h) // 2, (side - w) // 2
            border = cv2.mean(np.ascontiguousarray(crop))[:3]
            crop = cv2.copyMakeBorder(
                crop, top, side - h - top, left, side - w - left, cv2.BORDER_CONSTANT, value=border
            )
        resized.append(cv2.resize(crop, (CROP_SIZE, CROP_SIZE), interpolation=cv2.INTER_AREA))
    return thumbnails(np.stack(resized))


def boxes_held_still(size: VideoStreamInfo, boxes: Sequence[Box]) -> Still:
    """Whether the picture in each of ``boxes`` and in the whole frame (of ``size``) is the same
    at two keyframes, for a reader of guide frames that keeps no crops of them (the real-clip
    evaluation's video duets, whose box is the whole frame): judged on :func:`box_thumbnails`,
    no crop cut. The player finder judges on the crops it keeps, and on these thumbnails for the
    boxes it judges without keeping (:meth:`avsep.boxes.kept.FrameKeeper.judge`)."""
    judged = [*dict.fromkeys(tuple(b) for b in boxes), (0, 0, size.width, size.height)]
    return held_still(ByTime(lambda frame, _time: box_thumbnails(frame, judged)))
