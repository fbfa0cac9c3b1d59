"""A crop that looks like its source's last computed one reuses that crop's parts
(avsep/separation/reuse.py): the trunk runs only where the picture changed."""

from __future__ import annotations

import numpy as np
import torch

from avsep.separation.reuse import SAME_PICTURE, CropMemo, thumbnails


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
