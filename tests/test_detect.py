"""The player finder (avsep.boxes.detect): regions from probability maps, player boxes, and the finder
on frames, with a stand-in classifier (coloured panels) and, where the real clips are present,
with the shipped trunk on real frames."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from avsep.boxes.detect import PlayerFinder
from avsep.boxes.regions import LABELS, Detection, FinderSettings, find_regions, player_boxes
from tests.cli_support import GREEN, YELLOW, ColourTrunk
from tests.media import panel_frame

REALCLIPS = Path(__file__).resolve().parents[2] / "shared" / "realclips"
SETTINGS = FinderSettings()


def grid(h: int = 6, w: int = 12) -> np.ndarray:
    """An empty probability map: every instrument 0 everywhere."""
    return np.zeros((len(LABELS), h, w), np.float32)


def put(probs: np.ndarray, label: str, rows: slice, cols: slice, p: float = 0.9) -> None:
    probs[LABELS.index(label), rows, cols] = p


def test_two_instruments_two_regions_best_first():
    probs = grid()
    put(probs, "violin", slice(1, 4), slice(1, 3), 0.95)
    put(probs, "flute", slice(2, 4), slice(7, 11), 0.8)
    regions = find_regions(probs, SETTINGS)
    assert [LABELS[r.label] for r in regions] == ["violin", "flute"]
    assert (regions[0].rows, regions[0].cols) == ((1, 4), (1, 3))
    assert regions[1].score == pytest.approx(0.8)


def test_weak_cells_join_the_parts_of_one_instrument():
    """A harp's neck and strings: two strong parts joined by cells of 0.2 are one region,
    unless the link threshold is above them; background (0.01) joins nothing."""
    probs = grid()
    put(probs, "harp", slice(0, 2), slice(2, 5))
    put(probs, "harp", slice(2, 3), slice(2, 5), 0.2)
    put(probs, "harp", slice(3, 6), slice(2, 5))
    put(probs, "harp", slice(0, 6), slice(5, 12), 0.01)
    assert len(find_regions(probs, SETTINGS)) == 1
    strict = FinderSettings(link_threshold=0.3, merge_gap=0, stack_gap=0)
    assert len(find_regions(probs, strict)) == 2


def test_close_parts_of_one_family_merge_and_far_ones_do_not():
    """A flute whose middle is hidden by the hands: two parts of 4 x 4 cells, 1 cell apart
    (0.25 of their size), are one flute; a part 4 cells away is another flute; a cello between
    them never joins either."""
    probs = grid(6, 17)
    put(probs, "flute", slice(1, 5), slice(0, 4))
    put(probs, "flute", slice(1, 5), slice(5, 9))
    put(probs, "cello", slice(2, 4), slice(10, 12))
    put(probs, "flute", slice(2, 4), slice(14, 17))
    regions = sorted(find_regions(probs, SETTINGS), key=lambda r: r.cols)
    assert [(LABELS[r.label], r.cols) for r in regions] == [("flute", (0, 9)), ("cello", (10, 12)), ("flute", (14, 17))]
    assert len(find_regions(probs, FinderSettings(merge_gap=0))) == 4


def test_a_violin_beside_a_cello_stays_two_players():
    """One family, two instruments, 1 cell apart: two players (a string duet), not one."""
    probs = grid(6, 12)
    put(probs, "violin", slice(1, 5), slice(0, 5))
    put(probs, "cello", slice(1, 5), slice(6, 11))
    regions = sorted(find_regions(probs, SETTINGS), key=lambda r: r.cols)
    assert [(LABELS[r.label], r.cols) for r in regions] == [("violin", (0, 5)), ("cello", (6, 11))]


def test_touching_players_of_two_families_are_split_but_one_family_is_not():
    probs = grid()
    put(probs, "accordion", slice(1, 5), slice(2, 6))
    put(probs, "flute", slice(1, 5), slice(6, 10))
    regions = sorted(find_regions(probs, SETTINGS), key=lambda r: r.cols)
    assert [(LABELS[r.label], r.cols) for r in regions] == [("accordion", (2, 6)), ("flute", (6, 10))]
    # A guitar whose neck reads as an electric guitar and body as an acoustic one: one player.
    probs = grid()
    put(probs, "electric_guitar", slice(0, 3), slice(4, 6))
    put(probs, "acoustic_guitar", slice(3, 6), slice(3, 7))
    (region,) = find_regions(probs, SETTINGS)
    assert LABELS[region.label] == "acoustic_guitar" and region.rows == (0, 6)


def test_a_cellos_neck_over_its_body_is_one_region_whatever_the_classes():
    """An upright cello: its neck (2 cells wide) read as a flute, 1 cell above its body read as a
    cello, is one instrument (named by the body, which holds more; scored by the surer part);
    without the stacking rule, two. Side by side, the same two regions stay two players."""
    probs = grid(8, 12)
    put(probs, "flute", slice(0, 3), slice(5, 7))
    put(probs, "cello", slice(4, 8), slice(4, 8))
    (region,) = find_regions(probs, SETTINGS)
    assert LABELS[region.label] == "cello" and (region.rows, region.cols) == ((0, 8), (4, 8))
    assert len(find_regions(probs, FinderSettings(stack_gap=0))) == 2
    # A leaning cello: its neck 2 cells above the body and to the left, sharing one column
    # with it, both read as cellos but too far apart for merge_gap.
    leaning = grid(14, 25)
    put(leaning, "cello", slice(1, 7), slice(13, 17))
    put(leaning, "cello", slice(9, 12), slice(16, 20))
    (region,) = find_regions(leaning, SETTINGS)
    assert (region.rows, region.cols) == ((1, 12), (13, 20))
    assert len(find_regions(leaning, FinderSettings(stack_gap=0))) == 2
    beside = grid(8, 12)
    put(beside, "flute", slice(4, 7), slice(1, 3))
    put(beside, "cello", slice(4, 8), slice(4, 8))
    assert len(find_regions(beside, SETTINGS)) == 2


def test_two_regions_lying_over_each_other_are_one_instrument_whatever_the_classes():
    """A guitar whose neck cells read as a guitar and whose body cells, interleaved with them,
    read as a cello: two regions in one place, one instrument (scored by the surer part), unless
    ``overlap_merge`` is off. Regions that only touch stay two players."""
    probs = grid(8, 12)
    put(probs, "acoustic_guitar", slice(1, 7), slice(3, 8), 0.85)
    for row in range(1, 7):  # every other column of the body is the cello's: one component, two families
        put(probs, "cello", slice(row, row + 1), slice(3 + row % 2, 8, 2), 0.95)
    (region,) = find_regions(probs, SETTINGS)
    assert (region.rows, region.cols) == ((1, 7), (3, 8)) and region.score == pytest.approx(0.95)
    assert len(find_regions(probs, FinderSettings(overlap_merge=0))) == 2


def test_regions_sharing_half_of_the_smaller_box_merge_and_less_do_not():
    """A 5 x 4 flute region whose box lies in an accordion's by exactly half of its cells (10 of
    20: an area that is not a square number) is one instrument with it; by a quarter, two
    players (and without the rule, two either way)."""
    for cols, regions in ((slice(6, 10), 1), (slice(7, 11), 2)):
        probs = grid(8, 12)
        put(probs, "accordion", slice(1, 7), slice(1, 8), 0.85)
        put(probs, "flute", slice(1, 6), cols, 0.95)
        alone = FinderSettings(stack_gap=0, merge_gap=0)
        assert len(find_regions(probs, replace(alone, overlap_merge=0.5))) == regions
        assert len(find_regions(probs, replace(alone, overlap_merge=0))) == 2


def test_small_and_unsure_regions_are_dropped():
    probs = grid()
    put(probs, "violin", slice(0, 1), slice(0, 1))  # one cell
    put(probs, "cello", slice(2, 5), slice(2, 5), 0.3)  # under the cell threshold
    put(probs, "drum", slice(2, 5), slice(8, 11), 0.55)  # cells count, but the score is too low
    assert find_regions(probs, FinderSettings(cell_threshold=0.5, min_score=0.6)) == []


def test_player_boxes_grow_around_the_instrument_and_stop_between_neighbours():
    (alone,) = player_boxes([(100, 100, 140, 200)], 1000, 1000, grow=0.5)
    margin = 0.5 * (40 * 100) ** 0.5  # half the square root of the area on each side
    assert alone == tuple(round(v) for v in (100 - margin, 100 - margin, 140 + margin, 200 + margin))
    (clipped,) = player_boxes([(0, 0, 40, 100)], 60, 120, grow=0.5)
    assert clipped == (0, 0, 60, 120)
    left, right = player_boxes([(100, 100, 200, 200), (300, 120, 400, 220)], 1000, 1000, grow=0.5)
    assert left[2] == right[0] == 250  # the middle of the gap between the instruments
    top, bottom = player_boxes([(100, 100, 200, 200), (100, 300, 200, 400)], 1000, 1000, grow=0.5)
    assert top[3] == bottom[1] == 250


def test_finder_on_coloured_panels():
    """The stand-in classifier calls green a violin and yellow a flute; red is nothing."""
    frame = panel_frame(320, 180, [(255, 0, 0), GREEN, YELLOW])
    found = PlayerFinder(ColourTrunk()).detect(frame)
    assert [d.label for d in sorted(found, key=lambda d: d.box[0])] == ["violin", "flute"]
    for d, (x0, x1) in zip(sorted(found, key=lambda d: d.box[0]), [(107, 213), (213, 320)]):
        cx = (d.box[0] + d.box[2]) / 2
        assert x0 < cx < x1 and d.score > 0.9 and isinstance(d, Detection)
        assert d.core[0] >= x0 - 20 and d.core[2] <= x1 + 20  # the panel, to a cell's rounding


def _frame(instrument: str, clip: str, index: int = 40) -> np.ndarray:
    path = sorted((REALCLIPS / "music-solo" / instrument / clip / "frames").glob("*.jpg"))[index]
    return np.asarray(Image.open(path).convert("RGB"))


@pytest.mark.slow
@pytest.mark.realclips
def test_real_duet_frame_gets_one_box_per_player():
    """Two real solo frames side by side (accordion | flute) on a 1280 x 360 frame: one box
    centred in each half, named by the instrument."""
    if not (REALCLIPS / "music-solo").is_dir():
        pytest.skip(f"real clips not found at {REALCLIPS} (evaluation data, not in the repo)")
    from avsep.boxes.detect import default_finder

    frame = np.concatenate([_frame("accordion", "UKk9DJD1jOo"), _frame("flute", "unRA0xR-XWc")], axis=1)
    found = sorted(default_finder().detect(frame), key=lambda d: d.box[0])
    assert [d.label for d in found] == ["accordion", "flute"]
    assert (found[0].box[0] + found[0].box[2]) / 2 < 640 < (found[1].box[0] + found[1].box[2]) / 2


def test_components_and_distances_are_scipys():
    """The separation-only install has no scipy; the finder's own labelling and distances must
    be ``ndimage.label`` (8-connected) and ``distance_transform_edt``."""
    from avsep.boxes.regions import _distance_to, _label

    ndimage = pytest.importorskip("scipy.ndimage")
    rng = np.random.default_rng(0)
    for _ in range(100):
        mask = rng.random((rng.integers(1, 15), rng.integers(1, 25))) < rng.random()
        labels, count = _label(mask)
        expected, n = ndimage.label(mask, structure=np.ones((3, 3), bool))
        assert count == n and (labels == expected).all()
        if mask.any():
            np.testing.assert_allclose(_distance_to(mask), ndimage.distance_transform_edt(~mask))


def test_what_the_finder_reads_of_a_frame_alone_can_be_made_first():
    """``look`` (the maps, people and cascade of the frame alone, made while motion decodes)
    handed to ``detect`` gives exactly what ``detect`` finds by itself."""
    from avsep.boxes.cues import small_grey

    frame = panel_frame(320, 180, [GREEN, YELLOW])
    moved = frame.copy()
    moved[10:20, 5:40] = 255
    greys = [small_grey(frame), small_grey(moved)]
    finder = PlayerFinder(ColourTrunk())
    look = finder.look(frame)
    assert look.probabilities.shape[0] == len(LABELS)
    found = finder.detect(frame, greys)
    assert found and finder.detect(frame, greys, look) == found
    blind = replace(look, probabilities=np.zeros_like(look.probabilities))
    assert finder.detect(frame, greys, blind) != found  # it reads the look it is given


def test_the_maps_run_in_bfloat16_where_the_cpu_has_it_and_stay_close():
    """By default the finder's instrument maps run under a bfloat16 autocast where the CPU does
    bfloat16 natively (half the time); they stay within a few hundredths of float32's."""
    import torch

    from avsep.models.device import native_bf16
    from avsep.models.visual import build_trunk

    trunk = build_trunk("efficientnet_lite0")
    assert PlayerFinder(trunk).bf16_maps == native_bf16(torch.device("cpu"))
    frame = np.random.default_rng(0).integers(0, 256, (180, 320, 3), np.uint8)
    exact = PlayerFinder(trunk, bf16_maps=False).probabilities(frame)
    fast = PlayerFinder(trunk, bf16_maps=True).probabilities(frame)
    assert fast.shape == exact.shape and fast.dtype == exact.dtype
    assert 0 < np.abs(fast - exact).max() < 0.15


def test_a_trunk_that_guides_by_the_bundled_head_lends_it_to_the_finder():
    """A separator's trunk already carries the bundled guide head (the same file): its finder
    names crops with that copy instead of loading the file again; a bare trunk loads its own."""
    from avsep.boxes.detect import bundled_head
    from avsep.models.guide_head import GuideHead
    from avsep.models.visual import build_trunk

    trunk = build_trunk("efficientnet_lite0")
    own = bundled_head(trunk)
    assert isinstance(own, GuideHead) and not own.training
    trunk.class_head = own
    assert PlayerFinder(trunk).head is own
    assert bundled_head(build_trunk("efficientnet_lite0")) is not own  # a bare trunk: loaded anew
