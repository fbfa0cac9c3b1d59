"""How well the automatic boxes find the players: side-by-side duets and trios made of real frames.

    python -m benchmarks.detect_players                       # report (real frames), ~2 min on 2 cores
    python -m benchmarks.detect_players --calibrate photos    # grid search on PHOTO composites
    python -m benchmarks.detect_players --calibrate knobs --frames 32  # the cues' knobs, one at a time
    python -m benchmarks.detect_players --calibrate faces --frames 32  # the cues' module constants
    python -m benchmarks.detect_players --calibrate mechanisms --frames 32  # round 6's fixes
    python -m benchmarks.detect_players --calibrate cuts --frames 32   # CUT_CHANGE, REDETECT_CHANGE
    python -m benchmarks.detect_players --calibrate precision --frames 32  # the maps in bfloat16
    python -m benchmarks.detect_players --people off          # the finder without the person detector
    python -m benchmarks.detect_players --ablation --frames 12        # one row per change (results 3b)
    python -m benchmarks.detect_players --json out.json --frames 300

Each test frame is a 1280 x 720 canvas cut into 2 (duet) or 3 (trio) equal columns; each column
gets one picture of a different instrument, cropped around its middle (60-100 % of its width,
80-100 % of its height, the crop's centre within 10 % of the picture's), scaled to 50-100 % of
what fits the column and placed at a random position in it, on a random plain background. A
player "gets exactly one box" when exactly one box's centre lies inside that player's picture; a
frame's count is right when it has as many boxes as players.

Sets (all from ``../shared/realclips``, evaluation only, never copied):

* ``solo duets`` / ``solo trios``: frames of the 4 music-solo videos outside :data:`CALIBRATED_ON`
  (accordion x2, cello, flute), frames 4 .. n-3 of each (intros and endings left out), instruments all different.
* ``fcsn duets`` / ``fcsn trios``: one picture is an FCSN player crop (``Object_detection_K.png``:
  bass guitar, xylophone, bagpipes x2, guzheng x2, tuba, guitar, clarinet; the instruments
  ImageNet has no class for are included on purpose), the others music-solo frames.
* ``fcsn real duet``: the one real two-player frame (clarinet left, guitar right), as is; its
  players are taken to be the left and right halves.

Calibration never touches ``../shared/realclips``. ``--calibrate photos`` searches the
instrument maps' thresholds in a grid around :class:`avsep.boxes.regions.FinderSettings` on
every kaggle-30 photo (the first search's inputs); the other modes use the photos of the guide
head's **val** split (:func:`val_photos`; the head never trained on them), as still pictures
and as *moving* ones (:func:`moving`: two frames 1 s apart under a stated motion model, since
no allowed real video exists): ``--calibrate knobs``
searches the cues' knobs one at a time (:data:`KNOB_GRID`), by the rule of
docs/experiments/2026-12-06-finder-knobs-allowed.md, and ``--calibrate faces`` the face and
motion constants of :mod:`avsep.boxes.cues` (:data:`CUE_CONSTANTS`); ``--calibrate cuts`` measures what a cut
and a drift change in a frame's thumbnail (:data:`avsep.boxes.players.CUT_CHANGE`). The three
music-solo videos that chose knobs in earlier rounds (:data:`CALIBRATED_ON`) are left out of
every report. The seed fixes every composite, so two runs score the same frames.
"""

from __future__ import annotations

import argparse
import io
import itertools
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path

import numpy as np
from PIL import Image

from benchmarks import json_out

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
REAL = SHARED / "realclips"
PHOTOS = SHARED / "datasets" / "photos" / "kaggle-30"
CANVAS = (720, 1280)  # height, width

#: What each FCSN crop shows (looked at by eye; the files carry no labels).
FCSN_CROPS = {
    "2-mix-separation/sample-1/Object_detection_1.png": "bass guitar",
    "2-mix-separation/sample-1/Object_detection_2.png": "xylophone",
    "2-mix-separation/sample-2/Object_detection_1.png": "bagpipes",
    "2-mix-separation/sample-2/Object_detection_2.png": "guzheng",
    "3-mix-separation/sample-1/Object_detection_1.png": "bagpipes",
    "3-mix-separation/sample-1/Object_detection_2.png": "guzheng",
    "3-mix-separation/sample-1/Object_detection_3.png": "tuba",
    "Real-mix_duet-separation/sample-1/Object_detection_1.png": "acoustic guitar",
    "Real-mix_duet-separation/sample-1/Object_detection_2.png": "clarinet",
}

Picture = Callable[[np.random.Generator], np.ndarray]


@dataclass
class Composite:
    frame: np.ndarray
    tiles: list[tuple[int, int, int, int]]  # x0, y0, x1, y1 of each player's picture
    classes: list[str]
    #: the same composite a moment later (the next frame of each video; a photo stays still):
    #: what the motion cue sees (empty: a still frame only)
    later: list[np.ndarray] = field(default_factory=list)


def load(path: Path | io.BytesIO) -> np.ndarray:
    with Image.open(path) as im:
        return np.array(im.convert("RGB"))


#: The three music-solo videos that chose finder knobs in rounds 3-5, before those knobs were
#: chosen again on allowed material (docs/experiments/2026-12-06-finder-knobs-allowed.md): what
#: once chose a knob never reports it, so every quality report uses the other four. (Only
#: ``benchmarks/auto_boxes_cost.py --real`` times the finder on one of them, the only real clip
#: with a video file: a cost, which chooses nothing.)
CALIBRATED_ON = {"UKk9DJD1jOo", "XS_dSmZ0xbw", "unRA0xR-XWc"}


def solo_videos() -> list[Path]:
    """The music-solo videos a report may use (not :data:`CALIBRATED_ON`)."""
    return [rec for rec in sorted(REAL.glob("music-solo/*/*")) if rec.name not in CALIBRATED_ON]


def solo_pool() -> dict[str, list[Picture]]:
    """Instrument -> one picker per reportable music-solo video (a random frame of it)."""
    pool: dict[str, list[Picture]] = {}
    for rec in solo_videos():
        frames = sorted((rec / "frames").glob("*.jpg"))[3:-3]
        if len(frames) > 1:
            pool.setdefault(rec.parent.name, []).append(lambda rng, f=frames: pair(f, rng))
    return pool


def pair(frames: list[Path], rng: np.random.Generator) -> np.ndarray:
    """``[2, H, W, 3]``: a random frame of a video and the next one (1 s later)."""
    k = int(rng.integers(len(frames) - 1))
    return np.stack([load(frames[k]), load(frames[k + 1])])


def fcsn_pool() -> dict[str, list[Picture]]:
    pool: dict[str, list[Picture]] = {}
    for rel, name in FCSN_CROPS.items():
        path = REAL / "fcsn" / rel
        if path.is_file():
            pool.setdefault(name, []).append(lambda rng, p=path: load(p))
    return pool


@cache
def val_photos() -> dict[str, list[Path]]:
    """Class folder -> the kaggle-30 photos of the guide head's val split (never trained on)."""
    from avsep.train.guide_photos import list_pictures, split_pictures

    found = [p for p in list_pictures(PHOTOS.parent, erhu_drawings=0) if p.key.startswith(f"{PHOTOS.name}/")]
    split = split_pictures(found)
    out: dict[str, list[Path]] = {}
    for p in found:
        if split[p.key] == "val" and p.path is not None:
            out.setdefault(p.folder, []).append(p.path)
    return out


def player_photos() -> dict[str, list[Path]]:
    """:func:`val_photos` in which the bundled person detector finds someone: players, where most
    photos are products alone."""
    from avsep.models.person_detector import load_person_detector

    detector = load_person_detector()
    found = {name: [f for f in files if detector.detect(load(f), False)] for name, files in val_photos().items()}
    return {name: files for name, files in found.items() if files}


def photo_pool(
    motion: bool = False, photos: dict[str, list[Path]] | None = None, seconds: float = 1.0
) -> dict[str, list[Picture]]:
    """Instrument -> a picker of a random val photo (``photos``, else all of them; calibration
    only); with ``motion``, the photo and the same photo ``seconds`` later (:func:`moving`)."""
    if not PHOTOS.is_dir():
        return {}
    pick = (lambda f, rng: moving(load(f), rng, seconds)) if motion else (lambda f, rng: load(f))
    photos = val_photos() if photos is None else photos
    return {name: [lambda rng, f=files: pick(f[rng.integers(len(f))], rng)] for name, files in photos.items()}


def moving(photo: np.ndarray, rng: np.random.Generator, seconds: float = 1.0) -> np.ndarray:
    """``[2, H, W, 3]``: a photo and the same photo 1 s later, by the motion model the
    calibration states (no allowed real video exists): the hands and instrument move (a
    displacement with a Gaussian fall-off around a random point of the middle 60 %, sigma
    15-30 % of the short side, peak 4-10 % of it, any direction), the player sways (the whole
    photo shifted by up to 1.5 % of each side), and both frames go through JPEG at quality 60-90.
    ``seconds`` later, both movements are that many times as large (the same random draws)."""
    import cv2

    h, w = photo.shape[:2]
    short = min(h, w)
    cy, cx = rng.uniform(0.2, 0.8) * h, rng.uniform(0.2, 0.8) * w
    sigma, peak, angle = rng.uniform(0.15, 0.3) * short, rng.uniform(0.04, 0.1) * short, rng.uniform(0, 2 * np.pi)
    sway_x, sway_y = rng.uniform(-0.015, 0.015) * w, rng.uniform(-0.015, 0.015) * h
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    fall = np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * sigma**2))
    map_x = (xx - seconds * (peak * np.cos(angle) * fall + sway_x)).astype(np.float32)
    map_y = (yy - seconds * (peak * np.sin(angle) * fall + sway_y)).astype(np.float32)
    later = cv2.remap(photo, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return np.stack([jpeg(photo, rng), jpeg(later, rng)])


def jpeg(picture: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``picture`` through JPEG at a random quality 60-90 (what a codec does to a frame)."""
    buf = io.BytesIO()
    Image.fromarray(picture).save(buf, "JPEG", quality=int(rng.integers(60, 91)))
    return load(buf)


def compose(pictures: list[np.ndarray], classes: list[str], rng: np.random.Generator) -> Composite:
    """Pictures side by side in equal columns, each randomly cropped, scaled and placed. A
    picture may be a stack ``[k, H, W, 3]`` of a video's successive frames: every frame is
    placed alike, and the composite's :attr:`Composite.later` holds the second."""
    height, width = CANVAS
    stacks = [p if p.ndim == 4 else p[None] for p in pictures]
    canvases = [np.empty((height, width, 3), np.uint8) for _ in range(max(len(p) for p in stacks))]
    background = rng.integers(0, 256, 3)
    for c in canvases:
        c[:] = background
    slot = width / len(pictures)
    tiles = []
    for k, stack in enumerate(stacks):
        h, w = stack.shape[1:3]
        # A split-screen duet crops each video around its player, who is near the middle of
        # these solo videos: the crop stays within 10 % of the centre.
        cw, ch = max(8, int(w * rng.uniform(0.6, 1.0))), max(8, int(h * rng.uniform(0.8, 1.0)))
        x = int(np.clip((w - cw) / 2 + rng.uniform(-0.1, 0.1) * w, 0, w - cw))
        y = int(np.clip((h - ch) / 2 + rng.uniform(-0.1, 0.1) * h, 0, h - ch))
        scale = min(slot / cw, height / ch) * rng.uniform(0.5, 1.0)
        tw, th = max(8, int(cw * scale)), max(8, int(ch * scale))
        x0 = int(k * slot + rng.integers(0, max(1, int(slot) - tw + 1)))
        y0 = int(rng.integers(0, height - th + 1))
        for i, canvas in enumerate(canvases):
            crop = stack[min(i, len(stack) - 1), y : y + ch, x : x + cw]
            canvas[y0 : y0 + th, x0 : x0 + tw] = np.asarray(Image.fromarray(crop).resize((tw, th), Image.BILINEAR))
        tiles.append((x0, y0, x0 + tw, y0 + th))
    return Composite(canvases[0], tiles, classes, canvases[1:])


def make_set(pools: list[dict[str, list[Picture]]], players: int, count: int, seed: int) -> list[Composite]:
    """``count`` composites of ``players`` different instruments; with two pools, the first
    picture comes from the second pool (the FCSN crops) and the rest from the first."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        names: list[str] = []
        pics: list[np.ndarray] = []
        if len(pools) > 1:
            extra = sorted(pools[1])
            name = extra[rng.integers(len(extra))]
            names.append(name)
            pics.append(pools[1][name][rng.integers(len(pools[1][name]))](rng))
        base = [n for n in sorted(pools[0]) if n not in names]
        for name in rng.permutation(base)[: players - len(names)]:
            pickers = pools[0][str(name)]
            names.append(str(name))
            pics.append(pickers[rng.integers(len(pickers))](rng))
        order = rng.permutation(len(pics))
        out.append(compose([pics[i] for i in order], [names[i] for i in order], rng))
    return out


def small_grey(frame: np.ndarray) -> np.ndarray:
    from avsep.boxes.cues import small_grey as grey

    return grey(frame)


def score(finder, composites: list[Composite]) -> dict[str, float]:
    """Share of players with exactly one box centre on their picture, of frames with the right
    count, extra boxes per frame, and the finder's time per frame."""
    one = players = right_count = extra = 0
    seconds = 0.0
    per_class: dict[str, list[int]] = {}
    for comp in composites:
        start = time.perf_counter()
        found = finder.detect(comp.frame, [small_grey(f) for f in [comp.frame, *comp.later]])
        seconds += time.perf_counter() - start
        centres = [((b.box[0] + b.box[2]) / 2, (b.box[1] + b.box[3]) / 2) for b in found]
        hits_per_tile = [sum(x0 <= cx < x1 and y0 <= cy < y1 for cx, cy in centres) for x0, y0, x1, y1 in comp.tiles]
        one += sum(h == 1 for h in hits_per_tile)
        for name, h in zip(comp.classes, hits_per_tile):
            per_class.setdefault(name, []).append(h == 1)
        players += len(comp.tiles)
        right_count += len(found) == len(comp.tiles)
        extra += max(0, len(found) - sum(min(h, 1) for h in hits_per_tile))
    n = max(1, len(composites))
    return {
        "frames": len(composites),
        "players": players,
        "one_box_rate": one / max(1, players),
        "count_right_rate": right_count / n,
        "extra_boxes_per_frame": extra / n,
        "ms_per_frame": 1000 * seconds / n,
        "one_box_rate_per_class": {k: float(np.mean(v)) for k, v in sorted(per_class.items())},
    }


def real_duet_frame() -> list[Composite]:
    path = REAL / "fcsn" / "Real-mix_duet-separation" / "sample-1" / "frame.png"
    if not path.is_file():
        return []
    frame = load(path)
    h, w = frame.shape[:2]
    return [Composite(frame, [(0, 0, w // 2, h), (w // 2, 0, w, h)], ["clarinet", "acoustic guitar"])]


def test_sets(frames: int, seed: int) -> dict[str, list[Composite]]:
    solo, fcsn = solo_pool(), fcsn_pool()
    if not solo:
        sys.exit(f"{REAL}/music-solo not found: this benchmark needs ../shared/realclips")
    sets = {
        "solo duets": make_set([solo], 2, frames, seed),
        "solo trios": make_set([solo], 3, frames, seed + 1),
        "fcsn duets": make_set([solo, fcsn], 2, frames // 2, seed + 2),
        "fcsn trios": make_set([solo, fcsn], 3, frames // 2, seed + 3),
        "fcsn real duet": real_duet_frame(),
    }
    return {name: comps for name, comps in sets.items() if comps}


def report(finder, frames: int, seed: int) -> dict[str, dict[str, float]]:
    return {name: score(finder, comps) for name, comps in test_sets(frames, seed).items()}


def print_ablation(rows: dict[str, dict[str, dict]]) -> None:
    """Per cue combination: exactly-one-box and count-right rates per set, and the cello's."""
    names = list(next(iter(rows.values())))
    print(f"{'cues':<27} " + " ".join(f"{n:>22}" for n in names) + f" {'cello 1-box':>11}")
    for row, results in rows.items():
        cells = " ".join(f"{r['one_box_rate']:>13.1%} /{r['count_right_rate']:>7.1%}" for r in results.values())
        cello = [r["one_box_rate_per_class"].get("cello") for r in results.values()]
        cello = [c for c in cello if c is not None]
        print(f"{row:<27} {cells} {np.mean(cello) if cello else float('nan'):>11.1%}")


#: ``--calibrate photos``: every threshold of the instrument maps, on still photo composites
#: (the first search; its best setting is the default).
PHOTO_GRID = {
    "short_side": [352, 448],
    "cell_threshold": [0.3, 0.5, 0.7],
    "link_threshold": [0.03, 0.1, 0.2, 1.0],
    "merge_gap": [0.0, 0.25, 0.5, 1.0],
    "min_score": [0.5, 0.6, 0.7],
    "min_cells": [2],
}


def calibrate(trunk, frames: int, seed: int) -> None:
    """:data:`PHOTO_GRID` on still duets and trios of every kaggle-30 photo (the first search's
    inputs, which chose the shipped thresholds; the guide head played no part in it)."""
    from avsep.boxes.detect import PlayerFinder
    from avsep.boxes.regions import FinderSettings

    folders = sorted(PHOTOS.iterdir()) if PHOTOS.is_dir() else []
    pool = photo_pool(photos={f.name: sorted(f.glob("*.jpg")) for f in folders if any(f.glob("*.jpg"))})
    if not pool:
        sys.exit(f"{PHOTOS} not found: calibration needs the photos")
    sets = [make_set([pool], 2, frames, seed + 10), make_set([pool], 3, frames, seed + 11)]
    base = FinderSettings()
    keys = [k for k in PHOTO_GRID if k != "short_side"]
    print(
        f"{'short':>5} "
        + " ".join(f"{k.split('_')[0]:>6}" for k in keys)
        + f" {'duet 1-box':>10} {'trio 1-box':>10} {'count ok':>8}"
    )
    # Settings that only change the post-processing share one probability pass per frame.
    for short in PHOTO_GRID["short_side"]:
        finder = PlayerFinder(trunk, replace(base, short_side=short))
        probs = [[finder.probabilities(c.frame) for c in s] for s in sets]
        for values in itertools.product(*(PHOTO_GRID[k] for k in keys)):
            settings = replace(base, short_side=short, **dict(zip(keys, values)))
            rates = [score(_Cached(settings, p), s) for s, p in zip(sets, probs)]
            ok = (rates[0]["count_right_rate"] + rates[1]["count_right_rate"]) / 2
            print(
                f"{short:>5} "
                + " ".join(f"{v:>6}" for v in values)
                + f" {rates[0]['one_box_rate']:>10.3f} {rates[1]['one_box_rate']:>10.3f} {ok:>8.3f}",
                flush=True,
            )


class _Cached:
    """A finder stand-in that replays precomputed probability maps (calibration speed)."""

    def __init__(self, settings, probs: list[np.ndarray]) -> None:
        self.settings = settings
        self.probs = iter(probs)

    def detect(self, frame: np.ndarray, greys=()):
        from avsep.boxes.regions import detections_from_regions, find_regions

        regions = find_regions(next(self.probs), self.settings)
        return detections_from_regions(regions, frame.shape[1], frame.shape[0], self.settings)


class _Replay:
    """A finder stand-in that hands back detections made before, one per composite in order."""

    def __init__(self, found: list) -> None:
        self.found = iter(found)

    def detect(self, frame: np.ndarray, greys=()):
        return next(self.found)


#: Round 2's finder (docs/results.md section 3b): the rows below add round 3's changes to it
#: one at a time, then all together (the shipped defaults).
ROUND_2 = {"stack_gap": 0.0, "motion_join": 0, "motion_share": 0.35, "fusion": {"motion_score": 0.5}}

#: The ablation: which cues and rules each row's finder uses (:class:`avsep.boxes.detect.FinderSettings`;
#: ``fusion``: :class:`avsep.boxes.fusion.FusionSettings` fields).
ABLATION = {
    "maps only (round 1)": {**ROUND_2, "persons": False, "motion": False},
    "round 2 (maps+faces+motion)": ROUND_2,
    "r2 + stacked regions": {**ROUND_2, "stack_gap": 1.0},
    "r2 + movers joined": {**ROUND_2, "motion_join": 2},
    "r2 + motion share 0.15": {**ROUND_2, "motion_share": 0.15},
    "r2 + motion score 0.4": {**ROUND_2, "fusion": {}},
    "round 3 (shipped)": {},
    "round 3, no faces": {"persons": False},
    "round 3, no motion": {"motion": False},
    "round 3, ImageNet naming": {"head": False},
}


def settings_for(cfg: dict):
    """The finder settings of an :data:`ABLATION` row."""
    from avsep.boxes.fusion import FusionSettings
    from avsep.boxes.regions import FinderSettings

    cfg = dict(cfg)
    fusion = FusionSettings(**cfg.pop("fusion", {}))
    return replace(FinderSettings(), fusion=fusion, **cfg)


def cached_finders(trunk):
    """``make(settings)``: a finder whose probability maps and people are computed once per
    frame and short side, shared by every setting tried (the ablation, the calibration)."""
    import avsep.boxes.detect as detect
    from avsep.boxes.detect import PlayerFinder, bundled_head
    from avsep.boxes.people import PeopleSettings

    maps: dict[tuple[int, int], np.ndarray] = {}
    people: dict[int, list] = {}
    find_people = detect.person_boxes

    def person_boxes(frame):
        if id(frame) not in people:
            people[id(frame)] = find_people(frame)
        return people[id(frame)]

    detect.person_boxes = person_boxes
    head = bundled_head(trunk)

    class Cached(PlayerFinder):
        def probabilities(self, frame: np.ndarray) -> np.ndarray:
            key = (id(frame), self.settings.short_side)
            if key not in maps:
                maps[key] = super().probabilities(frame)
            return maps[key]

    off = PeopleSettings(enabled=False)  # the cues of rounds 1-4; calibrate_knobs turns it on
    return lambda settings: Cached(trunk, settings, head if settings.head else None, off)


def ablation(trunk, sets: dict[str, list[Composite]]) -> dict[str, dict[str, dict]]:
    make = cached_finders(trunk)
    rows = {}
    for row, cfg in ABLATION.items():
        rows[row] = {name: score(make(settings_for(cfg)), comps) for name, comps in sets.items()}
        print(f"{row}: done", file=sys.stderr, flush=True)
    return rows


#: ``--calibrate knobs``: each knob and the values tried, searched one at a time in this order
#: (``fusion.`` a :class:`avsep.boxes.fusion.FusionSettings` field, ``people.`` a
#: :class:`avsep.boxes.people.PeopleSettings` one, else a :class:`avsep.boxes.regions.FinderSettings`
#: one); the rule: docs/experiments/2026-12-06-finder-knobs-allowed.md.
KNOB_GRID = [
    ("merge_gap", [0.0, 0.25, 0.5, 0.75, 1.0, 1.5]),
    ("stack_gap", [0.0, 0.5, 1.0]),
    ("motion_join", [0, 1, 2, 3]),
    ("motion_share", [0.15, 0.25, 0.35]),
    ("fusion.motion_score", [0.3, 0.4, 0.5, 0.7]),
    ("fusion.person_score", [0.3, 0.5, 0.7]),
    ("people.fine", [False, True]),
    ("people.first", [False, True]),
    ("people.min_score", [0.3, 0.5, 0.7]),
    ("people.region", ["upper", "body"]),
    ("people.touch", [0.05, 0.15]),
    ("people.name_score", [0.5, 0.7]),
    ("people.orphans", [True, False]),
    ("persons", [True, False]),
]
#: A value replaces the shipped one only when it scores at least this much higher.
KNOB_MARGIN = 0.01

#: ``--calibrate mechanisms`` (round 6): the fixes for one player read as two, tried on the
#: calibration sets plus the player composites; adopted by :data:`KNOB_MARGIN` with no set
#: falling by more than :data:`SET_GUARD`.
MECHANISM_GRID = [
    ("fusion.same_person", [False, True]),
    ("overlap_merge", [0.0, 0.5, 0.75]),
    ("people.max_span", [0.0, 4.0, 6.0, 8.0]),
    ("fusion.mover_people", [0, 2]),
]
SET_GUARD = 0.02


def calibration_sets(frames: int, seed: int, players: bool = False) -> dict[str, list[Composite]]:
    """Still and moving composites of the guide head's val photos (never the real clips); with
    ``players``, also moving composites of the val photos that show a person
    (:func:`player_photos`)."""
    still, motion = photo_pool(), photo_pool(motion=True)
    if not still:
        sys.exit(f"{PHOTOS} not found: calibration needs the photos")
    sets = {
        "still duets": make_set([still], 2, frames, seed + 110),
        "still trios": make_set([still], 3, frames, seed + 111),
        "moving duets": make_set([motion], 2, frames, seed + 100),
        "moving trios": make_set([motion], 3, frames, seed + 101),
    }
    if players:
        people = photo_pool(motion=True, photos=player_photos())
        sets["player duets"] = make_set([people], 2, frames, seed + 120)
        sets["player trios"] = make_set([people], 3, frames, seed + 121)
    return sets


def knob_finder(make, people, config: dict):
    """A cached finder (:func:`cached_finders`' ``make``) with ``config``'s knobs set."""
    from avsep.boxes.people import PeopleSettings

    groups: dict[str, dict] = {"": {}, "fusion": {}, "people": {}}
    for knob, value in config.items():
        group, _, name = knob.rpartition(".")
        groups[group][name] = value
    finder = make(settings_for({**groups[""], "fusion": groups["fusion"]}))
    finder.people = replace(PeopleSettings(), **groups["people"])
    finder.person_detector = detector_of(people)
    return finder


#: ``--calibrate faces``: the module constants of :mod:`avsep.boxes.cues` round 2 set by eye,
#: searched one at a time in this order (the rule of :func:`calibrate_knobs`).
CUE_CONSTANTS = [
    (
        "CASCADES",
        [
            {"haarcascade_frontalface_default.xml": (-1.5, -0.5, 2.5, 5.0)},
            {
                "haarcascade_frontalface_default.xml": (-1.5, -0.5, 2.5, 5.0),
                "haarcascade_profileface.xml": (-1.5, -0.5, 2.5, 5.0),
            },
            {
                "haarcascade_frontalface_default.xml": (-1.5, -0.5, 2.5, 5.0),
                "haarcascade_upperbody.xml": (-0.25, 0.0, 1.25, 2.5),
            },
        ],
    ),
    ("SCALE_STEP", [1.1, 1.2]),
    ("MIN_NEIGHBOURS", [3, 6, 9]),
    ("MIN_FACE", [0.03, 0.06, 0.1]),
    ("MOTION_FLOOR", [2.0, 4.0, 8.0]),
]


def knob_score(rates: list[dict]) -> float:
    """The rule's score: the mean of (exactly-one-box + count-right) / 2 over the sets."""
    return float(np.mean([(r["one_box_rate"] + r["count_right_rate"]) / 2 for r in rates]))


def adopt(knob: str, values: list, scores: list[float], shipped: int, per_set: list | None = None):
    """The rule: the best of ``values`` replaces the shipped one (index ``shipped``) when it
    scores :data:`KNOB_MARGIN` more (and, given ``per_set`` scores of each value, when no set
    falls by more than :data:`SET_GUARD`); returns the value kept."""
    best = int(np.argmax(scores))
    better = scores[best] >= scores[shipped] + KNOB_MARGIN
    if per_set is not None:
        better = better and min(np.subtract(per_set[best], per_set[shipped])) >= -SET_GUARD
    kept = values[best] if better else values[shipped]
    print(f"-> {knob} = {kept} (shipped {values[shipped]})", flush=True)
    return kept


def calibrate_faces(trunk, frames: int, seed: int) -> dict:
    """:data:`CUE_CONSTANTS` on the calibration sets, the finder's knobs as shipped; prints every
    row and returns the choice (name -> value)."""
    import avsep.boxes.cues as cues
    import avsep.boxes.detect as detect

    sets = calibration_sets(frames, seed)
    make, people = cached_finders(trunk), cached_people()
    detect.person_boxes = cues.person_boxes  # the faces change with the constants: not cached
    shipped = {name: getattr(cues, name) for name, _ in CUE_CONSTANTS}
    chosen: dict = {}

    def rates(name: str, value) -> list[dict]:
        for key, v in {**shipped, **chosen, name: value}.items():
            setattr(cues, key, v)
        return [score(knob_finder(make, people, {}), comps) for comps in sets.values()]

    return search_all("constant", CUE_CONSTANTS, list(sets), rates, shipped.__getitem__, chosen)


def search_all(label: str, grid: list, sets: list[str], rates, shipped_of, chosen: dict, guard: bool = False) -> dict:
    """A calibration's knobs (``grid``: ``(knob, values)``) searched in order by :func:`search`,
    each kept value that differs from the shipped one (``shipped_of(knob)``) added to ``chosen``
    (which ``rates`` reads) before the next; prints the table and returns ``chosen``."""
    print(f"{label + ' = value':<28} " + " ".join(f"{n + ' 1-box':>18} {'count':>6}" for n in sets) + f" {'score':>6}")
    for knob, values in grid:
        kept = search(knob, values, rates, shipped_of(knob), guard)
        if kept != shipped_of(knob):
            chosen[knob] = kept
    print("chosen:", chosen)
    return chosen


def search(knob: str, values: list, rates, shipped, guard: bool = False):
    """One knob of a calibration: each value's rates (``rates(knob, value)``, one dict per set)
    printed and scored (:func:`knob_score`), the value kept by :func:`adopt` (with the per-set
    guard when ``guard``)."""
    scores, per_set = [], []
    for value in values:
        found = rates(knob, value)
        scores.append(knob_score(found))
        per_set.append([knob_score([r]) for r in found])
        cells = " ".join(f"{r['one_box_rate']:>18.3f} {r['count_right_rate']:>6.3f}" for r in found)
        print(f"{f'{knob} = {value}':<28} {cells} {scores[-1]:>6.3f}", flush=True)
    return adopt(knob, values, scores, values.index(shipped), per_set if guard else None)


def cached_people():
    """``people(frame, fine)``: the bundled person detector, run once per frame and setting."""
    from avsep.models.person_detector import load_person_detector

    detector = load_person_detector()
    seen: dict[tuple[int, bool], list] = {}

    def people(frame, fine=False):
        if (id(frame), fine) not in seen:
            seen[id(frame), fine] = detector.detect(frame, fine)
        return seen[id(frame), fine]

    return people


def detector_of(people):
    """A person-detector stand-in whose ``detect`` is ``people`` (:func:`cached_people`)."""
    return type("Cached", (), {"detect": staticmethod(people)})()


def calibrate_knobs(trunk, frames: int, seed: int, mechanisms: bool = False) -> dict:
    """The rule: each knob of :data:`KNOB_GRID` in turn, every value scored by :func:`knob_score`
    over the four calibration sets, the best adopted by :func:`adopt`; with ``mechanisms``, the
    knobs of :data:`MECHANISM_GRID` on the six sets, with the per-set guard. Prints every row;
    returns the choice."""
    sets = calibration_sets(frames, seed, players=mechanisms)
    make, people = cached_finders(trunk), cached_people()
    chosen: dict = {}

    def rates(knob: str, value) -> list[dict]:
        return [score(knob_finder(make, people, {**chosen, knob: value}), comps) for comps in sets.values()]

    grid = MECHANISM_GRID if mechanisms else KNOB_GRID
    return search_all("knob", grid, list(sets), rates, shipped_value, chosen, guard=mechanisms)


def shipped_value(knob: str):
    """The value a knob of :data:`KNOB_GRID` has in the shipped finder."""
    from avsep.boxes.people import PeopleSettings
    from avsep.boxes.regions import FinderSettings

    group, _, name = knob.rpartition(".")
    holder = {"": FinderSettings(), "fusion": FinderSettings().fusion, "people": PeopleSettings()}[group]
    return getattr(holder, name)


def calibrate_precision(trunk, frames: int, seed: int) -> None:
    """The shipped finder on the six calibration sets with its instrument maps in float32 and
    under a bfloat16 autocast (the rule of docs/experiments/2026-12-07-finder-speed.md): each
    set's rates side by side, and how many composites got the very same boxes."""
    from avsep.boxes.detect import PlayerFinder

    sets = calibration_sets(frames, seed, players=True)
    people = cached_people()
    finders = [PlayerFinder(trunk, bf16_maps=bf16) for bf16 in (False, True)]
    for finder in finders:
        finder.person_detector = detector_of(people)
    print(f"{'set':<14} {'float32 one box / count':>24} {'bfloat16 one box / count':>25} {'same boxes':>10}")
    means = [[], []]
    for name, comps in sets.items():
        found = [[f.detect(c.frame, [small_grey(g) for g in [c.frame, *c.later]]) for c in comps] for f in finders]
        rates = [score(_Replay(f), comps) for f in found]  # each composite detected once per precision
        same = sum([d.box for d in a] == [d.box for d in b] for a, b in zip(*found))
        for m, r in zip(means, rates):
            m.append((r["one_box_rate"] + r["count_right_rate"]) / 2)
        row = [f"{r['one_box_rate']:>11.1%} / {r['count_right_rate']:>6.1%}" for r in rates]
        print(f"{name:<14} {row[0]:>24} {row[1]:>25} {same:>5} of {len(comps)}", flush=True)
    print(f"mean of the two rates over the sets: float32 {np.mean(means[0]):.3f}, bfloat16 {np.mean(means[1]):.3f}")


QUANTILES = ("min", "p1", "median", "p99", "max")


def calibrate_cuts(frames: int, seed: int) -> None:
    """What a frame's thumbnail (:func:`avsep.boxes.players.thumbnail`) changes by within a shot
    (a moving composite against its later frame), across a cut (a composite against the next of
    its set) and by a pan of 1.5 % of the width (a still composite moved sideways)."""
    from avsep.boxes.players import thumbnail

    def change(a: np.ndarray, b: np.ndarray) -> float:
        return float(np.abs(thumbnail(a) - thumbnail(b)).mean())

    sets = calibration_sets(frames, seed)
    within = [change(c.frame, c.later[0]) for n, comps in sets.items() if "moving" in n for c in comps]
    cuts = [change(a.frame, b.frame) for comps in sets.values() for a, b in zip(comps, comps[1:])]
    # The finder compares guide frames 1.5-3 s apart: the same composites 3 s on, as a check.
    slow = photo_pool(motion=True, seconds=3.0)
    later = [make_set([slow], n, frames, seed + 100 + k) for k, n in enumerate((2, 3))]
    within_3s = [change(c.frame, c.later[0]) for comps in later for c in comps]
    pans = []
    for name, comps in sets.items():
        for c in comps if "still" in name else []:
            dx = round(0.015 * c.frame.shape[1])
            pans.append(change(c.frame, np.concatenate([c.frame[:, dx:], c.frame[:, -1:].repeat(dx, 1)], 1)))
    rows = (("within a shot", within), ("within, 3 s", within_3s), ("across a cut", cuts), ("pan 1.5 %", pans))
    for name, values in rows:
        q = np.percentile(values, [0, 1, 50, 99, 100])
        print(f"{name:<14} n={len(values):>4} " + " ".join(f"{k} {v:.3f}" for k, v in zip(QUANTILES, q)))
    apart = max(within) < min(cuts)
    low, high = (max(within), min(cuts)) if apart else (np.percentile(within, 99), np.percentile(cuts, 1))
    print(f"CUT_CHANGE = {round((low + high) / 2, 2)}  REDETECT_CHANGE = {round(float(np.median(pans)), 2)}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=200, help="composites per duet/trio set")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--calibrate",
        choices=("photos", "knobs", "mechanisms", "faces", "cuts", "precision"),
        help="on val photo composites: the maps' thresholds, the cues' knobs or constants, the cut thresholds, "
        "the maps' precision",
    )
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--ablation", action="store_true", help="one row per combination of cues")
    ap.add_argument("--people", choices=("on", "off"), default="on", help="the person detector first (default)")
    ap.add_argument("--maps", choices=("default", "float32"), default="default", help="float32: no bfloat16 maps")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()

    import torch

    from avsep.boxes.detect import PlayerFinder
    from avsep.models.visual import build_trunk

    torch.set_num_threads(args.threads)
    trunk = build_trunk("efficientnet_lite0")
    if args.calibrate:
        modes = {"photos": calibrate, "knobs": calibrate_knobs, "faces": calibrate_faces}
        modes["cuts"] = lambda _, *a: calibrate_cuts(*a)
        modes["mechanisms"] = lambda *a: calibrate_knobs(*a, mechanisms=True)
        modes["precision"] = calibrate_precision
        modes[args.calibrate](trunk, args.frames, args.seed)
        return
    if args.ablation:
        rows = ablation(trunk, test_sets(args.frames, args.seed))
        print_ablation(rows)
        if args.json:
            json_out(args.json).write_text(json.dumps(rows, indent=2) + "\n")
        return
    from avsep.boxes.people import PeopleSettings

    people = PeopleSettings(enabled=args.people == "on")
    finder = PlayerFinder(trunk, people=people, bf16_maps=False if args.maps == "float32" else None)
    results = report(finder, args.frames, args.seed)
    print(
        f"{'set':<16} {'frames':>6} {'players':>7} {'exactly 1 box':>13} {'count right':>11} "
        f"{'extra/frame':>11} {'ms/frame':>8}"
    )
    for name, r in results.items():
        print(
            f"{name:<16} {r['frames']:>6} {r['players']:>7} {r['one_box_rate']:>13.1%} "
            f"{r['count_right_rate']:>11.1%} {r['extra_boxes_per_frame']:>11.2f} {r['ms_per_frame']:>8.0f}"
        )
        print(" " * 17 + ", ".join(f"{k} {v:.0%}" for k, v in r["one_box_rate_per_class"].items()))
    if args.json:
        json_out(args.json).write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
