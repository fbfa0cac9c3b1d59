"""Found players in reading order, and classes outside the model's said so (avsep.boxes.naming)."""

from __future__ import annotations

from avsep.boxes.naming import outside_classes_note, reading_order


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


def test_a_found_piano_keeps_its_name_is_announced_and_warned_about(shared_video):
    import pytest

    from avsep.boxes.detect import Detection, PlayerFinder
    from avsep.boxes.players import AutoBoxesWarning, TrackedBoxes, find_players
    from tests.cli_support import GREEN, YELLOW, ColourTrunk

    finder = PlayerFinder(ColourTrunk())
    found = [
        Detection((48, 0, 96, 48), "violin", 0.9, (60, 10, 80, 40)),
        Detection((0, 0, 48, 48), "piano", 0.8, (10, 10, 30, 40)),
    ]
    finder.detect = lambda frame, greys=(), look=None: found
    video = shared_video("piano.mp4", panels=(GREEN, YELLOW), duration=12.0, width=96, height=48, fps=4)
    with pytest.warns(AutoBoxesWarning, match="found piano: not among the 11 instruments"):
        plan = find_players(video, finder)
    assert isinstance(plan, TrackedBoxes) and plan.note is None  # so the found boxes are announced
    assert plan.names == ["piano", "violin"]  # left to right
