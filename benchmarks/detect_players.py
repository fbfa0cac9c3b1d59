"""How well the automatic boxes find the players: side-by-side duets and trios made of real frames.

    python -m benchmarks.detect_players                       # report (real frames), ~2 min on 2 cores
    python -m benchmarks.detect_players --calibrate photos    # grid search on PHOTO composites
    python -m benchmarks.detect_players --calibrate dev       # merge_gap on the 3 dev videos
    python -m benchmarks.detect_players --calibrate cues --frames 16  # motion/fusion/stacking knobs
    python -m benchmarks.detect_players --calibrate people --frames 16  # the people-first knobs
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

* ``solo duets`` / ``solo trios``: frames of the 7 music-solo videos (accordion x3, cello x2,
  flute x2), frames 4 .. n-3 of each (intros and endings left out), instruments all different.
* ``fcsn duets`` / ``fcsn trios``: one picture is an FCSN player crop (``Object_detection_K.png``:
  bass guitar, xylophone, bagpipes x2, guzheng x2, tuba, guitar, clarinet; the instruments
  ImageNet has no class for are included on purpose), the others music-solo frames.
* ``fcsn real duet``: the one real two-player frame (clarinet left, guitar right), as is; its
  players are taken to be the left and right halves.

``--calibrate photos`` builds the same composites from the instrument *photos* in
``../shared/datasets/photos/kaggle-30`` (never from the real clips) and prints the score of each
setting in a grid around :class:`avsep.boxes.detect.FinderSettings`; the thresholds were picked there.
``--calibrate dev`` searches one knob, ``merge_gap``, on composites of the three development
videos (``DEV_CLIPS``), which the reported figures (``--clips test``) never use.
``--calibrate cues`` tries the knobs of :data:`CUE_GRID` one at a time on composites of the
development videos and of the photos. The seed fixes
every composite, so two runs score the same frames.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
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


def load(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.array(im.convert("RGB"))


#: Development split of the music-solo videos, one per instrument: the finder's design was
#: looked at on these. The reported figures are on the other four (``--clips test``).
DEV_CLIPS = {"UKk9DJD1jOo", "XS_dSmZ0xbw", "unRA0xR-XWc"}


def solo_pool(clips: str = "test") -> dict[str, list[Picture]]:
    """Instrument -> one picker per music-solo video of the split (a random frame of it)."""
    pool: dict[str, list[Picture]] = {}
    for rec in sorted(REAL.glob("music-solo/*/*")):
        if clips != "all" and (rec.name in DEV_CLIPS) != (clips == "dev"):
            continue
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


def photo_pool() -> dict[str, list[Picture]]:
    """Instrument -> a picker of a random kaggle-30 photo (calibration only)."""
    pool: dict[str, list[Picture]] = {}
    for folder in sorted(PHOTOS.iterdir()) if PHOTOS.is_dir() else []:
        files = sorted(folder.glob("*.jpg"))
        if files:
            pool[folder.name] = [lambda rng, f=files: load(f[rng.integers(len(f))])]
    return pool


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


def test_sets(frames: int, seed: int, clips: str) -> dict[str, list[Composite]]:
    solo, fcsn = solo_pool(clips), fcsn_pool()
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


def report(finder, frames: int, seed: int, clips: str) -> dict[str, dict[str, float]]:
    return {name: score(finder, comps) for name, comps in test_sets(frames, seed, clips).items()}


def print_ablation(rows: dict[str, dict[str, dict]]) -> None:
    """Per cue combination: exactly-one-box and count-right rates per set, and the cello's."""
    names = list(next(iter(rows.values())))
    print(f"{'cues':<27} " + " ".join(f"{n:>22}" for n in names) + f" {'cello 1-box':>11}")
    for row, results in rows.items():
        cells = " ".join(f"{r['one_box_rate']:>13.1%} /{r['count_right_rate']:>7.1%}" for r in results.values())
        cello = [r["one_box_rate_per_class"].get("cello") for r in results.values()]
        cello = [c for c in cello if c is not None]
        print(f"{row:<27} {cells} {np.mean(cello) if cello else float('nan'):>11.1%}")


#: The grids searched. ``photos``: every threshold, on photo composites (the first search; its
#: best setting is the default). ``dev``: only how far apart two parts of one instrument may be
#: (``merge_gap``), on composites of the three development videos: product photos rarely show
#: an instrument cut in parts by the hands and body that hold it, real frames often do.
GRIDS = {
    "photos": {
        "short_side": [352, 448],
        "cell_threshold": [0.3, 0.5, 0.7],
        "link_threshold": [0.03, 0.1, 0.2, 1.0],
        "merge_gap": [0.0, 0.25, 0.5, 1.0],
        "min_score": [0.5, 0.6, 0.7],
        "min_cells": [2],
    },
    "dev": {"short_side": [448], "merge_gap": [0.0, 0.25, 0.5, 0.75, 1.0, 1.5]},
}


def calibrate(trunk, frames: int, seed: int, on: str) -> None:
    from avsep.boxes.detect import PlayerFinder
    from avsep.boxes.regions import FinderSettings

    pool = photo_pool() if on == "photos" else solo_pool("dev")
    if not pool:
        sys.exit(f"{PHOTOS if on == 'photos' else REAL} not found: calibration needs it")
    sets = [make_set([pool], 2, frames, seed + 10), make_set([pool], 3, frames, seed + 11)]
    base = FinderSettings()
    grid = {k: v for k, v in GRIDS[on].items()}
    for key in ("cell_threshold", "link_threshold", "merge_gap", "min_score", "min_cells"):
        grid.setdefault(key, [getattr(base, key)])
    keys = ["cell_threshold", "link_threshold", "merge_gap", "min_score", "min_cells"]
    print(
        f"{'short':>5} "
        + " ".join(f"{k.split('_')[0]:>6}" for k in keys)
        + f" {'duet 1-box':>10} {'trio 1-box':>10} {'count ok':>8}"
    )
    # Settings that only change the post-processing share one probability pass per frame.
    for short in grid["short_side"]:
        finder = PlayerFinder(trunk, replace(base, short_side=short))
        probs = [[finder.probabilities(c.frame) for c in s] for s in sets]
        for values in itertools.product(*(grid[k] for k in keys)):
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

    off = PeopleSettings(enabled=False)  # the cues of rounds 1-4; calibrate_people turns it on
    return lambda settings: Cached(trunk, settings, head if settings.head else None, off)


def ablation(trunk, sets: dict[str, list[Composite]]) -> dict[str, dict[str, dict]]:
    make = cached_finders(trunk)
    rows = {}
    for row, cfg in ABLATION.items():
        rows[row] = {name: score(make(settings_for(cfg)), comps) for name, comps in sets.items()}
        print(f"{row}: done", file=sys.stderr, flush=True)
    return rows


#: ``--calibrate cues``: the motion cue's and the fusion's knobs searched (round 3), each row
#: one knob changed from the shipped defaults, on photo composites (no motion: they check that
#: a rule does no harm to still pictures) and development-video composites.
CUE_GRID = [
    {},
    {"stack_gap": 0.0},
    {"stack_gap": 0.5},
    {"motion_join": 0},
    {"motion_join": 1},
    {"motion_join": 3},
    {"motion_share": 0.35},
    {"motion_share": 0.25},
    {"fusion": {"motion_score": 0.3}},
    {"fusion": {"motion_score": 0.5}},
    {"fusion": {"motion_score": 0.7}},
    {"fusion": {"person_score": 0.3}},
    {"fusion": {"person_score": 0.7}},
]


#: ``--calibrate people``: the people-first finder's knobs (:class:`avsep.boxes.people.PeopleSettings`),
#: one change per row from its defaults, on the same development and photo composites.
PEOPLE_GRID = [
    {"enabled": False},
    {},
    {"fine": True},
    {"first": True},
    {"first": True, "region": "body"},
    {"first": True, "min_score": 0.7},
    {"first": True, "orphans": False},
    {"first": True, "name_score": 0.7},
    {"first": True, "touch": 0.15},
    {"first": True, "fine": True},
]


def calibration_sets(frames: int, seed: int) -> dict[str, list[Composite]]:
    """Composites of the development videos and of the photos (never the held-out clips)."""
    photos, dev = photo_pool(), solo_pool("dev")
    return {
        "dev duets": make_set([dev], 2, frames, seed + 100),
        "dev trios": make_set([dev], 3, frames, seed + 101),
        "photo duets": make_set([photos], 2, frames, seed + 110),
        "photo trios": make_set([photos], 3, frames, seed + 111),
    }


def calibrate_people(trunk, frames: int, seed: int) -> None:
    """The people-first knobs (:data:`PEOPLE_GRID`) on development and photo composites."""
    from avsep.boxes.people import PeopleSettings
    from avsep.models.person_detector import load_person_detector

    sets = calibration_sets(frames, seed)
    make = cached_finders(trunk)
    detector = load_person_detector()
    seen: dict[tuple[int, bool], list] = {}

    def people(frame, fine=False):
        if (id(frame), fine) not in seen:
            seen[id(frame), fine] = detector.detect(frame, fine)
        return seen[id(frame), fine]

    print(f"{'change':<26} " + " ".join(f"{n + ' 1-box':>16} {'count':>6}" for n in sets) + f" {'cello':>6}")
    for cfg in PEOPLE_GRID:
        finder = make(settings_for({}))
        finder.people = PeopleSettings(**cfg)
        finder.person_detector = (
            type("Cached", (), {"detect": staticmethod(people)})() if finder.people.enabled else None
        )
        rates = [score(finder, comps) for comps in sets.values()]
        cells = " ".join(f"{r['one_box_rate']:>16.3f} {r['count_right_rate']:>6.3f}" for r in rates)
        cello = [r["one_box_rate_per_class"].get("cello") for r in rates]
        cello = [c for c in cello if c is not None]
        print(
            f"{json.dumps(cfg) if cfg else 'defaults':<26} {cells} {np.mean(cello) if cello else float('nan'):>6.3f}",
            flush=True,
        )


def calibrate_cues(trunk, frames: int, seed: int) -> None:
    """The motion cue's and the fusion's knobs (:data:`CUE_GRID`) on composites of the
    development videos (people and motion) and of photos (people, no motion); never on the
    held-out clips."""
    photos, dev = photo_pool(), solo_pool("dev")
    sets = {
        "dev duets": make_set([dev], 2, frames, seed + 100),
        "dev trios": make_set([dev], 3, frames, seed + 101),
        "photo duets": make_set([photos], 2, frames, seed + 110),
        "photo trios": make_set([photos], 3, frames, seed + 111),
    }
    make = cached_finders(trunk)
    print(f"{'change':<34} " + " ".join(f"{n + ' 1-box':>16} {'count':>6}" for n in sets))
    for cfg in CUE_GRID:
        rates = [score(make(settings_for(cfg)), comps) for comps in sets.values()]
        cells = " ".join(f"{r['one_box_rate']:>16.3f} {r['count_right_rate']:>6.3f}" for r in rates)
        print(f"{json.dumps(cfg) if cfg else 'shipped':<34} {cells}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=200, help="composites per duet/trio set")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--calibrate",
        choices=("photos", "dev", "cues", "people"),
        help="grid search on photo composites, on the dev videos, or the fusion's thresholds on both",
    )
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument(
        "--clips",
        choices=("test", "dev", "all"),
        default="test",
        help="music-solo videos: the held-out four (default), the development three, or all",
    )
    ap.add_argument("--ablation", action="store_true", help="one row per combination of cues")
    ap.add_argument("--people", choices=("on", "off"), default="on", help="the person detector first (default)")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()

    import torch

    from avsep.boxes.detect import PlayerFinder
    from avsep.models.visual import build_trunk

    torch.set_num_threads(args.threads)
    trunk = build_trunk("efficientnet_lite0")
    if args.calibrate == "cues":
        calibrate_cues(trunk, args.frames, args.seed)
        return
    if args.calibrate == "people":
        calibrate_people(trunk, args.frames, args.seed)
        return
    if args.calibrate:
        calibrate(trunk, args.frames, args.seed, args.calibrate)
        return
    if args.ablation:
        rows = ablation(trunk, test_sets(args.frames, args.seed, args.clips))
        print_ablation(rows)
        if args.json:
            json_out(args.json).write_text(json.dumps(rows, indent=2) + "\n")
        return
    from avsep.boxes.people import PeopleSettings

    finder = PlayerFinder(trunk, people=PeopleSettings(enabled=args.people == "on"))
    results = report(finder, args.frames, args.seed, args.clips)
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
