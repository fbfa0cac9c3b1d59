"""How found players are ordered and what is said about their names (issue 29 items 3 and 4).

* **Reading order**: outputs are numbered left to right, and players one above the other (their
  boxes' centres each inside the other's columns) top to bottom, so that ``violin1`` is the one
  a reader would name first.
* **Classes outside the model's**: the finder may name an instrument the separation model was
  not trained on (the ImageNet classes of :mod:`avsep.models.imagenet_music`: piano, drum,
  organ...). It is named as what it is, never mapped onto one of the model's classes, and the
  plan's note says so (the one :class:`~avsep.boxes.plan.AutoBoxesWarning` of the video).
"""

from __future__ import annotations

from collections.abc import Sequence

from avsep.boxes.box import Box
from avsep.models.imagenet_music import INSTRUMENT_CLASSES


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
