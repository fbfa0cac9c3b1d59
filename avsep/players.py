"""Which box each source has at every moment of a video: given, timed, or found automatically.

The separator asks one question per guide frame: *what picture of each source is there at time
t?* A :class:`BoxPlan` answers it (:meth:`BoxPlan.crops`). Three kinds exist:

* :class:`BoxPlan` itself: fixed boxes (``--boxes``, a boxes file, vertical strips);
* :class:`TimedBoxes`: a boxes file whose entries have ``start``/``end`` times, grouped into
  sources by name, for videos whose camera moves or cuts;
* :class:`TrackedBoxes`: what :func:`find_players` found (automatic mode).

:func:`find_players` looks at exactly the frames the separation will use (3 around the centre of
each model window) in time order. It runs the player finder (:mod:`avsep.detect`) on a frame
when its picture differs from the last frame it ran on (a cut, a pan, a player who moved), and
otherwise reuses that frame's boxes: a still shot costs one detection, a moving one a detection
per change. The detections are then linked into sources from frame to frame by instrument family
first and position second (:func:`link_tracks`), so when two players swap places at a cut, each
output stays with its instrument. A source that is not found at some moment (it left the shot,
or the finder missed it) is guided there by its *portrait*: its best-scoring crop from elsewhere
in the video, rather than by whatever now fills its old box.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from avsep.boxes import MAX_BOXES, Box, NamedBox, check_count, strip_boxes, validate_boxes
from avsep.chunking import FRAME_OFFSETS, window_spans
from avsep.cues import block_means, small_grey
from avsep.detect import FAMILIES, Detection, PlayerFinder
from avsep.dsp import SAMPLE_RATE
from avsep.errors import InputError
from avsep.io.media import MediaInfo, probe
from avsep.io.video import FrameReader, crop_boxes

#: Re-run the finder on a frame whose thumbnail differs from that of the last frame it ran on by
#: more than this (mean absolute difference of 32 x 18 thumbnails, pixel values 0..1). Measured
#: on the photo composites of benchmarks/detect_players.py: a cut from one to another changes
#: the thumbnail by 0.22 or more (median 0.36); the whole picture moving sideways by 1 % of its
#: width by 0.02 (median; at most 0.04), by 2 % by 0.05. So a cut always re-runs the finder, a
#: pan or zoom does once it has moved the picture by a percent or two, and a player swaying in a
#: still shot (a part of the picture moving) does not: that shot keeps its boxes.
REDETECT_CHANGE = 0.04

#: The finder measures motion over at most this many frames of a shot (the first ones looked
#: at: 3 frames 1.5 s apart around each of 2 windows' centres), so a long still shot costs no more.
MOTION_FRAMES = 6

#: The frames the finder decodes are kept for the separation, which asks for the same ones, up
#: to this many bytes (a 10-minute 640 x 360 video's 400 frames: 280 MB); later ones it decodes again.
KEEP_FRAMES_BYTES = 512 * 2**20

#: A player must be found in at least this share of the video's frames to be a source of its
#: own: a stray detection in one shot of a long video is more likely a poster or a reflection.
MIN_SHARE = 0.2
#: ... and in at least this many of the frames looked at (when there are that many): a region
#: the finder saw in one frame only, next to frames of the same shot where it did not (a shadow
#: read as a cello for a moment), is not a player. A still shot counts all its frames, so a
#: player shown in one still shot is kept.
MIN_FRAMES = 2

#: Linking cost of a detection to a source of another instrument family (position costs at most
#: about 1, the frame's diagonal): such a link is never made, so a cut that swaps two players
#: of different families cannot swap their outputs.
FAMILY_COST = 1.0
#: ... and to a source of the same family but another instrument (violin vs cello).
LABEL_COST = 0.25


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

    def __init__(self, sources: Sequence[SourceInfo], note: str | None = None) -> None:
        check_count(len(sources))
        self.sources = list(sources)
        #: One line for the user when the plan is not what they might expect (a fallback).
        self.note = note

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

    def crops(self, frame: np.ndarray, time: float) -> np.ndarray:
        """``[sources, 224, 224, 3]`` uint8: what guides each source in ``frame`` (shown at ``time``)."""
        boxes = self.boxes_at(time)
        present = [b for b in boxes if b is not None]
        cut = iter(crop_boxes(frame, present)) if present else iter(())
        return np.stack([next(cut) if b is not None else self._portrait(k) for k, b in enumerate(boxes)])

    def take_frames(self, times: Sequence[float]) -> list[tuple[np.ndarray, float]] | None:
        """Frames at ``times`` already decoded while the plan was made, or None (decode them)."""
        return None

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

    def segments(self) -> list[dict]:
        return [
            {"name": s.name, "box": list(g.box), **_times(g.start, g.end)}
            for s, spans in zip(self.sources, self._segments)
            for g in spans
        ]


def _times(start: float, end: float) -> dict[str, float]:
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


# -- automatic mode ----------------------------------------------------------------------------


@dataclass
class Keyframe:
    """A frame the finder ran on, and what it found there."""

    time: float
    detections: list[Detection]
    frames: int = 0  #: guide frames that share this frame's boxes (its weight)


@dataclass
class Track:
    """One source as it is linked from keyframe to keyframe."""

    hits: dict[int, Detection] = field(default_factory=dict)  # keyframe index -> detection

    def family(self) -> str:
        return FAMILIES.get(self.label(), "")

    def label(self) -> str:
        mass: dict[str, float] = {}
        for d in self.hits.values():
            mass[d.label] = mass.get(d.label, 0.0) + d.score
        return max(mass, key=mass.__getitem__)

    def last(self) -> Detection:
        return self.hits[max(self.hits)]


def min_cost_matching(cost: np.ndarray) -> list[tuple[int, int]]:
    """The (row, column) pairs of a least-total-cost matching that pairs every row or every
    column (whichever are fewer): ``scipy.optimize.linear_sum_assignment``, which the
    separation-only install does not bring. Hungarian method with potentials, O(n^2 m) for
    n <= m; the matrices here are a few detections by a few tracks."""
    cost = np.asarray(cost, np.float64)
    transposed = cost.shape[0] > cost.shape[1]
    if transposed:
        cost = cost.T
    n, m = cost.shape
    u, v = np.zeros(n + 1), np.zeros(m + 1)
    owner = np.zeros(m + 1, np.int64)  # owner[j]: 1-based row matched to column j (0: none)
    way = np.zeros(m + 1, np.int64)
    for i in range(1, n + 1):
        owner[0], j0 = i, 0
        minv = np.full(m + 1, np.inf)
        used = np.zeros(m + 1, bool)
        while True:
            used[j0] = True
            i0, delta, j1 = owner[j0], np.inf, 0
            for j in range(1, m + 1):
                if not used[j]:
                    cur = cost[i0 - 1, j - 1] - u[i0] - v[j]
                    if cur < minv[j]:
                        minv[j], way[j] = cur, j0
                    if minv[j] < delta:
                        delta, j1 = minv[j], j
            for j in range(m + 1):
                if used[j]:
                    u[owner[j]] += delta
                    v[j] -= delta
                else:
                    minv[j] -= delta
            j0 = j1
            if owner[j0] == 0:
                break
        while j0:
            j1 = way[j0]
            owner[j0] = owner[j1]
            j0 = j1
    pairs = [(int(owner[j]) - 1, j - 1) for j in range(1, m + 1) if owner[j]]
    return sorted((c, r) if transposed else (r, c) for r, c in pairs)


def link_tracks(keyframes: Sequence[Keyframe], width: int, height: int) -> list[Track]:
    """Link the detections of successive keyframes into tracks (one per player).

    Each keyframe's detections are matched to the existing tracks with the least total cost
    (Hungarian): :data:`FAMILY_COST` for another instrument family (never linked),
    :data:`LABEL_COST` for another instrument of the family, plus the distance between box
    centres as a fraction of the frame's diagonal. A detection left over starts a new track.
    """
    diagonal = math.hypot(width, height)
    tracks: list[Track] = []
    for k, key in enumerate(keyframes):
        dets = key.detections
        if not dets:
            continue
        cost = np.full((len(dets), max(1, len(tracks))), np.inf)
        for j, track in enumerate(tracks):
            last = track.last()
            for i, d in enumerate(dets):
                if FAMILIES.get(d.label, "") != track.family():
                    continue
                c = _distance(d.box, last.box) / diagonal
                cost[i, j] = c + (LABEL_COST if d.label != track.label() else 0.0)
        linked: set[int] = set()
        if tracks:
            finite = np.where(np.isfinite(cost), cost, 1e6)
            for i, j in min_cost_matching(finite):
                if np.isfinite(cost[i, j]):
                    tracks[j].hits[k] = dets[i]
                    linked.add(i)
        tracks.extend(Track({k: d}) for i, d in enumerate(dets) if i not in linked)
    return tracks


def _distance(a: Box, b: Box) -> float:
    return math.hypot((a[0] + a[2] - b[0] - b[2]) / 2, (a[1] + a[3] - b[1] - b[3]) / 2)


class TrackedBoxes(BoxPlan):
    """Automatic boxes: each source's box at every keyframe, and a portrait for the gaps."""

    method = "auto"

    def __init__(
        self,
        sources: Sequence[SourceInfo],
        times: Sequence[float],
        boxes: Sequence[Sequence[Box | None]],
        frame_keys: dict[float, int],
        portraits: Sequence[np.ndarray],
        note: str | None = None,
    ) -> None:
        super().__init__(sources, note)
        self.times = list(times)
        self._boxes = [list(b) for b in boxes]  # [keyframe][source]
        self._frame_keys = frame_keys
        self._portraits = list(portraits)
        #: frames the finder decoded, by the time asked for (:meth:`take_frames`)
        self.decoded: dict[float, tuple[np.ndarray, float]] = {}

    def keyframe_at(self, time: float) -> int:
        """The keyframe whose boxes hold for the frame shown at ``time``: the one that frame
        shared when it was looked at, else the last one at or before ``time``."""
        key = self._frame_keys.get(_time_key(time))
        if key is not None:
            return key
        before = [k for k, t in enumerate(self.times) if t <= time + 1e-6]
        return before[-1] if before else 0

    def boxes_at(self, time: float) -> list[Box | None]:
        return list(self._boxes[self.keyframe_at(time)])

    def _portrait(self, source: int) -> np.ndarray:
        return self._portraits[source]

    def take_frames(self, times: Sequence[float]) -> list[tuple[np.ndarray, float]] | None:
        """The frames the finder decoded at ``times`` (each with the time it shows), handed over
        once and forgotten (the separation asks for each window's frames once); None when any
        of them was not kept (:data:`KEEP_FRAMES_BYTES`), so the caller decodes them itself."""
        keys = [_time_key(t) for t in times]
        if not all(k in self.decoded for k in keys):
            return None
        return [self.decoded.pop(k) for k in keys]

    def validated(self, width: int, height: int) -> TrackedBoxes:
        return self  # made from the frame itself

    def moves(self) -> bool:
        return any(len({b[s] for b in self._boxes}) > 1 for s in range(len(self.sources)))

    def segments(self) -> list[dict]:
        """Each source's boxes as time spans (keyframe to next keyframe; a gap where it is unseen)."""
        out = []
        ends = self.times[1:] + [math.inf]
        for s, src in enumerate(self.sources):
            spans: list[list] = []
            for k, (t0, t1) in enumerate(zip(self.times, ends)):
                box = self._boxes[k][s]
                if box is None:
                    continue
                start = -math.inf if k == 0 else t0
                if spans and spans[-1][2] == box and spans[-1][1] == start:
                    spans[-1][1] = t1
                else:
                    spans.append([start, t1, box])
            out += [{"name": src.name, "box": list(b), **_times(t0, t1)} for t0, t1, b in spans]
        return out


def _time_key(time: float) -> float:
    return round(float(time), 3)


def guide_frame_times(duration: float, overlap: float) -> list[float]:
    """Every guide frame time the separation of a ``duration``-second file will ask for."""
    spans = window_spans(int(round(duration * SAMPLE_RATE)), overlap)
    times = set()
    for start, valid in spans:
        centre = (start + valid / 2) / SAMPLE_RATE
        times.update(max(0.0, centre + off) for off in FRAME_OFFSETS)
    return sorted(times)


def thumbnail(frame: np.ndarray) -> np.ndarray:
    """32 x 18 block means of ``frame``, 0..1: enough to tell a cut or a move from a still shot."""
    return block_means(frame.astype(np.float32) / 255.0, 18, 32)


def find_players(
    source: str | Path | MediaInfo,
    finder: PlayerFinder,
    *,
    sources: int | None = None,
    overlap: float = 0.25,
    on_frame: Callable[[int, int], None] | None = None,
) -> BoxPlan:
    """The players of a video as a :class:`TrackedBoxes` plan, or vertical strips with a
    :attr:`~BoxPlan.note` saying why when none are found (or not ``sources`` of them).

    ``sources`` fixes the number of sources (the best-supported ones are kept); ``overlap``
    must be the separation's, so that the frames looked at are the ones it will use.
    ``on_frame(done, total)`` reports progress over those frames. ``source``: the probed file
    (or a path, probed here).
    """
    info = source if isinstance(source, MediaInfo) else probe(source)
    if info.video is None:
        raise InputError(f"{info.path}: no video stream, so there are no players to find")
    width, height = info.video.width, info.video.height
    times = guide_frame_times(info.duration, overlap)
    decoded: dict[float, tuple[np.ndarray, float]] = {}
    keyframes, frame_keys = _look(info, finder, times, on_frame, decoded)
    total = sum(k.frames for k in keyframes)
    tracks = link_tracks(keyframes, width, height)

    def frames(track: Track) -> int:
        return sum(keyframes[k].frames for k in track.hits)

    def share(track: Track) -> float:
        return frames(track) / total

    def strength(track: Track) -> float:
        return sum(keyframes[k].frames * d.score for k, d in track.hits.items()) / total

    strips = sources or 2
    ranked = sorted(tracks, key=strength, reverse=True)
    if sources is None:
        lasting = [t for t in ranked if share(t) >= MIN_SHARE and frames(t) >= min(MIN_FRAMES, total)]
        chosen = lasting[:MAX_BOXES]
    else:
        chosen = ranked[:sources]
    found = ", ".join(f"{t.label()} {_mean_score(t):.2f}" for t in ranked[:4]) or "nothing"
    if not chosen or (sources is not None and len(chosen) < sources):
        why = (
            f"found {len(chosen)} player(s) but --sources asks for {sources}"
            if chosen
            else "found no instrument it is sure of" + (f" (best: {found})" if ranked else "")
        )
        plan = strips_plan(width, height, strips)
        plan.note = f"{why}; using {strips} vertical strips instead (give --boxes to place them)"
        return plan
    chosen.sort(key=lambda t: _median_box(t, keyframes)[0] + _median_box(t, keyframes)[2])
    labels = [t.label() for t in chosen]
    names = numbered(labels)
    infos = [
        SourceInfo(n, _median_box(t, keyframes), lab, round(_mean_score(t), 2))
        for n, t, lab in zip(names, chosen, labels)
    ]
    per_key = [[t.hits[k].box if k in t.hits else None for t in chosen] for k in range(len(keyframes))]
    portraits = _portraits(info, chosen, keyframes)
    plan = TrackedBoxes(infos, [k.time for k in keyframes], per_key, frame_keys, portraits)
    plan.decoded = decoded
    return plan


def _look(
    info: MediaInfo,
    finder: PlayerFinder,
    times: Sequence[float],
    on_frame: Callable[[int, int], None] | None,
    decoded: dict[float, tuple[np.ndarray, float]],
) -> tuple[list[Keyframe], dict[float, int]]:
    """Run the finder once per shot: on a frame whose picture differs from the last keyframe's
    (:data:`REDETECT_CHANGE`), with the motion across up to :data:`MOTION_FRAMES` frames of its
    shot (the detection waits for them). Returns the keyframes and, per frame time looked at,
    the keyframe whose boxes it shares. Fills ``decoded`` with the frames by time asked for,
    up to :data:`KEEP_FRAMES_BYTES`, for the separation to reuse (one decoding pass)."""
    kept = 0
    keyframes: list[Keyframe] = []
    frame_keys: dict[float, int] = {}
    shot: tuple[np.ndarray, list[np.ndarray]] | None = None  # the keyframe's frame, its shot's greys
    last_thumb: np.ndarray | None = None

    def close_shot() -> None:
        if shot is not None:
            keyframes[-1].detections = finder.detect(shot[0], shot[1])

    with FrameReader(info) as reader:
        for done, asked in enumerate(times, 1):
            ((frame, t),) = reader.frames_and_times_at([asked])  # boxes go by the time shown
            if kept + frame.nbytes <= KEEP_FRAMES_BYTES:
                decoded[_time_key(asked)] = (frame, t)
                kept += frame.nbytes
            thumb = thumbnail(frame)
            if last_thumb is None or float(np.abs(thumb - last_thumb).mean()) > REDETECT_CHANGE:
                close_shot()
                keyframes.append(Keyframe(t, []))
                shot, last_thumb = (frame, [small_grey(frame)]), thumb
            elif len(shot[1]) < MOTION_FRAMES:
                shot[1].append(small_grey(frame))
            keyframes[-1].frames += 1
            frame_keys[_time_key(t)] = len(keyframes) - 1
            if on_frame:
                on_frame(done, len(times))
    close_shot()
    return keyframes, frame_keys


def _mean_score(track: Track) -> float:
    return float(np.mean([d.score for d in track.hits.values()]))


def _median_box(track: Track, keyframes: Sequence[Keyframe]) -> Box:
    """Coordinate-wise median of the track's boxes, each weighted by the frames it stood for."""
    rows = [(d.box, keyframes[k].frames) for k, d in track.hits.items()]
    boxes = np.repeat(np.array([b for b, _ in rows], float), [max(1, w) for _, w in rows], axis=0)
    x0, y0, x1, y1 = (int(round(v)) for v in np.median(boxes, axis=0))
    return (x0, y0, max(x1, x0 + 1), max(y1, y0 + 1))


def numbered(labels: Sequence[str]) -> list[str]:
    """Output names from class guesses: ``violin``, ``flute``; ``violin1``, ``violin2`` when two match."""
    counts = {lab: labels.count(lab) for lab in labels}
    seen: dict[str, int] = {}
    out = []
    for lab in labels:
        if counts[lab] == 1:
            out.append(lab)
        else:
            seen[lab] = seen.get(lab, 0) + 1
            out.append(f"{lab}{seen[lab]}")
    return out


def _portraits(info: MediaInfo, tracks: Sequence[Track], keyframes: Sequence[Keyframe]) -> list[np.ndarray]:
    """Each track's best-scoring crop, decoded again (keeping every crop of a long video in memory
    would grow with its length)."""
    best = [max(t.hits.items(), key=lambda kd: kd[1].score) for t in tracks]
    out: list[np.ndarray] = []
    with FrameReader(info) as reader:
        for k, det in best:
            frame = reader.frames_at([keyframes[k].time])[0]
            out.append(crop_boxes(frame, [det.box])[0])
    return out


def strips_plan(width: int, height: int, sources: int) -> BoxPlan:
    """``sources`` vertical strips as a plan (what avsep did before it could find players);
    its :attr:`~BoxPlan.method` says ``strips``, also when finding players fell back to them."""
    plan = BoxPlan.fixed(strip_boxes(width, height, sources))
    plan.method = "strips"
    return plan
