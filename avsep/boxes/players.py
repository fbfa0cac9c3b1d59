"""Which box each source has at every moment of a video: given, timed, or found automatically.

The separator asks one question per guide frame: *what picture of each source is there at time
t?* A :class:`BoxPlan` answers it (:meth:`BoxPlan.crops`). Three kinds exist:

* :class:`BoxPlan` itself: fixed boxes (``--boxes``, a boxes file, vertical strips);
* :class:`TimedBoxes`: a boxes file whose entries have ``start``/``end`` times, grouped into
  sources by name, for videos whose camera moves or cuts;
* :class:`TrackedBoxes`: what :func:`find_players` found (automatic mode).

The first two need no video and live in :mod:`avsep.boxes.plan` (so that argument checks load
neither torch nor PyAV); they are re-exported here.

:func:`find_players` looks at exactly the frames the separation will use (3 around the centre of
each model window) in time order. It runs the player finder (:mod:`avsep.boxes.detect`) once per
shot: on the first frame, and on a frame whose picture differs as much as a cut makes it
(:data:`CUT_CHANGE`) from the frame before it (a cut) or from the last frame it ran on (a pan
or a zoom that has added up to a new picture); as a safety net, also on a frame that has
drifted less but still visibly from that one (:data:`REDETECT_CHANGE`) once :data:`RECHECK_S`
seconds have passed. Every other frame reuses the last boxes: a shot costs one detection
however much moves inside it (bows, arms, a swaying player), and a shot the video cuts back
to (the same picture as one looked at before) costs none. The detections are then linked
into sources from frame to frame by instrument family first and position second
(:func:`link_tracks`), so when two players swap places at a cut, each output stays with its
instrument. A source that is not found at some moment (it left the shot, or the finder missed
it) is guided there by its *portrait*: its best-scoring crop from elsewhere in the video,
rather than by whatever now fills its old box.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import nullcontext
from pathlib import Path

import numpy as np

from avsep.boxes.ahead import Compute, PartsAhead
from avsep.boxes.box import MAX_BOXES, Box, strip_boxes
from avsep.boxes.cues import block_means, small_grey
from avsep.boxes.detect import Look, PlayerFinder
from avsep.boxes.kept import FrameKeeper, Portraits
from avsep.boxes.naming import alike_note, outside_classes_note, reading_order
from avsep.boxes.plan import AutoBoxesWarning as AutoBoxesWarning  # re-exported: where the finder's users look
from avsep.boxes.plan import BoxCrops, BoxPlan, SourceInfo, span_times, strips_plan, time_key
from avsep.boxes.plan import TimedBoxes as TimedBoxes
from avsep.boxes.tracks import Keyframe, Track, link_tracks
from avsep.errors import InputError
from avsep.heap import HeapWatch
from avsep.io.keyframes import Still
from avsep.io.media import MediaInfo, probe
from avsep.io.video import FrameReader
from avsep.options import DEFAULT_OVERLAP
from avsep.signal.chunking import FRAME_OFFSETS, GUIDE_SNAP_S, window_spans
from avsep.signal.dsp import SAMPLE_RATE
from avsep.timing import stage

#: A new picture: a guide frame's thumbnail (32 x 18 block means, pixel values 0..1) differs
#: from that of the frame looked at just before it (1.5 to 3 s earlier: a cut), or from that of
#: the last frame the finder ran on (a drift that has added up), by more than this mean absolute
#: difference, and the finder runs again. Chosen on allowed material only (``python -m
#: benchmarks.detect_players --calibrate cuts``; docs/experiments/2026-12-06-finder-knobs-allowed.md):
#: the midpoint between the largest change within a shot (a moving photo composite against the
#: same 1 s later: at most 0.08) and the smallest across a cut (one composite against the next:
#: 0.20 or more, median 0.34). The finder compares frames 1.5-3 s apart, and a drift against the
#: keyframe adds up over a shot: 3 s on, the same composites change by up to 0.139, 0.001 under
#: this (one more finder run when met, not a wrong box).
CUT_CHANGE = 0.14

#: Drift: the thumbnail differs from the last keyframe's by more than this: the median change of
#: a still photo composite panned sideways by 1.5 % of its width (same calibration; a cut
#: changes it by 0.20 or more). A drifted shot is looked at again, but only :data:`RECHECK_S`
#: after its keyframe.
REDETECT_CHANGE = 0.03

#: The safety net: seconds after which a drifted shot (a slow pan, a player who walked, a cut
#: too soft for :data:`CUT_CHANGE`) is looked at again: a drifting 10-minute shot pays at most
#: 5 more finder runs, a still one none. A run costs 7-15 % of what separating a minute does
#: (more where much moves: the crop of each moving blob is named), so one a minute would spend
#: automatic mode's whole +15 % budget (benchmarks/auto_boxes_cost.py, results.md 3b).
RECHECK_S = 120.0

#: The finder measures motion over at most this many frames of a shot (the first ones looked
#: at: 3 frames 1.5 s apart around each of 2 windows' centres), so a long still shot costs no more.
MOTION_FRAMES = 6

#: The frames the finder decodes are kept for the separation, which asks for the same ones, as
#: the crops it can read of them (:mod:`avsep.boxes.kept`), up to this many bytes; later ones it
#: decodes again. A frame with 2 boxes keeps 0.3 MB: a 2-minute video's 80 frames 24 MB, all
#: kept; a 10-minute video's 405 frames 120-180 MB, which all held at the separation's start
#: took automatic mode's RSS at the separation's start to 1085 MB against a peak of 862 MB with
#: boxes (issue 30's bound is 1.0 GB); at this size 986 MB there, and 998 MB the run's peak in
#: bench_phone. The frames past it cost their decoding again (that video: 1.23x boxes' time).
KEEP_FRAMES_BYTES = 96 * 2**20

#: A player must be found in at least this share of the video's frames to be a source of its
#: own: a stray detection in one shot of a long video is more likely a poster or a reflection.
MIN_SHARE = 0.2
#: ... and in at least this many of the frames looked at (when there are that many): a region
#: the finder saw in one frame only, next to frames of the same shot where it did not (a shadow
#: read as a cello for a moment), is not a player. A still shot counts all its frames, so a
#: player shown in one still shot is kept.
MIN_FRAMES = 2


# -- automatic mode ----------------------------------------------------------------------------


class TrackedBoxes(BoxPlan):
    """Automatic boxes: each source's box at every keyframe, and a portrait for the gaps."""

    method = "auto"

    def __init__(
        self,
        sources: Sequence[SourceInfo],
        times: Sequence[float],
        boxes: Sequence[Sequence[Box | None]],
        frame_keys: dict[float, int],
        portraits: Portraits,
        note: str | None = None,
    ) -> None:
        super().__init__(sources, note)
        #: the time each guide frame the finder looked at was shown, by :func:`time_key` of the
        #: time asked for: the separation decodes these frames exactly (:meth:`decode_times`)
        self.shown: dict[float, float] = {}
        self.times = list(times)
        self._boxes = [list(b) for b in boxes]  # [keyframe][source]
        self._frame_keys = frame_keys
        self._portraits = portraits

    #: the finder's own frames, exactly: its boxes are known at the times those were shown, and a
    #: frame from another moment near a cut could take the shot before's boxes
    snaps = False

    def decode_times(self, times: Sequence[float]) -> list[float]:
        return [self.shown.get(time_key(t), t) for t in times]

    def keyframe_at(self, time: float) -> int:
        """The keyframe whose boxes hold for the frame shown at ``time``: the one that frame
        shared when it was looked at, else the last one at or before ``time``."""
        key = self._frame_keys.get(time_key(time))
        if key is not None:
            return key
        before = [k for k, t in enumerate(self.times) if t <= time + 1e-6]
        return before[-1] if before else 0

    def boxes_at(self, time: float) -> list[Box | None]:
        return list(self._boxes[self.keyframe_at(time)])

    def _portrait(self, source: int) -> np.ndarray:
        return self._portraits.crop(source)

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
            out += [
                {"name": src.name, "box": list(b), **span_times(t0 + self.clock, t1 + self.clock)}
                for t0, t1, b in spans
            ]
        return out


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
    return block_means(frame, 18, 32) / 255.0


@stage("find players")  # avsep.timing: reported when someone listens
def find_players(
    source: str | Path | MediaInfo,
    finder: PlayerFinder,
    *,
    sources: int | None = None,
    overlap: float = DEFAULT_OVERLAP,
    on_frame: Callable[[int, int], None] | None = None,
    ahead: Compute | None = None,
) -> BoxPlan:
    """The players of a video as a :class:`TrackedBoxes` plan, or vertical strips with a
    :attr:`~BoxPlan.note` saying why when none are found (or not ``sources`` of them).

    ``sources`` fixes the number of sources (the best-supported ones are kept); ``overlap``
    must be the separation's, so that the frames looked at are the ones it will use.
    ``on_frame(done, total)`` reports progress over those frames. ``source``: the probed file
    (or a path, probed here). ``ahead``: the separation's trunk work, started on the kept
    crops while the finder decodes (:mod:`avsep.boxes.ahead`; the plan's :attr:`~BoxPlan.ahead`).
    """
    info = source if isinstance(source, MediaInfo) else probe(source)
    if info.video is None:
        raise InputError(f"{info.path}: no video stream, so there are no players to find")
    width, height = info.video.width, info.video.height
    times = guide_frame_times(info.duration, overlap)
    strips = sources or 2
    decoded: dict[float, tuple[BoxCrops, float]] = {}
    shown: dict[float, float] = {}
    parts = PartsAhead(ahead) if ahead is not None else None
    keeper = FrameKeeper(decoded, strip_boxes(width, height, strips), KEEP_FRAMES_BYTES, sources or 1, parts)
    with parts if parts is not None else nullcontext():  # a failed search drops what has not started
        keyframes, frame_keys = _look(info, finder, times, on_frame, keeper, shown)
    total = sum(k.frames for k in keyframes)
    tracks = link_tracks(keyframes, width, height)

    def frames(track: Track) -> int:
        return sum(keyframes[k].frames for k in track.hits)

    def share(track: Track) -> float:
        return frames(track) / total

    def strength(track: Track) -> float:
        return sum(keyframes[k].frames * d.score for k, d in track.hits.items()) / total

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
        plan.decoded, plan.ahead = decoded, parts  # the strips' frames were decoded all the same
        return plan
    chosen = [chosen[i] for i in reading_order([_median_box(t, keyframes) for t in chosen])]
    labels = [t.label() for t in chosen]
    names = numbered(labels)
    infos = [
        SourceInfo(n, _median_box(t, keyframes), lab, round(_mean_score(t), 2))
        for n, t, lab in zip(names, chosen, labels)
    ]
    per_key = [[t.hits[k].box if k in t.hits else None for t in chosen] for k in range(len(keyframes))]
    plan = TrackedBoxes(infos, [k.time for k in keyframes], per_key, frame_keys, Portraits(info, chosen, keyframes))
    plan.decoded, plan.shown, plan.ahead = decoded, shown, parts
    # said, not a plan.note: the found boxes are still announced
    for note in (outside_classes_note(labels), alike_note(labels, [s.box for s in infos], finder.motion_splits)):
        if note:
            warnings.warn(f"{info.path}: {note}", AutoBoxesWarning, stacklevel=2)
    return plan


def _look(
    info: MediaInfo,
    finder: PlayerFinder,
    times: Sequence[float],
    on_frame: Callable[[int, int], None] | None,
    keeper: FrameKeeper,
    shown: dict[float, float],
) -> tuple[list[Keyframe], dict[float, int]]:
    """Run the finder once per shot (:func:`looks_again`; a shot shown again takes its first
    showing's boxes, :func:`shown_before`), with the motion across up to
    :data:`MOTION_FRAMES` frames of its shot (the detection waits for them; what it reads of
    the shot's first frame alone, :meth:`~avsep.boxes.detect.PlayerFinder.look`, is made in a
    worker thread meanwhile, so the trunk and the decoder share the cores). Returns the
    keyframes and, per frame time looked at, the keyframe whose boxes it shares. Hands each
    frame to ``keeper`` for the separation to reuse (one decoding pass; a shot's frames are
    reduced to crops as soon as its detection ran, which is as soon as its motion frames are
    in), and fills ``shown`` with the time each was shown."""
    keyframes: list[Keyframe] = []
    frame_keys: dict[float, int] = {}
    # the keyframe's frame, its shot's greys, and what the finder reads of the frame alone, being made
    shot: tuple[np.ndarray, list[np.ndarray], Future[Look]] | None = None  # None: its players are known
    still: Still | None = None  # once a shot's players are known: whether its boxes held still
    key_thumb: np.ndarray | None = None  # the keyframe's thumbnail
    seen: list[tuple[np.ndarray, int]] = []  # thumbnails the finder ran on, with their keyframes
    last_thumb: np.ndarray | None = None  # the frame before's
    last_shown: float | None = None  # the time the frame before is shown from

    def close_shot() -> None:
        nonlocal shot
        if shot is not None:
            keyframes[-1].detections, shot = finder.detect(shot[0], shot[1], shot[2].result()), None
        if keyframes:
            keeper.settle(d.box for d in keyframes[-1].detections)

    watch = HeapWatch()  # the frames' temporaries are freed between kept crops: give the heap back
    # no torch work runs on this thread while a look is made (crops are cut after its result)
    with FrameReader(info) as reader, ThreadPoolExecutor(1) as looking:
        for done, asked in enumerate(times, 1):
            watch()
            # boxes go by the time shown; the separation's guide frames (GUIDE_SNAP_S), decoded once;
            # a shot's motion frames exactly, its later ones from keyframes where its boxes held still
            ((frame, t),) = reader.frames_and_times_at([asked], snap=GUIDE_SNAP_S, still=still)
            if still is not None and t < keyframes[-1].time:  # a keyframe from before the shot: exactly
                ((frame, t),) = reader.frames_and_times_at([asked], snap=GUIDE_SNAP_S)
            key = time_key(asked)
            shown[key] = t
            thumb = last_thumb if t == last_shown else thumbnail(frame)  # a keyframe answering again
            if not keyframes or looks_again(thumb, last_thumb, key_thumb, t - keyframes[-1].time):
                close_shot()
                again, key_thumb, still = shown_before(thumb, seen), thumb, None
                if again is None:  # a new picture: the finder runs on it when its shot closes
                    keyframes.append(Keyframe(t, []))
                    shot = (frame, [small_grey(frame)], looking.submit(finder.look, frame))  # while motion decodes
                    seen.append((thumb, len(keyframes) - 1))
                else:  # a picture shown before: its boxes, no finder run
                    keyframes.append(Keyframe(t, list(keyframes[again].detections)))
                    shot = None
            elif shot is not None and len(shot[1]) < MOTION_FRAMES:
                shot[1].append(small_grey(frame))
            keeper.hold(key, frame, t)
            if shot is None or len(shot[1]) >= MOTION_FRAMES:
                close_shot()  # its players are known (or can be): its frames become crops
                if still is None:  # one judge a shot, made when its players are known
                    still = keeper.judge(d.box for d in keyframes[-1].detections)
            last_thumb, last_shown = thumb, t
            keyframes[-1].frames += 1
            frame_keys[time_key(t)] = len(keyframes) - 1
            if on_frame:
                on_frame(done, len(times))
    close_shot()
    return keyframes, frame_keys


def shown_before(thumb: np.ndarray, seen: Sequence[tuple[np.ndarray, int]]) -> int | None:
    """The keyframe of a shot the finder already ran on that shows this picture again (its
    thumbnail within :data:`REDETECT_CHANGE`, the picture not drifted), or None. A music video
    cuts back and forth between a few camera angles: each is looked at once, not at every cut
    (issue 30: a cut every 2 s made automatic mode 2.3x the time with boxes)."""
    diffs = [(float(np.abs(thumb - old).mean()), k) for old, k in seen]
    best = min(diffs, default=(np.inf, None))
    return best[1] if best[0] <= REDETECT_CHANGE else None


def looks_again(thumb: np.ndarray, before: np.ndarray, keyframe: np.ndarray, since: float) -> bool:
    """Whether the finder runs on a frame (:func:`thumbnail` ``thumb``) rather than reusing the
    boxes of the last keyframe (``keyframe``, ``since`` seconds earlier): the picture is new
    (:data:`CUT_CHANGE`) since the frame ``before`` it or since the keyframe, or it has drifted
    from the keyframe's (:data:`REDETECT_CHANGE`) and :data:`RECHECK_S` have passed."""
    drift = float(np.abs(thumb - keyframe).mean())
    if max(float(np.abs(thumb - before).mean()), drift) > CUT_CHANGE:
        return True
    return since >= RECHECK_S and drift > REDETECT_CHANGE


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
