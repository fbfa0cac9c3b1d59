"""Found players in reading order, and classes outside the model's said so (avsep.boxes.naming)."""

from __future__ import annotations

import pytest

from avsep.boxes.naming import alike_note, outside_classes_note, reading_order
from tests.cli_support import GREEN, YELLOW, ColourTrunk


def test_players_are_numbered_left_to_right_then_top_to_bottom():
    boxes = [(500, 0, 700, 300), (0, 400, 200, 700), (0, 0, 200, 300), (900, 0, 1000, 100)]
    assert reading_order(boxes) == [2, 1, 0, 3]
    assert reading_order([]) == []
    # side by side at different heights stay left to right
    assert reading_order([(400, 0, 600, 200), (0, 300, 300, 600)]) == [1, 0]


def test_a_class_the_model_does_not_know_is_named_and_said():
    note = outside_classes_note(["violin", "piano", "drum"])
    assert note.startswith("found drum, piano: not among the 11 instruments the model knows")
    assert outside_classes_note(["violin", "cello"]) is None


def test_found_players_that_will_come_out_alike_are_said():
    """Two players read as one class share one mask; a box around another repeats its sound."""
    note = alike_note(["violin", "flute", "violin"], [(0, 0, 10, 10), (20, 0, 30, 10), (40, 0, 50, 10)])
    assert note.startswith("boxes 1 and 3 are both read as violin: the model is told each box's instrument")
    wide = alike_note(["acoustic_guitar", "saxophone"], [(22, 0, 244, 221), (0, 0, 404, 223)])
    assert wide.startswith("box 2 holds box 1: ")
    assert alike_note(["violin", "flute"], [(0, 0, 10, 10), (5, 0, 30, 10)]) is None  # overlap, not held
    assert alike_note(["piano", "piano"], [(0, 0, 10, 10), (20, 0, 30, 10)]) is None  # said as outside instead
    assert note.endswith("--same-instrument motion splits players of one instrument by who moves when")


def test_the_alike_note_does_not_suggest_motion_when_it_is_on():
    note = alike_note(["violin", "violin"], [(0, 0, 10, 10), (20, 0, 30, 10)], motion_splits=True)
    assert "; --same-instrument motion, which is on, splits players of one instrument only" in note


def test_a_separator_tells_its_finder_whether_motion_splits_alike_players():
    from avsep.separation.separator import Separator

    assert Separator(device="cpu", same_instrument="motion").player_finder().motion_splits
    assert not Separator(device="cpu").player_finder().motion_splits


@pytest.mark.parametrize(
    ("second", "panels", "said", "names"),
    [
        ("piano", (GREEN, YELLOW), "found piano: not among the 11 instruments", ["piano", "violin"]),  # left to right
        ("violin", (GREEN, GREEN), "boxes 1 and 2 are both read as violin", ["violin1", "violin2"]),
    ],
)
def test_what_found_players_are_is_announced_and_warned_about(shared_video, second, panels, said, names):
    """A found piano keeps its name; two found violins will come out alike: each said, and the
    found boxes still announced (no plan note)."""
    from avsep.boxes.detect import Detection, PlayerFinder
    from avsep.boxes.players import AutoBoxesWarning, TrackedBoxes, find_players

    finder = PlayerFinder(ColourTrunk())
    found = [
        Detection((48, 0, 96, 48), "violin", 0.9, (60, 10, 80, 40)),
        Detection((0, 0, 48, 48), second, 0.8, (10, 10, 30, 40)),
    ]
    finder.detect = lambda frame, greys=(), look=None: found
    video = shared_video(f"{second}.mp4", panels=panels, duration=12.0, width=96, height=48, fps=4)
    with pytest.warns(AutoBoxesWarning, match=said):
        plan = find_players(video, finder)
    assert isinstance(plan, TrackedBoxes) and plan.note is None
    assert plan.names == names
