"""The box plan: which box each source has at every moment, as plain data.

A :class:`BoxPlan` answers the separator's one question per guide frame, *what picture of each
source is there at time t?* (:meth:`BoxPlan.crops`). This module holds the plans that need no
video to exist: fixed boxes (``--boxes``, a boxes file, vertical strips: :func:`strips_plan`) and
:class:`TimedBoxes` (a boxes file with ``start``/``end`` times); :mod:`avsep.boxes.players` adds the
plan of the players found (``TrackedBoxes``) and re-exports these names.

They live apart from the finder because the command line checks ``--boxes``, ``--boxes-file``
and ``--names`` with them before anything heavy loads: this module imports the standard library
and :mod:`avsep.boxes.box` only; numpy, torch and PyAV load when a frame is first cropped.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from avsep.boxes.box import Box, NamedBox, check_count, strip_boxes, validate_boxes
from avsep.errors import InputError

if TYPE_CHECKING:
    from concurrent.futures import Future

    import numpy as np


def box_key(box: Sequence[float]) -> Box:
    """A box as :func:`~avsep.io.video.crop_boxes` reads it (whole pixels)."""
    x0, y0, x1, y1 = (int(round(v)) for v in box)
    return x0, y0, x1, y1


@dataclass(frozen=True)
class BoxCrops:
    """A frame reduced to the 224 x 224 crops of the boxes that may guide from it: what the
    finder keeps of the frames it decoded (:mod:`avsep.boxes.kept`), for :meth:`BoxPlan.crops`."""

    crops: dict[Box, np.ndarray]

    def answers(self, boxes: Iterable[Sequence[float] | None]) -> bool:
        """Whether every box (None: a source not in the picture) has its crop here."""
        return all(b is None or box_key(b) in self.crops for b in boxes)

    def crop(self, box: Sequence[float]) -> np.ndarray:
        return self.crops[box_key(box)]


class RowsAhead(Protocol):
    """The trunk's parts of kept crops, computed while the finder decoded
    (:class:`avsep.boxes.ahead.PartsAhead`): where a crop's row is, or None."""

    def take(self, crop: np.ndarray) -> tuple[Future, int] | None: ...

    def close(self) -> None: ...


class AutoBoxesWarning(UserWarning):
    """No boxes were given and the players could not be found: the frame was cut into strips."""


@dataclass(frozen=True)
class SourceInfo:
    """One output: its file name, the box printed for it, and the finder's guess if it has one."""

    name: str | None
    box: Box
    label: str | None = None
    confidence: float | None = None


class BoxPlan:
    """Fixed boxes: the same box for a source at every moment."""

    method = "boxes"
    #: whether a guide frame may be the keyframe shown near its time
    #: (:data:`avsep.signal.chunking.GUIDE_SNAP_S`): fixed boxes hold at every moment
    snaps = True

    def __init__(self, sources: Sequence[SourceInfo], note: str | None = None) -> None:
        check_count(len(sources))
        self.sources = list(sources)
        #: One line for the user when the plan is not what they might expect (a fallback).
        self.note = note
        #: frames decoded while the plan was made, as the crops the plan can ask of them, by
        #: :func:`time_key` of the time asked for (:meth:`take_frames`)
        self.decoded: dict[float, tuple[BoxCrops, float]] = {}
        #: the guide's trunk parts of those crops, being computed (:mod:`avsep.boxes.ahead`)
        self.ahead: RowsAhead | None = None
        #: seconds of the video at the plan's time 0: a ``--start`` range's start. The plan is
        #: looked up in the range's time (the readers' clock); the times it shows (:meth:`segments`)
        #: are the video's, so a boxes file printed or written reads the same with any range.
        self.clock = 0.0

    def starting_at(self, start: float) -> BoxPlan:
        """This plan (its times in the video's clock) looked up from ``start`` seconds on: times
        of a range that starts there (:attr:`clock`). Fixed boxes have no times to move."""
        self.clock = start
        return self

    @classmethod
    def fixed(cls, boxes: Sequence[Box], names: Sequence[str | None] | None = None) -> BoxPlan:
        names = list(names) if names else [None] * len(boxes)
        return cls([SourceInfo(n, tuple(b)) for b, n in zip(boxes, names)])

    @property
    def boxes(self) -> list[Box]:
        """The representative box of each source (what ``--boxes`` would say)."""
        return [s.box for s in self.sources]

    @property
    def names(self) -> list[str] | None:
        """Output names when every source has one, else None (the default ``sourceN``)."""
        names = [s.name for s in self.sources]
        return names if all(names) else None  # type: ignore[return-value]

    def boxes_at(self, time: float) -> list[Box | None]:
        """Each source's box at ``time`` seconds; None where the source is not in the picture."""
        return self.boxes

    def moves(self) -> bool:
        """Whether any source's box changes over the video."""
        return False

    def boxes_line(self, names: Sequence[str] | None = None) -> str:
        """The plan as command-line options: ``--boxes x0,y0,x1,y1 ... [--names ...]`` (each
        source's typical box when boxes move: see :meth:`boxes_line_note`)."""
        line = "--boxes " + " ".join(",".join(map(str, s.box)) for s in self.sources)
        return line + (f" --names {' '.join(names)}" if names else "")

    def boxes_line_note(self) -> str | None:
        """What :meth:`boxes_line` leaves out when the boxes change over time (None if they don't)."""
        if not self.moves():
            return None
        return (
            "(each source's typical box; the boxes change over the video: save 'avsep info VIDEO --json' "
            "to a file and pass it with --boxes-file to follow them)"
        )

    def crops(self, frame: np.ndarray | BoxCrops, time: float) -> np.ndarray:
        """``[sources, 224, 224, 3]`` uint8: what guides each source in ``frame`` (shown at
        ``time``; a frame the finder kept holds its crops already)."""
        import numpy as np

        from avsep.io.video import crop_boxes  # deferred: the argument checks need no PyAV or torch

        boxes = self.boxes_at(time)
        present = [b for b in boxes if b is not None]
        if isinstance(frame, BoxCrops):
            cut = iter([frame.crop(b) for b in present])
        else:
            cut = iter(crop_boxes(frame, present)) if present else iter(())
        return np.stack([next(cut) if b is not None else self._portrait(k) for k, b in enumerate(boxes)])

    def decode_times(self, times: Sequence[float]) -> list[float]:
        """The times to decode for guide frames at ``times`` that were not kept
        (:meth:`take_frames`): the times themselves (then, with :attr:`snaps`, a nearby keyframe
        may answer)."""
        return list(times)

    def take_frames(self, times: Sequence[float]) -> list[tuple[BoxCrops, float]] | None:
        """The frames at ``times`` (each with the time it shows) that the finder decoded while
        it made this plan, as their crops, handed over once and forgotten (the separation asks
        for each window's frames once); None when any of them was not kept (the finder keeps a
        bounded number, and none ran for given boxes) or lacks a box this plan has there, so
        the caller decodes them itself."""
        keys = [time_key(t) for t in times]
        kept = [self.decoded.pop(k, None) for k in keys]  # forgotten either way: asked for once
        if not all(k is not None and k[0].answers(self.boxes_at(k[1])) for k in kept):
            return None
        return kept  # type: ignore[return-value]

    def _portrait(self, source: int) -> np.ndarray:  # pragma: no cover - fixed boxes are never None
        raise NotImplementedError

    def validated(self, width: int, height: int) -> BoxPlan:
        """This plan with every box clipped to a ``width`` x ``height`` frame (errors if outside)."""
        boxes = validate_boxes(self.boxes, width, height)
        return BoxPlan([SourceInfo(s.name, b, s.label, s.confidence) for s, b in zip(self.sources, boxes)], self.note)

    def segments(self) -> list[dict]:
        """The plan as boxes-file entries (``name``, ``box`` and, when boxes move, ``start``/``end``)."""
        return [{"name": s.name, "box": list(s.box)} for s in self.sources]

    def to_json(self) -> dict:
        """What ``avsep info --json`` prints; ``--boxes-file`` reads it back."""
        return {
            "method": self.method,
            "note": self.note,
            "sources": [
                {"name": s.name, "box": list(s.box), "class": s.label, "confidence": s.confidence} for s in self.sources
            ],
            "boxes": self.segments(),
        }


@dataclass(frozen=True)
class _Segment:
    start: float
    end: float
    box: Box


class TimedBoxes(BoxPlan):
    """Boxes with time ranges: each source has boxes for ``[start, end)`` spans of seconds.

    Between and beyond its spans a source keeps the box of the nearest span in time.
    """

    method = "timed"

    def __init__(
        self, sources: Sequence[SourceInfo], segments: Sequence[Sequence[_Segment]], note: str | None = None
    ) -> None:
        super().__init__(sources, note)
        self._segments = [sorted(s, key=lambda g: g.start) for s in segments]

    @classmethod
    def from_named(cls, named: Sequence[NamedBox], label: str = "boxes file") -> BoxPlan:
        """Group a boxes file's entries into sources by name; fixed boxes if none has a time."""
        if not any(nb.start is not None or nb.end is not None for nb in named):
            return BoxPlan.fixed([nb.box for nb in named], [nb.name for nb in named])
        order: dict[str, list[_Segment]] = {}
        for i, nb in enumerate(named):
            if not nb.name:
                raise InputError(
                    f'box {i + 1} in {label}: boxes with start/end need a "name" saying which source they belong to'
                )
            start = -math.inf if nb.start is None else nb.start
            end = math.inf if nb.end is None else nb.end
            if end <= start:
                raise InputError(f"box {i + 1} in {label}: end {end} is not after start {start}")
            spans = order.setdefault(nb.name, [])
            clash = next((s for s in spans if s.start < end and start < s.end), None)
            if clash is not None:
                raise InputError(
                    f"box {i + 1} in {label}: {nb.name!r} already has a box from {clash.start} to {clash.end} s; "
                    "time ranges of one source must not overlap"
                )
            spans.append(_Segment(start, end, nb.box))
        check_count(len(order))
        sources = [SourceInfo(name, _longest(spans).box) for name, spans in order.items()]
        return cls(sources, list(order.values()))

    def boxes_at(self, time: float) -> list[Box | None]:
        return [_segment_at(spans, time).box for spans in self._segments]

    def moves(self) -> bool:
        return any(len({g.box for g in spans}) > 1 for spans in self._segments)

    def validated(self, width: int, height: int) -> TimedBoxes:
        segments = [
            [_Segment(g.start, g.end, validate_boxes([g.box], width, height)[0]) for g in spans]
            for spans in self._segments
        ]
        sources = [SourceInfo(s.name, _longest(g).box, s.label, s.confidence) for s, g in zip(self.sources, segments)]
        return TimedBoxes(sources, segments, self.note)

    def starting_at(self, start: float) -> TimedBoxes:
        if not start:
            return self
        moved = [[_Segment(g.start - start, g.end - start, g.box) for g in spans] for spans in self._segments]
        plan = TimedBoxes(self.sources, moved, self.note)
        plan.clock = start
        return plan

    def segments(self) -> list[dict]:
        return [
            {"name": s.name, "box": list(g.box), **span_times(g.start + self.clock, g.end + self.clock)}
            for s, spans in zip(self.sources, self._segments)
            for g in spans
        ]


def span_times(start: float, end: float) -> dict[str, float]:
    """``start``/``end`` keys for a JSON entry; an open end is left out (JSON has no infinity)."""
    out = {}
    if math.isfinite(start):
        out["start"] = round(start, 3)
    if math.isfinite(end):
        out["end"] = round(end, 3)
    return out


def _longest(spans: Sequence[_Segment]) -> _Segment:
    """The span a source spends most time in (an open span counts as the longest)."""
    return max(spans, key=lambda g: g.end - g.start)


def _segment_at(spans: Sequence[_Segment], time: float) -> _Segment:
    for g in spans:
        if g.start <= time < g.end:
            return g
    return min(spans, key=lambda g: min(abs(time - g.start), abs(time - g.end)))


def time_key(time: float) -> float:
    """``time`` rounded to the millisecond: the key a frame asked for at ``time`` is kept under."""
    return round(float(time), 3)


def strips_plan(width: int, height: int, sources: int) -> BoxPlan:
    """``sources`` vertical strips as a plan (what avsep did before it could find players);
    its :attr:`~BoxPlan.method` says ``strips``, also when finding players fell back to them."""
    plan = BoxPlan.fixed(strip_boxes(width, height, sources))
    plan.method = "strips"
    return plan
