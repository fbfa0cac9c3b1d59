"""The people in a picture: MediaPipe's BlazePose person detector, run with torch alone.

The network is MediaPipe's ``pose_detection.tflite`` (Apache-2.0), taken from the PyPI wheel
``mediapipe==0.10.21`` and converted once into TorchScript by
``scripts/convert_person_detector.py``; the file ships in ``weights/`` with its card
(``blazepose-detector.json``: origin, sha256 of the wheel and of the .tflite, licence), so
nothing is downloaded and no new package is needed. What is here follows the options of
MediaPipe's ``pose_detection_cpu.pbtxt`` graph exactly:

* **input** (ImageToTensorCalculator): the picture letterboxed into 224 x 224 (aspect kept,
  centred, the border black), RGB scaled to [-1, 1];
* **anchors** (SsdAnchorsCalculator): 5 layers, strides 8, 16, 32, 32, 32, scales 0.1484375 to
  0.75, aspect ratio 1, offsets 0.5, fixed anchor size: 2 anchors per cell of each layer, the
  three stride-32 layers sharing a 7 x 7 grid, 2254 in all;
* **decoding** (TensorsToDetectionsCalculator): 12 values per anchor, the box (x and y centre,
  width, height) and 4 keypoints (x, y) in 224ths of the input, reverse order (x first);
  scores clipped to +-100 and passed through a sigmoid; kept from 0.5;
* **suppression** (NonMaxSuppressionCalculator): weighted, IoU 0.3: the boxes and keypoints of
  detections that overlap the best one by more are averaged with it, weighted by score;
* the letterbox is removed (DetectionLetterboxRemovalCalculator).

The box is the person's *face*; keypoint 0 is the middle of the hips, and keypoint 1 lies on the
circle around the whole body (keypoints 2 and 3: the same for the upper body). MediaPipe's body
region (``pose_detection_to_roi.pbtxt``) is a square centred on keypoint 0 whose side is twice
the distance from keypoint 0 to keypoint 1, enlarged 1.25 times: :attr:`Person.body` is its
axis-aligned bounding box; :attr:`Person.upper` is the same square for the upper body
(keypoints 2 and 3), MediaPipe's upper-body region.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import warnings
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from avsep.errors import ModelError
from avsep.models.weights import weights_dir

#: The weights' file is ``<DETECTOR>-<sha8>.torchscript``, its card ``<DETECTOR>.json``.
DETECTOR = "blazepose-detector"
INPUT_SIZE = 224
#: SsdAnchorsCalculator options of pose_detection_cpu.pbtxt
STRIDES = (8, 16, 32, 32, 32)
ANCHORS_PER_LAYER = 2  # aspect ratio 1.0 plus the interpolated scale (fixed anchor size: both 1 x 1)
#: TensorsToDetectionsCalculator options
NUM_KEYPOINTS = 4
SCORE_CLIP = 100.0
MIN_SCORE = 0.5
#: NonMaxSuppressionCalculator options (weighted)
NMS_IOU = 0.3
#: A frame longer than this many times its short side is also looked at in square windows
#: (:func:`windows`): the detector sees a player who fills one column of a split-screen duet at
#: twice the size, and one person does not hide another (on a side-by-side picture of two
#: people, the whole picture alone gave one of them, each window its own).
WINDOW_ASPECT = 1.25
#: pose_detection_to_roi.pbtxt: the body square is this much larger than the keypoints' circle
BODY_SCALE = 1.25

Box = tuple[int, int, int, int]  # x0, y0, x1, y1 (avsep.boxes.box's Box; models/ sits below boxes/)


@dataclass(frozen=True)
class Person:
    """One person, in the picture's pixels."""

    face: Box  #: the detector's box (the face)
    body: Box  #: the whole body's region (see module doc), clipped to the picture
    upper: Box  #: the upper body's region, made alike from keypoints 2 and 3
    score: float  #: the detector's confidence, 0.5..1
    keypoints: tuple[tuple[float, float], ...]  #: hips' middle, body circle, shoulders' middle, upper-body circle


def anchors() -> np.ndarray:
    """``[2254, 2]``: each anchor's centre (x, y) in 0..1 of the input, in the network's order."""
    out = []
    layer = 0
    while layer < len(STRIDES):
        stride = STRIDES[layer]
        same = sum(1 for s in STRIDES[layer:] if s == stride)  # consecutive layers of one stride share a grid
        cells = math.ceil(INPUT_SIZE / stride)
        ys, xs = np.mgrid[0:cells, 0:cells]
        centres = np.stack([(xs + 0.5) / cells, (ys + 0.5) / cells], -1).reshape(-1, 1, 2)
        out.append(np.repeat(centres, ANCHORS_PER_LAYER * same, axis=1).reshape(-1, 2))
        layer += same
    return np.concatenate(out).astype(np.float32)


def letterbox(frame: np.ndarray) -> tuple[torch.Tensor, tuple[float, float, float, float]]:
    """``H x W x 3`` uint8 -> ``[1, 3, 224, 224]`` in [-1, 1], and the padding (left, top,
    right, bottom) as fractions of the input, as ImageToTensorCalculator makes them."""
    height, width = frame.shape[:2]
    scale = INPUT_SIZE / max(height, width)
    h, w = max(1, round(height * scale)), max(1, round(width * scale))
    x = torch.from_numpy(np.ascontiguousarray(frame)).permute(2, 0, 1)[None].float()
    x = F.interpolate(x, size=(h, w), mode="bilinear", align_corners=False, antialias=True)
    top, left = (INPUT_SIZE - h) // 2, (INPUT_SIZE - w) // 2
    # black border; channels-last, the frame's own layout: the network's convolutions run
    # about 1.4x faster on it than on planar input (same values to float rounding)
    out = torch.zeros(1, 3, INPUT_SIZE, INPUT_SIZE).contiguous(memory_format=torch.channels_last)
    out[:, :, top : top + h, left : left + w] = x
    right, bottom = INPUT_SIZE - w - left, INPUT_SIZE - h - top
    return out / 127.5 - 1.0, (left / INPUT_SIZE, top / INPUT_SIZE, right / INPUT_SIZE, bottom / INPUT_SIZE)


def decode(raw: np.ndarray, logits: np.ndarray, centres: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``[n, 12]`` raw values and ``[n]`` score logits -> ``[n, 12]`` (box as x0, y0, x1, y1,
    then 4 keypoints x, y; 0..1 of the input) and ``[n]`` scores (sigmoid)."""
    raw = raw / INPUT_SIZE
    cx, cy = raw[:, 0] + centres[:, 0], raw[:, 1] + centres[:, 1]
    w, h = raw[:, 2], raw[:, 3]
    out = np.empty_like(raw)
    out[:, :4] = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], 1)
    out[:, 4::2] = raw[:, 4::2] + centres[:, :1]
    out[:, 5::2] = raw[:, 5::2] + centres[:, 1:]
    scores = 1.0 / (1.0 + np.exp(-np.clip(logits.astype(np.float64), -SCORE_CLIP, SCORE_CLIP)))
    return out, scores


def iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Intersection over union of one ``[4]`` box (x0, y0, x1, y1) with each of ``[n, 4]``."""
    w = np.clip(np.minimum(box[2], boxes[:, 2]) - np.maximum(box[0], boxes[:, 0]), 0, None)
    h = np.clip(np.minimum(box[3], boxes[:, 3]) - np.maximum(box[1], boxes[:, 1]), 0, None)
    inter = w * h
    area = (box[2] - box[0]) * (box[3] - box[1]) + (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return np.where(inter > 0, inter / np.maximum(area - inter, 1e-12), 0.0)


def weighted_nms(values: np.ndarray, scores: np.ndarray, threshold: float = NMS_IOU) -> list[tuple[np.ndarray, float]]:
    """MediaPipe's weighted non-maximum suppression: best first, each detection with those that
    overlap it by more than ``threshold`` (IoU) averaged into it, weighted by score; the score
    is the best one's."""
    order = np.argsort(-scores, kind="stable")
    out = []
    while order.size:
        best = order[0]
        near = iou(values[best, :4], values[order, :4]) > threshold
        group = order[near]
        weights = scores[group][:, None]
        out.append(((values[group] * weights).sum(0) / weights.sum(), float(scores[best])))
        order = order[~near]
    return out


class PersonDetector:
    """The bundled BlazePose detector: :meth:`detect` finds the people in a frame."""

    def __init__(self, network: torch.jit.ScriptModule, min_score: float = MIN_SCORE) -> None:
        self.network = network
        self.min_score = min_score
        self._centres = anchors()

    @torch.inference_mode()
    def detect(self, frame: np.ndarray, fine: bool = False) -> list[Person]:
        """The people in ``frame`` (``H x W x 3`` uint8 RGB), surest first: the detector looks at
        the whole frame and at the square windows of :func:`windows` (a player in one column of
        a wide frame is small in the whole of it; with ``fine``, also at half that size), and what
        it finds in several is one person."""
        height, width = frame.shape[:2]
        inputs, places = [], []
        for x0, y0, x1, y1 in windows(width, height, fine):
            x, pad = letterbox(frame[y0:y1, x0:x1])
            inputs.append(x)
            places.append((x0, y0, x1 - x0, y1 - y0, pad))
        # Run as traced, without the JIT's profiling passes: they re-profile for every new
        # batch size (one per frame shape here) and made a first call 5x slower than the next.
        with torch.jit.optimized_execution(False):
            batch = torch.cat(inputs).contiguous(memory_format=torch.channels_last)
            raws, logits = (t.float().numpy() for t in self.network(batch))
        found: list[tuple[np.ndarray, float]] = []
        for raw, logit, (x0, y0, w, h, (left, top, right, bottom)) in zip(raws, logits, places):
            values, scores = decode(raw, logit[:, 0], self._centres)
            keep = scores >= self.min_score
            for v, score in weighted_nms(values[keep], scores[keep]):
                v = v.copy()
                v[0::2] = x0 + (v[0::2] - left) / (1.0 - left - right) * w  # the letterbox removed,
                v[1::2] = y0 + (v[1::2] - top) / (1.0 - top - bottom) * h  # in the frame's pixels
                found.append((v, score))
        people = [_person(v[0::2], v[1::2], score, width, height) for v, score in one_per_person(found)]
        return sorted(people, key=lambda p: -p.score)


def one_per_person(found: list[tuple[np.ndarray, float]]) -> list[tuple[np.ndarray, float]]:
    """The surest of the detections (decoded values in pixels, score) that the windows made of
    one person: two are one when the centre of either's box lies in the other's. (The box's size
    hardly follows the person's: about 45 of the detector's 224 pixels whatever the scale, so
    the same face seen in the whole frame and in a window overlaps by less than NMS's IoU.)"""
    kept: list[tuple[np.ndarray, float]] = []
    for v, score in sorted(found, key=lambda f: -f[1]):
        if not any(_holds_centre(k[:4], v[:4]) or _holds_centre(v[:4], k[:4]) for k, _ in kept):
            kept.append((v, score))
    return kept


def _holds_centre(box: np.ndarray, other: np.ndarray) -> bool:
    cx, cy = (other[0] + other[2]) / 2, (other[1] + other[3]) / 2
    return bool(box[0] <= cx <= box[2] and box[1] <= cy <= box[3])


def windows(width: int, height: int, fine: bool = False) -> list[tuple[int, int, int, int]]:
    """Where the detector looks in a ``width`` x ``height`` frame: the whole frame; when it is
    more than :data:`WINDOW_ASPECT` times longer than it is high (or the reverse), the squares
    of its short side that cover its long side, half a square apart; with ``fine``, also the
    squares of half the short side that cover the frame, half a square apart (a small player:
    one of a trio, a cellist bent over the instrument)."""
    out = [(0, 0, width, height)]
    short = min(width, height)
    if max(width, height) > WINDOW_ASPECT * short:
        out += _tiles(width, height, short)
    return out + (_tiles(width, height, short // 2) if fine else [])


def _tiles(width: int, height: int, side: int) -> list[tuple[int, int, int, int]]:
    """Squares of ``side`` pixels covering the frame, at most half a square apart."""
    xs, ys = (_starts(length, side) for length in (width, height))
    return [(x, y, x + side, y + side) for y in ys for x in xs]


def _starts(length: int, side: int) -> list[int]:
    count = math.ceil((length - side) / (side / 2)) + 1 if length > side else 1
    return [round(k * (length - side) / max(1, count - 1)) for k in range(count)]


def _person(xs: np.ndarray, ys: np.ndarray, score: float, width: int, height: int) -> Person:
    """A :class:`Person` from the decoded box corners and keypoints (``xs``, ``ys``: the box's
    two corners, then the 4 keypoints, in pixels)."""
    keypoints = tuple((float(x), float(y)) for x, y in zip(xs[2:], ys[2:]))
    face = _clip((xs[0], ys[0], xs[1], ys[1]), width, height)
    body, upper = (_clip(_square(keypoints[k], keypoints[k + 1]), width, height) for k in (0, 2))
    return Person(face, body, upper, score, keypoints)


def _square(centre: tuple[float, float], rim: tuple[float, float]) -> tuple[float, float, float, float]:
    """The square around the circle through ``rim`` centred on ``centre``, :data:`BODY_SCALE` times larger."""
    radius = BODY_SCALE * math.hypot(rim[0] - centre[0], rim[1] - centre[1])
    return (centre[0] - radius, centre[1] - radius, centre[0] + radius, centre[1] + radius)


def _clip(box, width: int, height: int) -> Box:
    x0, y0, x1, y1 = (int(round(v)) for v in box)
    x0, y0 = min(max(x0, 0), width - 1), min(max(y0, 0), height - 1)
    return (x0, y0, max(x0 + 1, min(x1, width)), max(y0 + 1, min(y1, height)))


def detector_file(directory: Path | None = None) -> Path | None:
    """The bundled detector's TorchScript file, or None when none ships."""
    directory = directory or weights_dir()
    found = sorted(directory.glob(f"{DETECTOR}-*.torchscript")) if directory.is_dir() else []
    return found[-1] if found else None


@cache
def load_person_detector(path: Path | None = None) -> PersonDetector | None:
    """The bundled detector (None when its file is not there), its sha256 checked against its
    name and card; a damaged file is a one-line :class:`~avsep.errors.ModelError`."""
    path = path or detector_file()
    if path is None:
        return None
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    card_file = path.with_name(DETECTOR + ".json")
    card = json.loads(card_file.read_text(encoding="utf-8")) if card_file.is_file() else {}
    recorded = card.get("sha256") if card.get("file") == path.name else None
    if not path.stem.endswith(digest[:8]) or (recorded is not None and recorded != digest):
        raise ModelError(f"{path}: the person detector's sha256 does not match its name or card (damaged); reinstall")
    with warnings.catch_warnings():
        # torch 2.13 marks TorchScript deprecated in favour of torch.export; the traced file
        # still loads and runs, and a user has nothing to change, so the warning is not theirs.
        warnings.filterwarnings("ignore", "`torch.jit.load` is deprecated", DeprecationWarning)
        network = torch.jit.load(io.BytesIO(data), map_location="cpu").eval()
    return PersonDetector(network)
