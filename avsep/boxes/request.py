"""What the user asked for the boxes, and the one function that turns it into a plan.

"Boxes" can be said in many ways: ``--boxes x0,y0,x1,y1 ...``, ``--boxes-file``, ``--boxes
strips``, ``--boxes auto`` (or nothing), ``--sources N``, ``--names a b`` (two players), a
``<video>.boxes.json`` sidecar, and from Python a list of boxes, a :class:`~avsep.boxes.players.BoxPlan`,
``"auto"``, ``"strips"`` or ``None``. :class:`BoxRequest` is all of these parsed once, before any
video is read (so a mistake fails before the model loads); :func:`plan_boxes` turns a request and
a probed video into the :class:`~avsep.boxes.players.BoxPlan` the separation follows: the given boxes
checked against the frame, strips, or the players found by the finder, with the one
:class:`~avsep.boxes.players.AutoBoxesWarning` when finding fell back to strips. ``separate``, ``info``,
``locate``, the batch rules and the Python API all go through here, with the same finder
(:func:`avsep.boxes.detect.player_finder`).

A request is parsed with the light :mod:`avsep.boxes.plan` only, so the command line's box and
name mistakes answer before torch or PyAV load; :func:`plan_boxes` loads the finder when it
has players to find.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from avsep.boxes.box import Box, boxes_from_options, check_count, check_sources, load_boxes_file, sidecar_for
from avsep.boxes.plan import AutoBoxesWarning, BoxPlan, TimedBoxes, strips_plan
from avsep.errors import InputError
from avsep.options import DEFAULT_OVERLAP

if TYPE_CHECKING:
    from avsep.boxes.ahead import Compute
    from avsep.boxes.detect import PlayerFinder
    from avsep.io.media import MediaInfo

#: What a request asks for: boxes it holds, equal vertical strips, or the players found.
GIVEN, STRIPS, FIND = "given", "strips", "find"

#: ``finder()``: the player finder to use, built only when a request needs it (None: none can).
FinderFactory = Callable[[], "PlayerFinder | None"]

#: A given box whose longer side is under this many pixels gets a warning: the visual trunk
#: reads each box enlarged to a 224-pixel square (:data:`avsep.io.video.CROP_SIZE`), so such a
#: box is enlarged more than 7x, and it holds fewer pixels than one cell (32 pixels) of the
#: trunk's 7 x 7 feature map or of the grid the player finder looks at: a blur, not an instrument.
MIN_BOX_SIDE = 32


class GivenBoxesWarning(UserWarning):
    """A given box the video makes doubtful: too small to show an instrument, or timed wholly
    outside the video (the box of the nearest range in time holds there, so it still applies)."""


@dataclass(frozen=True)
class BoxRequest:
    """The boxes a user asked for, checked for everything that does not need the video.

    ``kind``: :data:`GIVEN` (``plan`` holds them, not yet checked against a frame), :data:`STRIPS`
    (``sources`` strips, default 2) or :data:`FIND` (up to ``sources`` players, default all
    found). ``origin``: where given boxes came from (``--boxes``, a file), for messages.
    ``sidecars``: whether a video's ``<video>.boxes.json`` stands in when the request is to
    find the players (``avsep separate`` and the batch API); boxes or strips asked for
    explicitly win over it. ``from_sidecar``: this request is such a file's.
    """

    kind: str = FIND
    plan: BoxPlan | None = None
    sources: int | None = None
    origin: str = "--boxes"
    sidecars: bool = False
    from_sidecar: bool = False

    def __post_init__(self) -> None:
        check_sources(self.sources)
        if (self.kind == GIVEN) != (self.plan is not None):
            raise ValueError("a BoxRequest holds a plan exactly when its kind is 'given'")
        if self.count is not None:
            check_count(self.count)

    def guiding(self, names: Sequence[str] | None) -> Sequence[str] | None:
        """The names that may steer the guide (:mod:`avsep.separation.named`): the user's names
        of the boxes they gave (or of strips), never those of players found, which are the
        frames' own guess and may be in another order than the user expects."""
        return None if self.kind == FIND else names

    @classmethod
    def from_options(
        cls,
        boxes: Sequence[str] | None,
        boxes_file: str | Path | None = None,
        *,
        sources: int | None = None,
        names: Sequence[str] | None = None,
        sidecars: bool = False,
    ) -> BoxRequest:
        """The command line's ``--boxes`` (boxes, or ``auto``/``strips`` alone), ``--boxes-file``,
        ``--sources``, and ``--names`` (when finding players, N names ask for N players)."""
        words = [b.strip().lower() for b in boxes or []]
        if words and words[0] in ("auto", "strips"):
            if len(words) > 1 or boxes_file:
                raise InputError(f"--boxes {words[0]} stands alone; give it without other boxes or --boxes-file")
            return cls._of_kind(words[0], sources, names, sidecars)
        named = boxes_from_options(boxes, boxes_file)
        if not named:
            return cls._of_kind("auto", sources, names, sidecars)
        origin = str(boxes_file) if boxes_file else "--boxes"
        return cls(GIVEN, TimedBoxes.from_named(named, origin), sources, origin, sidecars)

    @classmethod
    def from_api(
        cls,
        boxes: Sequence[Box] | BoxPlan | str | None,
        *,
        sources: int | None = None,
        names: Sequence[str] | None = None,
        sidecars: bool = False,
    ) -> BoxRequest:
        """The Python API's ``boxes``: ``(x0, y0, x1, y1)`` boxes or a :class:`BoxPlan`;
        ``None``/``"auto"`` finds the players, ``"strips"`` cuts equal vertical strips."""
        if boxes is None or isinstance(boxes, str):
            if boxes not in (None, "auto", "strips"):
                raise InputError(f"boxes={boxes!r}: give boxes, 'auto' or 'strips'")
            return cls._of_kind(boxes or "auto", sources, names, sidecars)
        if isinstance(boxes, BoxPlan):
            return cls(GIVEN, boxes, sources, "boxes", sidecars)
        return cls(GIVEN, BoxPlan.fixed([tuple(int(v) for v in b) for b in boxes]), sources, "boxes", sidecars)

    @classmethod
    def _of_kind(cls, word: str, sources: int | None, names: Sequence[str] | None, sidecars: bool) -> BoxRequest:
        if word == "strips":
            return cls(STRIPS, None, sources, sidecars=sidecars)
        check_sources(sources)
        return cls(FIND, None, len(names) if sources is None and names else sources, sidecars=sidecars)

    @property
    def count(self) -> int | None:
        """How many sources, when known before the video is read (None: as many as are found)."""
        if self.kind == GIVEN:
            return len(self.plan.sources)
        return (self.sources or 2) if self.kind == STRIPS else self.sources

    @property
    def names(self) -> list[str] | None:
        """The output names the request itself carries (a boxes file's), else None."""
        return self.plan.names if self.plan is not None else None

    def for_video(self, video: Path) -> BoxRequest:
        """This request for one video: its sidecar ``<video>.boxes.json`` when ``sidecars``, the
        request is to find the players and the video has one; else the request itself."""
        sidecar = sidecar_for(video)
        if not self.sidecars or self.kind != FIND or not sidecar.is_file():
            return self
        plan = TimedBoxes.from_named(load_boxes_file(sidecar), str(sidecar))
        return BoxRequest(GIVEN, plan, origin=str(sidecar), from_sidecar=True)

    def describe(self, plan: BoxPlan, video: Path | None = None) -> str:
        """Where ``plan`` (this request's, for ``video``) came from, for the line that says what
        a separation wrote; names a sidecar that explicit boxes kept out."""
        n = len(plan.sources)
        if self.kind == GIVEN:
            said = "boxes given" if self.origin in ("--boxes", "boxes") else f"boxes from {self.origin}"
        elif self.kind == STRIPS:
            said = f"boxes: {n} vertical strips"
        elif plan.method == "auto":
            said = "boxes found: " + ", ".join(f"{s.label} {s.confidence:.2f}" for s in plan.sources)
        else:
            said = f"no players found: {n} vertical strips"
        sidecar = sidecar_for(video) if video is not None else None
        if self.sidecars and not self.from_sidecar and self.kind != FIND and sidecar and sidecar.is_file():
            said += f"; {sidecar} not used, as boxes were given"
        return said


def plan_boxes(
    request: BoxRequest,
    media: MediaInfo,
    finder: FinderFactory,
    *,
    overlap: float = DEFAULT_OVERLAP,
    on_frame: Callable[[int, int], None] | None = None,
    ahead: Compute | None = None,
) -> BoxPlan:
    """The boxes of ``request`` on the probed video ``media``: given boxes clipped to the frame
    (an error when one lies outside it), strips, or the players ``finder()`` finds (looking at the
    guide frames of a separation with ``overlap``; ``on_frame(done, total)`` reports progress;
    ``ahead``: the separation's trunk work to start on the crops it keeps, :mod:`avsep.boxes.ahead`).
    Strips stand in, with a :attr:`~avsep.boxes.players.BoxPlan.note` and an
    :class:`~avsep.boxes.players.AutoBoxesWarning`, when no finder can classify or it finds too few."""
    if media.video is None:
        raise InputError(f"{media.path}: no video stream, so there are no boxes to place")
    width, height = media.video.width, media.video.height
    if request.kind == GIVEN:  # a boxes file's times are the video's: looked up from the range's start
        plan = request.plan.validated(width, height)
        warn_doubtful_boxes(plan, media, request.origin)
        return plan.starting_at(media.start)
    if request.kind == STRIPS:
        return strips_plan(width, height, request.count)
    found = finder()
    if found is None:
        plan = strips_plan(width, height, request.sources or 2)
        plan.note = (
            f"the visual trunk has no ImageNet classifier to find players with; "
            f"using {len(plan.sources)} vertical strips instead (give --boxes to place them)"
        )
    else:
        from avsep.boxes.players import find_players  # deferred: a request is checked without torch or PyAV

        plan = find_players(media, found, sources=request.sources, overlap=overlap, on_frame=on_frame, ahead=ahead)
    if plan.note:
        warnings.warn(f"{media.path}: {plan.note}", AutoBoxesWarning, stacklevel=2)
    plan.clock = media.start  # found in the range's time; shown in the video's
    return plan


def warn_doubtful_boxes(plan: BoxPlan, media: MediaInfo, origin: str) -> None:
    """Warn (:class:`GivenBoxesWarning`) about given boxes that are legal but almost surely not
    what the user meant: one too small to show an instrument (:data:`MIN_BOX_SIDE`), and a timed
    entry wholly before 0 or after the video's end (the file's, whatever the range), which the
    nearest-range rule would apply silently. ``plan`` is in the video's clock (not yet moved to a
    ``--start``)."""
    from avsep.io.video import CROP_SIZE  # deferred: a request is checked without PyAV

    length = media.file_length
    for i, entry in enumerate(plan.segments()):
        start, end = entry.get("start", -math.inf), entry.get("end", math.inf)
        x0, y0, x1, y1 = entry["box"]
        if plan.method == "timed":  # entries are grouped by source: named by source and times
            label = f"the box of {entry['name']!r}{_span(entry)} in {origin}"
        else:
            label = f"box {i + 1} ({x0},{y0},{x1},{y1})"
        if max(x1 - x0, y1 - y0) < MIN_BOX_SIDE:
            warnings.warn(
                f"{media.path}: {label} is {x1 - x0}x{y1 - y0} pixels, too small to show an instrument (the model "
                f"reads it enlarged {CROP_SIZE / max(x1 - x0, y1 - y0):.0f}x to {CROP_SIZE} pixels); draw it around "
                "the player (check with 'avsep info VIDEO --boxes ... --preview out.png')",
                GivenBoxesWarning,
                stacklevel=3,
            )
        if end <= 0 or start >= length:
            where = "before the video's start" if end <= 0 else f"after the video's end (it is {length:.2f} s long)"
            warnings.warn(
                f"{media.path}: {label} lies wholly {where}; it applies only as the nearest box in time, "
                "so check its times (seconds of the video)",
                GivenBoxesWarning,
                stacklevel=3,
            )


def _span(entry: dict) -> str:
    """A boxes-file entry's time range as words: " from 2 to 5 s", " from 5 s on", "" (always)."""
    if "start" in entry and "end" in entry:
        return f" from {entry['start']:g} to {entry['end']:g} s"
    if "start" in entry:
        return f" from {entry['start']:g} s on"
    return f" until {entry['end']:g} s" if "end" in entry else ""
