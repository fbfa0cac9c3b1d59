"""Where the players may be, from cues that are not the instrument classifier: people and motion.

The class activation maps of :mod:`avsep.boxes.detect` see instruments, and only the ones ImageNet
knows well; a player is a *person* holding one. Two cues need no download and no training:

* **people**: the frontal-face Haar cascade OpenCV's wheel ships (``cv2.data.haarcascades``).
  Each face is turned into the box a user would draw around that person playing: a face is
  small, the instrument is below and beside it.
* **motion**: what changes between the frames the separation samples of one shot (bowing arms,
  fingers, a swaying saxophone; a wall does not move). A still frame has no motion cue. What
  moves close together is one mover (a cellist's bow tip, arm and head), so that a player the
  instrument maps miss is one box, not three.

Both only say *where* to look; :mod:`avsep.boxes.fusion` decides whether a player is there and
which instrument it plays. OpenCV is imported when a cue is first computed (start-up time).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

import numpy as np

from avsep.boxes.box import Box

#: The cascade (OpenCV's file name) and how a face becomes a player box: the face ``(x, y, w, h)``
#: maps to ``(x + a*w, y + b*h, x + c*w, y + d*h)``: 1.5 face widths to each side and 5 face
#: heights down (the instrument is held below the face; a cellist's cello reaches the floor).
#: Only frontal faces: on still and moving composites of the guide head's val photos, adding
#: the profile-face or the upper-body cascade scores the same (``benchmarks/detect_players.py
#: --calibrate faces``; docs/experiments/2026-12-06-finder-knobs-allowed.md) and runs a second
#: cascade over every frame.
CASCADES: dict[str, tuple[float, float, float, float]] = {
    "haarcascade_frontalface_default.xml": (-1.5, -0.5, 2.5, 5.0),
}
#: OpenCV's ``scaleFactor``: 1.2 scores higher there than 1.1 (which also tries more scales).
SCALE_STEP = 1.2
#: Haar cascades run on a grey copy with this short side (pixels): faster than full HD, and
#: a face of a player who fills a third of the frame is still 30+ pixels wide.
PERSON_SHORT_SIDE = 360
#: Faces smaller than this share of the short side are not players (a poster, a crowd).
MIN_FACE = 0.06
#: A cascade hit needs this many neighbouring hits (OpenCV's ``minNeighbors``): fewer false faces
#: (3 scores the same there, 9 lower).
MIN_NEIGHBOURS = 6

#: Motion is measured on grey copies this many pixels on the short side (cells of the grid).
MOTION_SHORT_SIDE = 36
#: A cell moves when its mean absolute change is at least this share of the frame's strongest
#: change and at least :data:`MOTION_FLOOR` grey levels (0..255): compression noise is not motion.
#: A higher share loses a quiet player beside a lively one (the frame's strongest change): on
#: moving composites of the guide head's val photos 0.25 and 0.35 score lower than 0.15
#: (``benchmarks/detect_players.py --calibrate knobs``;
#: docs/experiments/2026-12-06-finder-knobs-allowed.md).
MOTION_SHARE = 0.15
#: (2, 4 and 8 score the same on the moving composites: the share decides there.)
MOTION_FLOOR = 4.0
#: Blobs of fewer moving cells than this are noise.
MOTION_MIN_CELLS = 2
#: Moving cells at most ``2 * MOTION_JOIN`` still cells apart are one mover: one player's bowing
#: arm, bow tip and head move apart from each other, and are one person (0: every 8-connected
#: blob is a mover of its own). On the moving composites 0 and 1 score lower, 3 the same
#: (``--calibrate knobs``).
MOTION_JOIN = 2


@cache
def _cascade(name: str):
    import cv2

    return cv2.CascadeClassifier(cv2.data.haarcascades + name)


def person_boxes(frame: np.ndarray) -> list[Box]:
    """Player boxes of the people found in ``frame`` (``H x W x 3`` uint8), in its pixels,
    overlapping ones merged (a face inside an upper body is one person)."""
    import cv2

    height, width = frame.shape[:2]
    scale = min(1.0, PERSON_SHORT_SIDE / min(height, width))
    grey = cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2GRAY)
    if scale < 1.0:
        grey = cv2.resize(grey, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA)
    grey = cv2.equalizeHist(grey)
    smallest = max(12, int(MIN_FACE * min(grey.shape)))
    boxes: list[Box] = []
    for name, (a, b, c, d) in CASCADES.items():
        hits = _cascade(name).detectMultiScale(grey, SCALE_STEP, MIN_NEIGHBOURS, minSize=(smallest, smallest))
        for x, y, w, h in np.asarray(hits).reshape(-1, 4) / scale:
            box = (x + a * w, y + b * h, x + c * w, y + d * h)
            boxes.append(_clip(box, width, height))
    return merge_overlapping(boxes)


def merge_overlapping(boxes: Sequence[Box]) -> list[Box]:
    """Boxes of which one holds the other's centre, joined into their union until none do."""
    out = [tuple(b) for b in boxes]
    merged = True
    while merged:
        merged = False
        for i in range(len(out)):
            for j in range(i + 1, len(out)):
                if contains_centre(out[i], out[j]) or contains_centre(out[j], out[i]):
                    a, b = out[i], out[j]
                    out[i] = (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))
                    del out[j]
                    merged = True
                    break
            if merged:
                break
    return out  # type: ignore[return-value]


def contains_centre(outer: Box, inner: Box) -> bool:
    """Whether ``inner``'s centre lies inside ``outer``."""
    cx, cy = (inner[0] + inner[2]) / 2, (inner[1] + inner[3]) / 2
    return outer[0] <= cx < outer[2] and outer[1] <= cy < outer[3]


def small_grey(frame: np.ndarray) -> np.ndarray:
    """A grey copy of ``frame`` with :data:`MOTION_SHORT_SIDE` pixels on its short side (block
    means), float32 0..255: what motion is measured on."""
    height, width = frame.shape[:2]
    scale = MOTION_SHORT_SIDE / min(height, width)
    return block_means(luma(frame), max(1, round(height * scale)), max(1, round(width * scale)))


def luma(frame: np.ndarray) -> np.ndarray:
    """The grey (BT.601 luma) float32 copy of an RGB ``frame``: what every motion cue compares."""
    return frame.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)


def block_means(image: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """``image`` shrunk to ``rows`` x ``cols`` by the mean of each block (channels kept): the
    cheap small picture that both motion and the finder's cut test compare. Blocks split the
    picture at whole pixels as evenly as they can. An 8-bit picture is summed exactly, as
    integers, from its integral image (OpenCV): a 1080p frame in 1.2 ms (1.5 ms reshaping its
    even blocks before), a 1280 x 640 one, which the finder's 32 x 18 blocks do not tile evenly,
    in 0.5 ms (3 ms summing uneven blocks before)."""
    row_edges = np.linspace(0, image.shape[0], rows + 1).astype(int)
    col_edges = np.linspace(0, image.shape[1], cols + 1).astype(int)
    sizes = np.outer(np.diff(row_edges), np.diff(col_edges))
    sizes = np.maximum(sizes, 1).reshape(sizes.shape + (1,) * (image.ndim - 2))
    if image.dtype == np.uint8:
        import cv2  # deferred: the separation with boxes never shrinks a whole frame

        exact = cv2.CV_32S if 255 * image.shape[0] * image.shape[1] < 2**31 else cv2.CV_64F
        total = cv2.integral(np.ascontiguousarray(image), sdepth=exact)[row_edges][:, col_edges]
        sums = total[1:, 1:] - total[:-1, 1:] - total[1:, :-1] + total[:-1, :-1]
        return sums.reshape(rows, cols, *image.shape[2:]) / sizes
    sums = np.add.reduceat(np.add.reduceat(image, row_edges[:-1], axis=0), col_edges[:-1], axis=1)
    return sums / sizes


def motion_boxes(
    greys: Sequence[np.ndarray], width: int, height: int, join: int = MOTION_JOIN, share: float = MOTION_SHARE
) -> list[Box]:
    """Boxes (in pixels of a ``width`` x ``height`` frame) around what moves between successive
    ``greys`` (:func:`small_grey` of frames of one shot), strongest first; none from fewer
    than two frames. Blobs at most ``2 * join`` cells apart are one box (:data:`MOTION_JOIN`);
    a cell moves when it changes by ``share`` of the strongest change (:data:`MOTION_SHARE`)."""
    if len(greys) < 2:
        return []
    change = np.mean([np.abs(b - a) for a, b in zip(greys[:-1], greys[1:])], axis=0)
    peak = float(change.max())
    moving = change >= max(MOTION_FLOOR, share * peak)
    labels, count = connected_components(dilate(moving, join))
    gh, gw = change.shape
    found = []
    for k in range(1, count + 1):
        cells = moving & (labels == k)
        if cells.sum() < MOTION_MIN_CELLS:
            continue
        rows, cols = np.flatnonzero(cells.any(1)), np.flatnonzero(cells.any(0))
        box = (cols[0] * width / gw, rows[0] * height / gh, (cols[-1] + 1) * width / gw, (rows[-1] + 1) * height / gh)
        found.append((float(change[cells].sum()), _clip(box, width, height)))
    return [b for _, b in sorted(found, key=lambda sb: -sb[0])]


def dilate(mask: np.ndarray, radius: int) -> np.ndarray:
    """``mask`` grown by ``radius`` cells in every direction (a square structuring element)."""
    if radius <= 0:
        return mask
    height, width = mask.shape
    padded = np.pad(mask, radius)
    out = np.zeros_like(mask)
    for dy in range(2 * radius + 1):
        for dx in range(2 * radius + 1):
            out |= padded[dy : dy + height, dx : dx + width]
    return out


def connected_components(mask: np.ndarray) -> tuple[np.ndarray, int]:
    """Connected components of ``mask`` (8-connected), numbered from 1 in row-major order of
    their first cell, and their count: ``scipy.ndimage.label`` with a 3 x 3 structure, which the
    separation-only install does not bring (the grids are a few hundred cells)."""
    labels = np.zeros(mask.shape, np.int32)
    height, width = mask.shape
    count = 0
    for r, c in zip(*np.nonzero(mask)):
        if labels[r, c]:
            continue
        count += 1
        labels[r, c] = count
        stack = [(int(r), int(c))]
        while stack:
            y, x = stack.pop()
            for ny in range(max(y - 1, 0), min(y + 2, height)):
                for nx in range(max(x - 1, 0), min(x + 2, width)):
                    if mask[ny, nx] and not labels[ny, nx]:
                        labels[ny, nx] = count
                        stack.append((ny, nx))
    return labels, count


def _clip(box: Sequence[float], width: int, height: int) -> Box:
    x0, y0, x1, y1 = box
    return (
        int(round(min(max(x0, 0), width - 1))),
        int(round(min(max(y0, 0), height - 1))),
        int(round(min(max(x1, 1), width))),
        int(round(min(max(y1, 1), height))),
    )
