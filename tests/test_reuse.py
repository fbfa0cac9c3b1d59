"""A crop that looks like its source's last computed one reuses that crop's parts
(avsep/separation/reuse.py): the trunk runs only where the picture changed."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from avsep import Separator
from avsep.boxes.plan import BoxPlan
from avsep.boxes.shown import SAME_PICTURE, ShownCrops, thumbnails
from avsep.separation.reuse import CropMemo


class Counting:
    """A stand-in for the trunk's per-crop parts (mean colour, and the crop's id in pixel
    [0, 0, 0]) that counts the crops it is given."""

    def __init__(self) -> None:
        self.crops = 0

    def __call__(self, crops: np.ndarray) -> tuple[torch.Tensor, ...]:
        self.crops += len(crops)
        data = torch.from_numpy(crops.astype(np.float32))
        return data.mean(dim=(1, 2)), data[:, 0, 0, 0]


def _crop(level: int, mark: int = 0) -> np.ndarray:
    crop = np.full((224, 224, 3), level, np.uint8)
    crop[0, 0, 0] = mark  # one pixel: far below the threshold, but tells the crops apart
    return crop


def test_a_same_picture_reuses_the_parts_of_the_last_computed_crop():
    memo, compute = CropMemo(), Counting()
    crops = np.stack([_crop(100, 1), _crop(100, 2), _crop(200, 3), _crop(200, 4)])
    colour, mark = memo.parts(crops, [0, 0, 1, 1], compute)
    assert compute.crops == 2 and (memo.computed, memo.reused) == (2, 2)
    assert mark.tolist() == [1, 1, 3, 3]  # each source's first crop stands for the second
    assert colour.shape == (4, 3)
    # a later call: unchanged pictures are still reused across calls, a cut is looked at again
    colour, mark = memo.parts(np.stack([_crop(100, 5), _crop(30, 6)]), [0, 1], compute)
    assert compute.crops == 3
    assert mark.tolist() == [1, 6]
    # and the cut is now what source 1 is compared with
    _, mark = memo.parts(np.stack([_crop(31, 7), _crop(101, 8)]), [1, 0], compute)
    assert mark.tolist() == [6, 1] and compute.crops == 3


def test_drift_is_measured_from_the_last_computed_crop_not_the_last_seen():
    memo, compute = CropMemo(), Counting()
    step = SAME_PICTURE * 0.6  # each step under the threshold, two steps over it
    levels = [100, 100 + step, 100 + 2 * step]
    _, mark = memo.parts(np.stack([_crop(round(v), k) for k, v in enumerate(levels)]), [0, 0, 0], compute)
    assert mark.tolist() == [0, 0, 2]


def test_without_a_threshold_every_crop_is_computed():
    memo, compute = CropMemo(threshold=None), Counting()
    crops = np.stack([_crop(100, k) for k in range(5)])
    _, mark = memo.parts(crops, [0, 1, 0, 1, 0], compute)
    assert compute.crops == 5 and mark.tolist() == [0, 1, 2, 3, 4]


def test_thumbnails_average_blocks_of_grey():
    crop = np.zeros((1, 224, 224, 3), np.uint8)
    crop[0, :16, :16] = (30, 60, 90)
    thumb = thumbnails(crop)
    assert thumb.shape == (1, 14, 14)
    assert thumb[0, 0, 0] == 60 and thumb[0].sum() == 60


class CountingPlan(BoxPlan):
    """Fixed boxes that count the crops they cut."""

    def __init__(self, boxes: list[tuple[int, int, int, int]]) -> None:
        super().__init__(BoxPlan.fixed(boxes).sources)
        self.cut = 0

    def crops(self, frame, time):
        self.cut += 1
        return super().crops(frame, time)


def test_a_picture_is_cut_once_and_still_means_every_source_the_same():
    plan = CountingPlan([(0, 0, 32, 32), (32, 0, 64, 32)])
    shown = ShownCrops(plan)
    frame = np.full((32, 64, 3), 100, np.uint8)
    moved = frame.copy()
    moved[:, 40:] = 200  # the right box's picture changed
    assert shown(frame, 1.0).shape == (2, 224, 224, 3)
    assert shown(frame, 1.0) is shown(frame, 1.0) and plan.cut == 1  # known by its time
    assert shown.still((frame, 1.0), (frame + 2, 7.0))  # 2 grey levels: the same picture
    assert not shown.still((frame, 1.0), (moved, 13.0))
    assert plan.cut == 3


@pytest.mark.usefixtures("fast_model")
def test_guide_frames_between_still_keyframes_are_not_decoded_and_a_cut_between_them_is(
    tmp_video, monkeypatch, decoded_times
):
    """Keyframes every 6 s and none at the cut at 7 s (x264 ultrafast): with given boxes, the
    frames of the still span 0-6 s come from its keyframes (no decoding run there), and every
    guide crop shows the colour its box shows at the time asked, the cut's span included."""
    import avsep.separation.engine as engine

    green, yellow = (0, 255, 0), (255, 255, 0)
    video = tmp_video(
        "cut.mp4",
        duration=18.0,
        width=96,
        height=48,
        fps=10,
        gop=60,
        panels=(green, yellow),
        cuts=[(7.0, (yellow, green))],
    )
    asked: list[list[float]] = []
    read = engine.FrameReader.frames_and_times_at
    monkeypatch.setattr(
        engine.FrameReader,
        "frames_and_times_at",
        lambda r, t, snap=0.0, still=None: asked.append(list(t)) or read(r, t, snap, still),
    )
    crops: list[np.ndarray] = []
    guide = Separator.guide
    monkeypatch.setattr(Separator, "guide", lambda self, c, memo=None: crops.append(c) or guide(self, c, memo))
    stream = Separator().stream_file(video, boxes=[(0, 0, 48, 48), (48, 0, 96, 48)])
    list(stream.blocks)
    windows = np.concatenate(crops)  # [windows, sources, frames, 224, 224, 3]
    for times, window in zip(asked, windows):
        for k, t in enumerate(times):
            left, right = (green, yellow) if t <= 6.9 + 1e-6 else (yellow, green)  # the first frame at t on
            assert colour_of(window[0, k]) == left and colour_of(window[1, k]) == right, t
    assert any(6.0 < t < 9.0 for times in asked for t in times) and any(
        9.0 < t < 12.0 for times in asked for t in times
    )
    assert decoded_times and min(decoded_times) >= 6.0 - 1e-3


def colour_of(crop: np.ndarray) -> tuple[int, ...]:
    return tuple(int(round(v / 255)) * 255 for v in crop.reshape(-1, 3).mean(0))


def _textured(height: int, width: int, seed: int = 0) -> np.ndarray:
    """A picture with edges and flats at several scales."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 256, (height // 16 + 1, width // 16 + 1, 3)).astype(np.uint8)
    fine = rng.integers(-40, 40, (height, width, 3))
    big = np.repeat(np.repeat(coarse, 16, 0), 16, 1)[:height, :width].astype(int)
    return np.clip(big + fine, 0, 255).astype(np.uint8)


def test_box_thumbnails_are_the_crops_thumbnails_without_the_crops():
    """A judgement that keeps no crops reads thumbnails made straight from the frame; they must
    say what the guide crops' thumbnails say, far inside the 3-level threshold, for boxes of any
    shape."""
    from avsep.boxes.shown import box_thumbnails
    from avsep.io.video import crop_boxes

    frame = _textured(360, 640)
    boxes = [(0, 0, 640, 360), (0, 0, 320, 360), (100, 50, 420, 300), (600, 330, 640, 360), (-5, 10, 60, 400)]
    diff = np.abs(box_thumbnails(frame, boxes) - thumbnails(crop_boxes(frame, boxes)))
    assert diff.mean() < 0.3 and diff.max() < 2.0


def test_a_judge_without_crops_sees_a_box_change_and_the_whole_frame_change():
    from avsep.boxes.shown import boxes_held_still
    from avsep.io.media import VideoStreamInfo

    size = VideoStreamInfo(0, "h264", 640, 360, 30.0, 0, None)
    frame = _textured(360, 640)
    assert boxes_held_still(size, [(0, 0, 320, 360)])((frame, 0.0), (frame.copy(), 8.0))
    moved = frame.copy()
    moved[:, :320] = _textured(360, 320, seed=1)  # the player's box shows another picture
    assert not boxes_held_still(size, [(0, 0, 320, 360)])((frame, 0.0), (moved, 8.0))
    cut = frame.copy()
    cut[:, 320:] = _textured(360, 320, seed=2)  # outside the box: only the whole frame sees it
    assert not boxes_held_still(size, [(0, 0, 320, 360)])((frame, 0.0), (cut, 8.0))
