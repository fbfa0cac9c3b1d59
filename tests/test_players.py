"""Boxes over time (avsep.boxes.players): boxes files with time ranges, linking detections into sources,
and automatic boxes on videos whose players move, swap places at a cut, or leave the shot.

The videos are coloured panels (tests/media.py) and the finder runs on the stand-in classifier
of tests/cli_support.py (green = violin, yellow = flute, magenta = cello), so every expected box
follows from the fixture's parameters.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

import avsep.boxes.kept as kept_module
import avsep.boxes.players as players
from avsep import Separator
from avsep.boxes.box import NamedBox, load_boxes_file
from avsep.boxes.detect import PlayerFinder
from avsep.boxes.players import (
    MIN_SHARE,
    BoxPlan,
    TimedBoxes,
    TrackedBoxes,
    find_players,
    guide_frame_times,
    numbered,
    thumbnail,
)
from avsep.boxes.regions import Detection
from avsep.boxes.tracks import Keyframe, link_tracks
from avsep.errors import InputError
from avsep.io.video import FrameReader
from avsep.signal.chunking import GUIDE_SNAP_S, Windower
from tests.cli_support import GREEN, MAGENTA, YELLOW, ColourTrunk

RED, BLUE = (255, 0, 0), (0, 0, 255)
#: 12 s at 4 fps, 96 x 48: long enough for 3 model windows, small enough to encode at once.
CLIP = {"duration": 12.0, "width": 96, "height": 48, "fps": 4}


@pytest.fixture
def finder() -> PlayerFinder:
    return PlayerFinder(ColourTrunk())


def colour_of(crop: np.ndarray) -> tuple[int, ...]:
    return tuple(int(round(v / 255)) * 255 for v in crop.reshape(-1, 3).mean(0))


# -- boxes files with time ranges ------------------------------------------------------------


def test_timed_entries_group_into_sources_by_name():
    plan = TimedBoxes.from_named(
        [
            NamedBox((0, 0, 10, 10), "violin", None, 5.0),
            NamedBox((20, 0, 30, 10), "flute"),
            NamedBox((10, 0, 20, 10), "violin", 5.0, 8.0),
        ]
    )
    assert plan.names == ["violin", "flute"]
    assert plan.boxes_at(1.0) == [(0, 0, 10, 10), (20, 0, 30, 10)]
    assert plan.boxes_at(6.0) == [(10, 0, 20, 10), (20, 0, 30, 10)]
    assert plan.boxes_at(99.0)[0] == (10, 0, 20, 10)  # after the last span: its box holds
    assert [e for e in plan.segments() if e["name"] == "violin"] == [
        {"name": "violin", "box": [0, 0, 10, 10], "end": 5.0},
        {"name": "violin", "box": [10, 0, 20, 10], "start": 5.0, "end": 8.0},
    ]


def test_entries_without_times_stay_fixed_boxes():
    plan = TimedBoxes.from_named([NamedBox((0, 0, 10, 10)), NamedBox((10, 0, 20, 10))])
    assert type(plan) is BoxPlan and plan.boxes_at(3.0) == [(0, 0, 10, 10), (10, 0, 20, 10)]


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ([NamedBox((0, 0, 1, 1), None, 0.0, 1.0)], 'need a "name"'),
        ([NamedBox((0, 0, 1, 1), "a", 2.0, 1.0)], "end 1.0 is not after start 2.0"),
        ([NamedBox((0, 0, 1, 1), "a", 0.0, 2.0), NamedBox((0, 0, 1, 1), "a", 1.0, 3.0)], "must not overlap"),
        ([NamedBox((0, 0, 1, 1), "a"), NamedBox((0, 0, 1, 1), "a", 1.0, 3.0)], "already has a box"),
    ],
)
def test_timed_entry_errors(entries, message):
    with pytest.raises(InputError, match=message):
        TimedBoxes.from_named(entries, "b.json")


def test_boxes_file_reads_times_and_info_json(tmp_path):
    path = tmp_path / "b.json"
    path.write_text(
        json.dumps({"method": "auto", "boxes": [{"name": "v", "box": [0, 0, 5, 5], "start": 1, "end": 2.5}]})
    )
    assert load_boxes_file(path) == [NamedBox((0, 0, 5, 5), "v", 1.0, 2.5)]
    path.write_text(json.dumps([{"name": "v", "box": [0, 0, 5, 5], "start": "soon"}]))
    with pytest.raises(InputError, match="'start' must be a time in seconds"):
        load_boxes_file(path)


# -- the frames looked at --------------------------------------------------------------------


@pytest.mark.parametrize("overlap", [0.0, 0.25, 0.9])
def test_guide_frame_times_are_the_separations(overlap):
    seconds = 20.3
    audio = np.zeros(int(round(seconds * 11025)), np.float32)
    wanted = sorted({t for w in Windower(overlap)([audio]) for t in w.frame_times()})
    assert guide_frame_times(seconds, overlap) == wanted


def test_thumbnail_tells_a_cut_from_a_still_frame():
    from tests.media import panel_frame

    a, b = panel_frame(96, 48, [GREEN, YELLOW]), panel_frame(96, 48, [YELLOW, GREEN])
    assert np.abs(thumbnail(a) - thumbnail(a.copy())).mean() == 0
    assert np.abs(thumbnail(a) - thumbnail(b)).mean() > 0.2
    noise = np.random.default_rng(0).integers(0, 256, (1080, 1920, 3), dtype=np.uint8)
    means = noise.astype(np.float64).reshape(18, 60, 32, 60, 3).mean(axis=(1, 3)) / 255.0
    np.testing.assert_allclose(thumbnail(noise), means, rtol=0, atol=1e-12)  # 8-bit sums are exact


# -- linking ---------------------------------------------------------------------------------


def det(label: str, x0: int, score: float = 0.9) -> Detection:
    return Detection((x0, 0, x0 + 40, 40), label, score, (x0, 0, x0 + 40, 40))


def test_linking_follows_the_instrument_not_the_place():
    """A cut swaps violin and flute: each track keeps its instrument."""
    keys = [Keyframe(0.0, [det("violin", 0), det("flute", 100)]), Keyframe(6.0, [det("flute", 0), det("violin", 100)])]
    tracks = link_tracks(keys, 140, 40)
    assert sorted((t.label(), [d.box[0] for d in t.hits.values()]) for t in tracks) == [
        ("flute", [100, 0]),
        ("violin", [0, 100]),
    ]


def test_linking_two_players_of_one_instrument_by_place():
    keys = [
        Keyframe(0.0, [det("violin", 0), det("violin", 100)]),
        Keyframe(6.0, [det("violin", 90), det("violin", 10)]),
    ]
    tracks = link_tracks(keys, 140, 40)
    assert sorted([d.box[0] for d in t.hits.values()] for t in tracks) == [[0, 10], [100, 90]]


def test_finding_and_linking_need_no_training_extra(monkeypatch):
    """``avsep separate`` without boxes runs in the separation-only install: no scipy there."""
    import sys

    from avsep.boxes.regions import LABELS, FinderSettings, find_regions
    from avsep.train.extra import TRAINING_MODULES

    for name in [*TRAINING_MODULES, "scipy.ndimage", "scipy.optimize"]:
        monkeypatch.setitem(sys.modules, name, None)  # importing it raises ImportError
    probs = np.zeros((len(LABELS), 6, 12), np.float32)
    probs[0, 1:4, 1:5] = probs[1, 1:4, 5:9] = 0.9  # two families whose cells touch: split
    assert len(find_regions(probs, FinderSettings())) == 2
    test_linking_follows_the_instrument_not_the_place()


def test_numbered_names():
    assert numbered(["violin", "flute", "violin"]) == ["violin1", "flute", "violin2"]


# -- automatic boxes on videos ---------------------------------------------------------------


def test_players_swap_places_at_a_cut(shared_video, finder):
    video = shared_video("swap.mp4", panels=(GREEN, YELLOW), cuts=[(6.0, (YELLOW, GREEN))], **CLIP)
    plan = find_players(video, finder)
    assert isinstance(plan, TrackedBoxes) and plan.note is None
    assert plan.names == ["violin", "flute"] or plan.names == ["flute", "violin"]
    violin = plan.names.index("violin")
    left, right = (0, 0, 48, 48), (48, 0, 96, 48)
    assert plan.boxes_at(1.0)[violin] == left and plan.boxes_at(10.0)[violin] == right
    assert plan.boxes_at(1.0)[1 - violin] == right and plan.boxes_at(10.0)[1 - violin] == left
    assert len(plan.times) == 2  # one detection per shot: still pictures reuse it
    assert plan.moves()


def test_a_still_shot_is_read_from_its_keyframes_once_its_players_are_known(tmp_video, finder, decoded_times):
    """Keyframes every 6 s, no keyframe at the cut at 20 s (x264 ultrafast): the shot's motion
    frames (the first 6 guide frames, to 9 s) are decoded exactly; after them, where the
    keyframes around a frame show the same picture, they answer for it (no decoding run from
    9.5 to 18 s); the keyframes around the cut differ, so it is decoded exactly, the players
    swap places at it, and the new shot's motion frames are exact again."""
    cut = [(20.0, (YELLOW, GREEN))]
    video = tmp_video("still.mp4", duration=30.0, width=96, height=48, fps=10, gop=60, panels=(GREEN, YELLOW), cuts=cut)
    plan = find_players(video, finder)
    runs = [t for t in decoded_times if t > 9.5]  # after the motion frames: the pair around the cut, the new shot's
    assert decoded_times and runs and min(runs) >= 18.0 - 1e-3
    violin = plan.names.index("violin")
    left, right = (0, 0, 48, 48), (48, 0, 96, 48)
    assert [plan.boxes_at(t)[violin] for t in (1.0, 15.0, 22.0, 28.0)] == [left, left, right, right]
    kept = {t for _, t in plan.decoded.values()}
    assert {12.0, 18.0} <= {round(t, 3) for t in kept}  # keyframes stood for the frames around them
    assert plan.times == sorted(plan.times)  # shots in the order shown


def test_a_shot_the_video_cuts_back_to_is_not_looked_at_again(shared_video, finder, monkeypatch):
    """Two camera angles, cut back and forth every 3 s: the finder runs once per angle and each
    return takes that angle's boxes."""
    swapped, first = (YELLOW, GREEN), (GREEN, YELLOW)
    cuts = [(3.0, swapped), (6.0, first), (9.0, swapped)]
    video = shared_video("angles.mp4", panels=first, cuts=cuts, **CLIP)
    runs = []
    detect = finder.detect
    monkeypatch.setattr(finder, "detect", lambda *args: runs.append(1) or detect(*args))
    plan = find_players(video, finder)
    assert len(runs) == 2 and len(plan.times) == 4  # four shots, two pictures
    violin = plan.names.index("violin")
    left, right = (0, 0, 48, 48), (48, 0, 96, 48)
    assert [plan.boxes_at(t)[violin] for t in (1.0, 4.0, 7.0, 10.0)] == [left, right, left, right]


def test_a_picture_that_moves_but_never_cuts_is_looked_at_once(shared_video, finder, monkeypatch):
    """A bar sweeps across the panels: every two guide frames differ (by more than a drift), but
    no two by a cut, so the finder runs once; a drifted shot is looked at again only every
    RECHECK_S seconds, and a still one never."""
    video = shared_video("bar.mp4", panels=(GREEN, YELLOW), bar=True, **CLIP)
    plan = find_players(video, finder)
    assert len(plan.times) == 1 and plan.names == ["violin", "flute"]
    assert plan.boxes_at(11.0) == [(0, 0, 48, 48), (48, 0, 96, 48)]
    monkeypatch.setattr(players, "RECHECK_S", 4.0)
    plan = find_players(video, finder)
    gaps = np.diff(plan.times)
    assert 2 <= len(plan.times) <= 3 and gaps.min() >= 4.0 and plan.names == ["violin", "flute"]
    still = find_players(shared_video("trio.mp4", panels=(GREEN, YELLOW, MAGENTA), **CLIP), finder)
    assert len(still.times) == 1


def test_a_drift_that_adds_up_to_a_new_picture_is_looked_at_again(shared_video, finder):
    """The right panel turns from yellow (a flute) to red (nothing) in 5 steps a second apart:
    no two guide frames differ as much as at a cut, but the picture drifts from the first
    frame's as far as a cut takes it, so the finder runs again there and the flute is gone."""
    steps = [(2.0 + k, (GREEN, (255, 255 - 51 * k, 0))) for k in range(1, 6)]
    video = shared_video("drift.mp4", panels=(GREEN, YELLOW), cuts=steps, **CLIP)
    plan = find_players(video, finder, sources=2)
    assert len(plan.times) == 2 and plan.times[1] >= 7.0  # the first frame once all steps are made
    flute = plan.names.index("flute")
    assert plan.boxes_at(2.0)[flute] == (48, 0, 96, 48) and plan.boxes_at(11.0)[flute] is None


def test_a_cut_in_a_moving_picture_starts_a_shot_with_its_own_boxes(shared_video, finder):
    video = shared_video("barswap.mp4", panels=(GREEN, YELLOW), bar=True, cuts=[(6.0, (YELLOW, GREEN))], **CLIP)
    plan = find_players(video, finder)
    assert len(plan.times) == 2 and 6.0 <= plan.times[1] < 7.5  # the first frame looked at after the cut
    violin = plan.names.index("violin")
    left, right = (0, 0, 48, 48), (48, 0, 96, 48)
    assert plan.boxes_at(5.0)[violin] == left and plan.boxes_at(7.0)[violin] == right
    assert plan.boxes_at(5.0)[1 - violin] == right and plan.boxes_at(7.0)[1 - violin] == left


def test_a_player_who_leaves_the_shot_is_guided_by_a_portrait(shared_video, finder, monkeypatch):
    """From 6 s the camera shows the violin alone (a close-up): the flute's guide is its picture
    from the first shot, not whatever now fills its old box. The portrait is decoded when first
    needed, once, and not before (most plans never need one)."""
    video = shared_video("closeup.mp4", panels=(GREEN, YELLOW), cuts=[(6.0, (GREEN,))], **CLIP)
    plan = find_players(video, finder)
    opened = []
    monkeypatch.setattr(kept_module, "FrameReader", lambda info: opened.append(info) or FrameReader(info))
    flute = plan.names.index("flute")
    later = np.full((48, 96, 3), GREEN, np.uint8)
    assert plan.boxes_at(10.0)[flute] is None
    assert not opened
    for _ in range(2):
        crops = plan.crops(later, 10.0)
        assert colour_of(crops[flute]) == YELLOW and colour_of(crops[1 - flute]) == GREEN
    assert len(opened) == 1


def test_nothing_found_falls_back_to_strips_and_says_so(shared_video, finder):
    plan = find_players(shared_video("plain.mp4", panels=(RED, BLUE), **CLIP), finder)
    assert type(plan) is BoxPlan and plan.boxes == [(0, 0, 48, 48), (48, 0, 96, 48)]
    assert "found no instrument it is sure of; using 2 vertical strips" in plan.note
    first = guide_frame_times(12.0, 0.25)[:3]  # the strips' frames were decoded all the same
    # each the frame at its time, or a keyframe within GUIDE_SNAP_S of it (and a frame's rounding)
    assert [t for _, t in plan.take_frames(first)] == pytest.approx(first, abs=GUIDE_SNAP_S + 0.1)
    assert plan.take_frames(first) is None  # handed over once


def test_sources_fixes_the_count(shared_video, finder):
    video = shared_video("trio.mp4", panels=(GREEN, YELLOW, MAGENTA), **CLIP)
    assert find_players(video, finder).names == ["violin", "flute", "cello"]
    assert len(find_players(video, finder, sources=2).sources) == 2
    plan = find_players(video, finder, sources=4)
    assert len(plan.sources) == 4 and "found 3 player(s) but --sources asks for 4" in plan.note


def test_a_brief_appearance_is_not_a_source(shared_video, finder):
    """A flute seen in under MIN_SHARE of the frames (one shot of a few seconds) is dropped."""
    video = shared_video("brief.mp4", panels=(GREEN, RED), cuts=[(11.0, (GREEN, YELLOW))], **CLIP)  # 1 frame of 9
    assert 1 / 9 < MIN_SHARE
    assert find_players(video, finder).names == ["violin"]
    assert find_players(video, finder, sources=2).names == ["violin", "flute"]  # asked for: kept


def test_an_instrument_seen_in_one_frame_only_is_not_a_source(shared_video, finder):
    """Three guide frames, each a different picture (so the finder runs on each); the flute is
    in the middle one only: a one-frame flicker, not a player (unless asked for)."""
    video = shared_video(
        "flicker.mp4",
        panels=(GREEN, RED),
        cuts=[(1.5, (GREEN, YELLOW)), (3.0, (GREEN, BLUE))],
        duration=4.5,
        width=96,
        height=48,
        fps=4,
    )
    assert len(guide_frame_times(4.5, 0.25)) == 3
    plan = find_players(video, finder)
    assert plan.names == ["violin"] and len(plan.times) == 3
    assert find_players(video, finder, sources=2).names == ["violin", "flute"]


def test_tracked_boxes_round_trip_through_a_boxes_file(shared_video, finder, tmp_path):
    video = shared_video("swap.mp4", panels=(GREEN, YELLOW), cuts=[(6.0, (YELLOW, GREEN))], **CLIP)
    plan = find_players(video, finder)
    path = tmp_path / "boxes.json"
    path.write_text(json.dumps(plan.to_json()))
    again = TimedBoxes.from_named(load_boxes_file(path))
    assert again.names == plan.names
    for t in guide_frame_times(12.0, 0.25):
        assert again.boxes_at(t) == plan.boxes_at(t), t


@pytest.mark.usefixtures("fast_model")
def test_separation_keeps_each_output_on_its_instrument_across_the_cut(shared_video, monkeypatch):
    """Every guide crop of the violin's output is green and every one of the flute's yellow,
    before and after the players swap places."""
    video = shared_video("swap.mp4", panels=(GREEN, YELLOW), cuts=[(6.0, (YELLOW, GREEN))], **CLIP)
    crops: list[np.ndarray] = []
    guide = Separator.guide
    monkeypatch.setattr(Separator, "guide", lambda self, c, memo=None: crops.append(c) or guide(self, c, memo))
    stream = Separator().stream_file(video)
    assert len(list(stream.blocks)) > 0
    names = stream.plan.names
    windows = np.concatenate(crops)  # [windows, sources, frames, 224, 224, 3]
    assert windows.shape[:3] == (stream.num_windows, 2, 3) and stream.num_windows >= 3
    for s, name in enumerate(names):
        wanted = GREEN if name == "violin" else YELLOW
        assert {colour_of(c) for c in windows[:, s].reshape(-1, 224, 224, 3)} == {wanted}, name


@pytest.mark.usefixtures("fast_model")
def test_automatic_mode_decodes_each_guide_frame_once(shared_video, monkeypatch):
    """The finder keeps the frames it decoded and the separation takes them: its own reader
    decodes none of them again."""
    import avsep.separation.engine as separate

    video = shared_video("swap.mp4", panels=(GREEN, YELLOW), cuts=[(6.0, (YELLOW, GREEN))], **CLIP)
    decoded: list[float] = []
    read = separate.FrameReader.frames_and_times_at
    monkeypatch.setattr(
        separate.FrameReader,
        "frames_and_times_at",
        lambda r, t, snap=0.0, still=None: decoded.extend(t) or read(r, t, snap, still),
    )
    stream = Separator().stream_file(video)
    decoded.clear()  # what the finder decoded; the separation starts now
    blocks = list(stream.blocks)
    # The last window may end where the probed duration did not say (audio shorter than the
    # container): its 3 frames are the only ones decoded again.
    assert blocks and len(decoded) <= 3 and len(stream.plan.decoded) <= 3
    monkeypatch.setattr(players, "KEEP_FRAMES_BYTES", 0)  # nothing kept: the separation decodes
    stream = Separator().stream_file(video)
    decoded.clear()
    again = list(stream.blocks)
    assert len(again) == len(blocks) and len(decoded) == 3 * stream.num_windows
    # the kept crops are cut as the separation cuts them: the same sound, bit for bit
    for kept, fresh in zip(blocks, again):
        np.testing.assert_array_equal(np.asarray(kept), np.asarray(fresh))
    # exactly the frames the finder was shown (a keyframe may have answered for a time there),
    # so that each frame's boxes are those the finder gave it
    shown = set(stream.plan.shown.values())
    assert sum(t not in shown for t in decoded) <= 3
    assert any(abs(asked - at) > 0.2 for asked, at in stream.plan.shown.items())  # keyframes answered


def test_min_cost_matching_is_scipys_linear_sum_assignment():
    """The separation-only install has no scipy; its own matching must find the same least cost."""
    from avsep.boxes.tracks import min_cost_matching

    optimize = pytest.importorskip("scipy.optimize")
    rng = np.random.default_rng(0)
    for _ in range(200):
        cost = rng.random((rng.integers(1, 7), rng.integers(1, 7)))
        cost[rng.random(cost.shape) < 0.3] = 1e6  # another family: never linked
        rows, cols = optimize.linear_sum_assignment(cost)
        pairs = min_cost_matching(cost)
        assert len(pairs) == len(rows) == min(cost.shape)
        assert len({i for i, _ in pairs}) == len({j for _, j in pairs}) == len(pairs)
        assert sum(cost[i, j] for i, j in pairs) == pytest.approx(cost[rows, cols].sum())


def test_the_finder_keeps_each_frame_as_the_crops_the_separation_can_ask_for():
    """A shot's frames are held whole until its players are known, then kept as the crops of
    its detections (of the fallback strips where it has none), cut as the separation cuts them,
    bit for bit, within the byte budget; a plan whose box at a kept frame has no crop there
    decodes that frame again."""
    from avsep.boxes.kept import CROP_BYTES, FrameKeeper
    from avsep.boxes.plan import time_key
    from avsep.io.video import crop_boxes

    frame = np.random.default_rng(0).integers(0, 256, (360, 640, 3), np.uint8)
    strips = [(0, 0, 320, 360), (320, 0, 640, 360)]
    player = (10, 20, 200, 300)
    decoded: dict = {}
    keeper = FrameKeeper(decoded, strips, budget=7 * CROP_BYTES, wanted=2)
    keeper.hold(time_key(1.0), frame, 1.02)
    keeper.hold(time_key(2.0), frame, 2.0)
    assert not decoded  # the shot's players are not known yet
    keeper.settle([player, player, strips[1]])  # as many players as wanted: no strip added
    crops, shown = decoded[time_key(1.0)]
    assert shown == 1.02 and set(crops.crops) == {player, strips[1]} and keeper.kept == 4 * CROP_BYTES
    np.testing.assert_array_equal(crops.crop(player), crop_boxes(frame, [player])[0])
    keeper.hold(time_key(3.0), frame, 3.0)
    keeper.hold(time_key(4.0), frame, 4.0)
    keeper.settle([player])  # fewer players than wanted (--sources 2): the strips instead, 2 crops a frame
    assert set(decoded[time_key(3.0)][0].crops) == set(strips) and keeper.kept == 6 * CROP_BYTES
    assert time_key(4.0) not in decoded  # past the budget
    left = BoxPlan.fixed([strips[0]])
    left.decoded = dict(decoded)
    assert left.take_frames([1.0]) is None and time_key(1.0) not in left.decoded  # no crop of this box: forgotten
    plan = BoxPlan.fixed([player])
    plan.decoded = dict(decoded)
    assert plan.take_frames([3.0, 4.0]) is None and time_key(3.0) not in plan.decoded  # no player's crop
    (taken, at), _ = plan.take_frames([1.0, 2.0])
    assert at == 1.02 and time_key(1.0) not in plan.decoded
    np.testing.assert_array_equal(plan.crops(taken, at)[0], crop_boxes(frame, [player])[0])
    again = FrameKeeper({}, strips, budget=2 * CROP_BYTES)  # a keyframe answering for two times
    for asked in (7.0, 8.0):
        again.hold(time_key(asked), frame, 6.5)
        again.settle([player])  # the finder settles a closed shot's frames one by one
    (first, _), (second, _) = again.decoded[time_key(7.0)], again.decoded[time_key(8.0)]
    assert first is second and again.kept == CROP_BYTES  # cut and kept once
    solo = FrameKeeper({}, strips, budget=7 * CROP_BYTES)  # no --sources: strips only if nobody is found
    solo.hold(time_key(5.0), frame, 5.0)
    solo.settle([player])
    assert set(solo.decoded[time_key(5.0)][0].crops) == {player}
    solo.hold(time_key(6.0), frame, 6.0)
    solo.settle([])
    assert set(solo.decoded[time_key(6.0)][0].crops) == set(strips)


def test_kept_crops_are_copied_into_shared_blocks():
    """The finder's kept crops are copies inside large blocks (so they do not fragment the heap
    the frames' temporaries use): equal to what was given, independent of it, several to a
    block, each view aligned for its type, a new block when one is full, and an array larger
    than a block kept on its own."""
    from avsep.boxes.kept import CropStore

    store = CropStore(block_bytes=1000)
    a, b, c = (np.full((2, 10, 15), v, np.uint8) for v in (1, 2, 3))  # 300 bytes each
    kept_a, kept_b, kept_c = store.keep(a), store.keep(b), store.keep(c)
    a[...] = 9  # the caller's array is free to go
    assert (kept_a == 1).all() and (kept_b == 2).all() and (kept_c == 3).all() and kept_a.shape == (2, 10, 15)
    assert kept_a.base is kept_b.base is kept_c.base and kept_a.base.nbytes == 1000
    kept_d = store.keep(np.full((2, 10, 15), 4, np.uint8))  # 1200 > 1000: a new block
    assert kept_d.base is not kept_a.base and (kept_d == 4).all() and (kept_a == 1).all()
    odd = store.keep(np.array([1, 2, 3], np.uint8))
    floats = store.keep(np.arange(5, dtype=np.float64))  # after 3 bytes: placed on an 8-byte boundary
    assert floats.flags.aligned and floats.base is odd.base and np.array_equal(floats, np.arange(5.0))
    big = np.arange(2000, dtype=np.float32)
    kept_big = store.keep(big)
    assert kept_big.base is None and np.array_equal(kept_big, big) and not np.shares_memory(kept_big, big)


def test_the_finders_judge_reads_the_crops_it_keeps_and_sees_a_change_anywhere(monkeypatch):
    """A shot's keyframes answer for the frames between them only when every player, every
    strip and every kept box shows the same picture at both (the strips tile the frame: a change
    outside the players counts; a lone player is judged though its shot keeps the strips, since
    the plan may still guide it there); the judgement cuts crops of the kept boxes only (the
    others are judged on thumbnails cut from the frame directly), and those crops are the ones
    kept, bit for bit, not cut again."""
    from avsep.boxes.plan import time_key
    from avsep.boxes.shown import held_still, thumbnails
    from avsep.io.video import crop_boxes

    rng = np.random.default_rng(1)
    frame = np.repeat(np.repeat(rng.integers(0, 256, (23, 40, 3)), 16, 0), 16, 1)[:360, :640].astype(np.uint8)
    strips = [(0, 0, 320, 360), (320, 0, 640, 360)]
    two = [(10, 100, 90, 200), (400, 20, 600, 300)]
    outside = frame.copy()
    outside[:, 210:390] = 0  # between the players: only the strips see it
    inside = frame.copy()
    inside[140:160, 40:60] = 0  # a small change in the first player: its strip barely sees it
    cut = []
    real = kept_module.crop_boxes
    monkeypatch.setattr(kept_module, "crop_boxes", lambda f, boxes: cut.append(len(boxes)) or real(f, boxes))
    for found in ([two[0]], two):  # too few players for --sources 2 (strips kept), then enough
        keeper = kept_module.FrameKeeper({}, strips, budget=2**30, wanted=2)
        still = keeper.judge(found)
        assert still((frame, 0.0), (frame.copy(), 8.0))
        assert not still((frame, 0.0), (outside, 8.1))
        assert not still((frame, 0.0), (inside, 8.2))
        assert held_still(lambda f, t: thumbnails(crop_boxes(f, strips)))((frame, 0.0), (inside, 8.2))  # strips alone
        assert cut and set(cut) == {2}  # crops of the kept boxes only; the others judged on thumbnails
        cut.clear()
        keeper.hold(time_key(8.0), frame, 8.0)
        keeper.settle(found)
        assert cut == []  # the judgement's crops of that picture are kept
        crops = keeper.decoded[time_key(8.0)][0]
        assert set(crops.crops) == (set(two) if len(found) == 2 else set(strips))
        for box in crops.crops:
            np.testing.assert_array_equal(crops.crop(box), crop_boxes(frame, [box])[0])
