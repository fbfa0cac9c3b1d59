"""Boxes: where each instrument is, in pixels of the displayed video frame.

Boxes come from the command line (``x0,y0,x1,y1``), from a JSON file (a list of boxes, or of
``{"name": ..., "box": [...]}``), or from a ``<video>.boxes.json`` sidecar. Parsing checks the
syntax; :func:`validate_boxes` checks them against a frame once its size is known, so the
message can say what the frame size is.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from avsep.errors import InputError

Box = tuple[int, int, int, int]
#: More boxes than this is almost certainly a mistake, and each box costs a network pass.
MAX_BOXES = 8


@dataclass(frozen=True)
class NamedBox:
    """A box with the output name a boxes file gave it (None: the default ``sourceN``), and
    the time range in seconds it holds for (None: from the start / to the end)."""

    box: Box
    name: str | None = None
    start: float | None = None
    end: float | None = None


def parse_box(text: str) -> Box:
    """``"x0,y0,x1,y1"`` -> ints; one-line errors for every malformed form."""
    parts = [p.strip() for p in str(text).split(",")]
    if len(parts) != 4:
        raise InputError(f"box {_short(text)}: expected 4 numbers x0,y0,x1,y1, got {len(parts)}")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise InputError(f"box {_short(text)}: not numbers; write x0,y0,x1,y1 in pixels, e.g. 0,0,112,224") from None
    return _to_box(values, _short(text))


def _to_box(values: Sequence[object], label: str) -> Box:
    """Four finite numbers -> a rounded, non-empty box; JSON may hold anything, so check all."""
    if len(values) != 4:
        raise InputError(f"box {label}: expected 4 numbers x0,y0,x1,y1, got {len(values)}")
    nums = []
    for v in values:
        # bool is an int subclass, and JSON integers may be too large for a float.
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not _finite(v):
            raise InputError(f"box {label}: {_short(v)} is not a finite pixel coordinate")
        nums.append(int(round(v)))
    x0, y0, x1, y1 = nums
    if x1 <= x0 or y1 <= y0:
        what = "inverted" if (x1 < x0 or y1 < y0) else "zero-area"
        raise InputError(f"box {label}: {what} (need x0 < x1 and y0 < y1)")
    return (x0, y0, x1, y1)


def _finite(v: int | float) -> bool:
    try:
        return math.isfinite(v)
    except OverflowError:  # an int beyond float range: no frame is that large
        return False


def _short(v: object) -> str:
    """``repr`` cut to a readable length: a fuzzed or pasted value can be huge."""
    text = repr(v)
    return text if len(text) <= 40 else text[:37] + "..."


def load_boxes_file(path: str | Path) -> list[NamedBox]:
    """Boxes from JSON: ``[[x0,y0,x1,y1], ...]`` or ``[{"name": n, "box": [...]}, ...]``.

    Named entries may carry ``"start"``/``"end"`` (seconds): several entries with one name are
    then one source whose box changes over time (:class:`avsep.boxes.players.TimedBoxes`). An object
    with a ``"boxes"`` list (what ``avsep info --json`` prints) is read as that list.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: boxes file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read boxes file ({exc.__class__.__name__})") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: not valid JSON (line {exc.lineno}): {exc.msg}") from None
    except (ValueError, RecursionError):  # integers of > 4300 digits, absurd nesting
        raise InputError(f"{path}: not a usable boxes file; write [[x0, y0, x1, y1], ...]") from None
    return named_boxes(data, str(path))


def named_boxes(data: object, origin: str) -> list[NamedBox]:
    """A boxes file's parsed JSON (``origin``: where it came from, for messages) as checked
    boxes: the one reader of the format, for files and for the boxes ``avsep pick`` draws."""
    if isinstance(data, dict) and isinstance(data.get("boxes"), list):
        data = data["boxes"]
    if not isinstance(data, list) or not data:
        raise InputError(
            f'{origin}: expected a non-empty JSON list of boxes (or an object with a "boxes" list, '
            "as 'avsep info --json' writes)"
        )
    boxes = []
    for i, item in enumerate(data):
        label = f"{i + 1} in {origin}"
        start = end = None
        if isinstance(item, dict):
            if "box" not in item:
                raise InputError(f"box {label}: object without a 'box' key")
            name = item.get("name")
            if name is not None and not isinstance(name, str):
                raise InputError(f"box {label}: 'name' must be a string")
            raw = item["box"]
            start, end = (_seconds(item.get(key), key, label) for key in ("start", "end"))
        else:
            name, raw = None, item
        if not isinstance(raw, list):
            raise InputError(f"box {label}: expected a list [x0, y0, x1, y1]")
        boxes.append(NamedBox(_to_box(raw, label), name, start, end))
    timed = any(b.start is not None or b.end is not None for b in boxes)
    # Timed entries of one source share a name: the limit is on sources, checked when grouped.
    check_count(len({b.name for b in boxes}) if timed else len(boxes))
    return boxes


def _seconds(value: object, key: str, label: str) -> float | None:
    """A ``start``/``end`` value: absent, or a finite number of seconds."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not _finite(value):
        raise InputError(f"box {label}: '{key}' must be a time in seconds, got {_short(value)}")
    return float(value)


def boxes_from_options(boxes: Sequence[str] | None, boxes_file: str | Path | None) -> list[NamedBox] | None:
    """Boxes from ``--boxes`` strings or a ``--boxes-file`` (not both); ``None`` if neither."""
    if boxes and boxes_file:
        raise InputError("give boxes with --boxes or --boxes-file, not both")
    named = load_boxes_file(boxes_file) if boxes_file else [NamedBox(parse_box(b)) for b in boxes or []]
    check_count(len(named))  # too many boxes is said first
    _check_distinct(named)
    return named or None


def _check_distinct(named: Sequence[NamedBox]) -> None:
    """Refuse one box given twice for two sources at the same time: the two would share every
    bin evenly and come out as two identical half-level copies (a mistake, never a wish)."""
    seen: dict[tuple, int] = {}
    for i, nb in enumerate(named):
        key = (nb.box, nb.start, nb.end)
        if key in seen:
            raise InputError(
                f"box {i + 1} ({','.join(map(str, nb.box))}) is box {seen[key] + 1} again: two sources in one box "
                "come out as two identical half-level files; give each source its own box"
            )
        seen[key] = i


def sidecar_for(video: Path) -> Path:
    """``clip.mp4`` -> ``clip.mp4.boxes.json``: per-video boxes that stand in for automatic boxes
    (:meth:`avsep.boxes.request.BoxRequest.for_video`)."""
    return video.with_name(video.name + ".boxes.json")


def check_sources(n: int | None) -> None:
    """``--sources``: a number of players or strips, at least 1 (None: not given)."""
    if n is not None and n < 1:
        raise InputError(f"--sources {n}: give at least 1")


def strip_boxes(width: int, height: int, sources: int) -> list[Box]:
    """``sources`` equal vertical strips: the usual layout of a duet or trio video."""
    import numpy as np  # deferred: the argument checks that use this module load no numpy

    check_sources(sources)
    edges = np.linspace(0, width, sources + 1).round().astype(int)
    return [(int(edges[i]), 0, int(edges[i + 1]), height) for i in range(sources)]


def check_count(n: int) -> None:
    """Refuse more than :data:`MAX_BOXES` sources, before any decoding is spent on them."""
    if n > MAX_BOXES:
        raise InputError(f"{n} boxes given; at most {MAX_BOXES} sources can be separated at once")


#: How far (pixels) a box may reach past the frame and still be clipped to it silently: the
#: rounding of a box drawn on a scaled preview. Further is a box for another frame size.
FRAME_SLACK = 4


def validate_boxes(boxes: Sequence[Box], width: int, height: int) -> list[Box]:
    """Boxes clipped to a ``width`` x ``height`` frame; a box reaching past it by more than
    :data:`FRAME_SLACK` pixels (measured for another resolution, say) is an error naming the
    frame's size, not a silent clip."""
    check_count(len(boxes))
    out = []
    for b in boxes:
        x0, y0, x1, y1 = b
        cx0, cy0, cx1, cy1 = max(x0, 0), max(y0, 0), min(x1, width), min(y1, height)
        if cx1 <= cx0 or cy1 <= cy0:
            raise InputError(
                f"box {x0},{y0},{x1},{y1} lies outside the {width}x{height} frame; "
                f"check it with 'avsep info VIDEO --boxes ... --preview out.png'"
            )
        past = max(-x0, -y0, x1 - width, y1 - height)
        if past > FRAME_SLACK:
            raise InputError(
                f"box {x0},{y0},{x1},{y1} reaches {past} pixels past the {width}x{height} frame; "
                f"give boxes in this video's pixels (see 'avsep info VIDEO --boxes ... --preview out.png')"
            )
        out.append((cx0, cy0, cx1, cy1))
    return out


def intersection(a: Sequence[float], b: Sequence[float]) -> float:
    """The area two ``(x0, y0, x1, y1)`` boxes share (0 when they only touch or are apart)."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    return w * h if w > 0 and h > 0 else 0.0
