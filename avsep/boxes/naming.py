"""How found players are ordered and what is said about their names (issue 29 items 3 and 4).

* **Reading order**: outputs are numbered left to right, and players one above the other (their
  boxes' centres each inside the other's columns) top to bottom, so that ``violin1`` is the one
  a reader would name first.
* **Classes outside the model's**: the finder may name an instrument the separation model was
  not trained on (the ImageNet classes of :mod:`avsep.models.imagenet_music`: piano, drum,
  organ...). It is named as what it is, never mapped onto one of the model's classes, and the
  plan's note says so (the one :class:`~avsep.boxes.plan.AutoBoxesWarning` of the video).
* **Players read as one instrument**: the network is told a box's instrument, not its player, so
  two found players of one class get one mask between them and come out alike; and a box that
  holds another (the finder's wide box around both players) repeats its sound. Both are said.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TypeVar

from avsep.boxes.box import Box, intersection
from avsep.models.imagenet_music import INSTRUMENT_CLASSES

T = TypeVar("T")


def reading_order(boxes: Sequence[Box]) -> list[int]:
    """Indices of ``boxes`` left to right by centre; a run of boxes each of whose centre lies
    within the previous one's columns (players stacked one above the other) top to bottom."""
    by_x = sorted(range(len(boxes)), key=lambda i: (boxes[i][0] + boxes[i][2], boxes[i][1] + boxes[i][3]))
    columns: list[list[int]] = []
    for i in by_x:
        cx = (boxes[i][0] + boxes[i][2]) / 2
        last = columns[-1][-1] if columns else None
        if last is not None and boxes[last][0] <= cx < boxes[last][2] and _centre_x_in(boxes[last], boxes[i]):
            columns[-1].append(i)
        else:
            columns.append([i])
    return [i for column in columns for i in sorted(column, key=lambda k: boxes[k][1] + boxes[k][3])]


def _centre_x_in(box: Box, other: Box) -> bool:
    cx = (box[0] + box[2]) / 2
    return other[0] <= cx < other[2]


def outside_classes_note(labels: Sequence[str]) -> str | None:
    """What to tell the user when a found player's instrument is none of the model's classes."""
    outside = sorted({lab for lab in labels if lab not in INSTRUMENT_CLASSES})
    if not outside:
        return None
    return (
        f"found {', '.join(outside)}: not among the {len(INSTRUMENT_CLASSES)} instruments the model knows "
        f"({', '.join(INSTRUMENT_CLASSES)}); separated by the picture alone, so check "
        f"{'that output' if len(outside) == 1 else 'those outputs'}"
    )


#: A found box holding at least this share of another's area holds that player (and sounds alike).
HOLDS_SHARE = 0.9


def alike_note(labels: Sequence[str], boxes: Sequence[Box], motion_splits: bool = False) -> str | None:
    """What to tell the user when found players will come out alike: two or more read as one of
    the model's classes (``labels``, numbered names aside), or a box (``boxes``, in the same order)
    that holds most of another. Numbers are the outputs' (1-based, reading order).
    ``motion_splits``: the separation already splits players of one instrument by motion
    (``--same-instrument motion``), so the note says it is on rather than suggesting it."""
    said = []
    ours = [(label if label in INSTRUMENT_CLASSES else None) for label in labels]
    for label, numbers in shared_classes(ours, range(1, len(labels) + 1)).items():
        said.append(f"boxes {_listed(numbers)} are {'both' if len(numbers) == 2 else 'all'} read as {label}")
    for i, outer in enumerate(boxes, 1):
        held = [j for j, inner in enumerate(boxes, 1) if j != i and _share_inside(inner, outer) >= HOLDS_SHARE]
        if held:
            said.append(f"box {i} holds box {_listed(held)}")
    if not said:
        return None
    motion = (
        "--same-instrument motion, which is on, splits players of one instrument only by who moves when"
        if motion_splits
        else "--same-instrument motion splits players of one instrument by who moves when"
    )
    return (
        f"{'; '.join(said)}: the model is told each box's instrument, not its player, so their outputs may come "
        f"out alike; place the boxes yourself (--boxes, or avsep pick); {motion}"
    )


def shared_classes(classes: Sequence[str | None], items: Iterable[T]) -> dict[str, list[T]]:
    """Each class that two or more of ``items`` share (``classes``: each item's, None: none), with
    those items in order: the boxes whose outputs will come out alike, found or named."""
    groups: dict[str, list[T]] = {}
    for cls, item in zip(classes, items):
        if cls is not None:
            groups.setdefault(cls, []).append(item)
    return {cls: group for cls, group in groups.items() if len(group) > 1}


def _listed(numbers: Sequence[int]) -> str:
    return ", ".join(str(n) for n in numbers[:-1]) + (" and " if len(numbers) > 1 else "") + str(numbers[-1])


def _share_inside(inner: Box, outer: Box) -> float:
    """The share of ``inner``'s area that lies inside ``outer``."""
    area = (inner[2] - inner[0]) * (inner[3] - inner[1])
    return intersection(inner, outer) / area if area > 0 else 0.0
