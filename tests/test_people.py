"""People first (avsep.boxes.people): people found by the detector, instruments joined to them,
on generated boxes; and the finder's hook, on a generated frame with a stand-in detector."""

from __future__ import annotations

import numpy as np

from avsep.boxes.fusion import Player
from avsep.boxes.people import PeopleSettings, people_players, person_box, separate
from avsep.models.person_detector import Person


def person(face, body, score=0.9) -> Person:
    return Person(face, body, body, score, ((0.0, 0.0),) * 4)


def inst(core, label="violin", score=0.8) -> Player:
    return Player(core, label, score, core)


def never(boxes):
    raise AssertionError("nothing should need naming")


def test_a_cello_read_as_neck_and_body_is_one_cellist_whose_box_takes_in_both():
    cellist = person((300, 100, 360, 160), (220, 80, 440, 400))
    neck, body = inst((380, 40, 420, 200), "erhu", 0.75), inst((350, 250, 470, 460), "cello", 0.9)
    (player,) = people_players([cellist], [neck, body], never, 1280, 720)
    assert player.label == "cello" and player.score == 0.9
    assert player.box == (220, 40, 470, 460)  # the body box grown to the whole instrument


def test_the_instruments_name_each_person_and_neighbours_do_not_overlap():
    left = person((200, 100, 260, 160), (100, 60, 700, 600))  # a wide body box reaching the neighbour
    right = person((900, 100, 960, 160), (600, 60, 1200, 600))
    flute, violin = inst((150, 200, 420, 260), "flute"), inst((820, 180, 980, 300), "violin")
    players = people_players([left, right], [violin, flute], never, 1280, 720)
    by_label = {p.label: p.box for p in players}
    assert set(by_label) == {"flute", "violin"}
    assert by_label["flute"][2] <= by_label["violin"][0]  # split between them
    assert by_label["flute"][0] == 100 and by_label["violin"][2] == 1200


def test_a_person_without_an_instrument_is_a_player_only_if_their_crop_shows_one():
    shows = person((100, 100, 150, 150), (50, 50, 300, 400))
    listener = person((900, 100, 950, 150), (850, 50, 1100, 400))

    def name(boxes):
        return [("cello", 0.8) if b[0] < 640 else ("other", 0.2) for b in boxes]

    (player,) = people_players([shows, listener], [], name, 1280, 720)
    assert player.label == "cello" and player.box == (50, 50, 300, 400)


def test_an_instrument_no_person_holds_stays_a_player_unless_orphans_are_off():
    someone = person((100, 100, 150, 150), (50, 50, 300, 400))
    far = inst((900, 300, 1000, 400), "accordion")
    labels = [p.label for p in people_players([someone], [far], lambda b: [("flute", 0.9)] * len(b), 1280, 720)]
    assert sorted(labels) == ["accordion", "flute"]
    alone = people_players(
        [someone], [far], lambda b: [("flute", 0.9)] * len(b), 1280, 720, PeopleSettings(orphans=False)
    )
    assert [p.label for p in alone] == ["flute"]


def test_an_instrument_just_outside_the_body_box_still_touches_it():
    someone = person((100, 100, 150, 150), (0, 0, 400, 400))
    near = inst((405, 100, 500, 200), "saxophone")  # 5 px from a 400-px body: within 5 %
    (player,) = people_players([someone], [near], never, 1280, 720)
    assert player.box == (0, 0, 500, 400)


def test_separate_cuts_overlapping_boxes_between_their_cores():
    boxes = [(0, 0, 700, 700), (500, 0, 1200, 700)]
    cores = [(100, 100, 400, 400), (800, 100, 1000, 400)]
    assert separate(boxes, cores, 1280, 720) == [(0, 0, 600, 700), (600, 0, 1200, 700)]
    stacked = separate([(0, 0, 500, 500), (0, 300, 500, 720)], [(0, 0, 500, 200), (0, 500, 500, 700)], 1280, 720)
    assert stacked == [(0, 0, 500, 350), (0, 350, 500, 720)]


def test_the_finder_uses_the_people_it_finds_and_falls_back_without_them():
    from avsep.boxes.detect import FinderSettings, PlayerFinder
    from avsep.models.visual import build_trunk

    class Detector:
        def __init__(self, people):
            self.people = people

        def detect(self, frame, fine=False):
            return self.people

    frame = np.full((360, 640, 3), 128, np.uint8)
    someone = person((100, 50, 140, 90), (60, 20, 260, 340))
    for first in (True, False):  # people first, or the people as the fusion's persons (the default)
        finder = PlayerFinder(
            build_trunk("efficientnet_lite0"),
            FinderSettings(persons=False, motion=False),
            people=PeopleSettings(first=first),
        )
        finder.name_boxes = lambda frame, boxes: [("violin", 0.9)] * len(boxes)
        finder.person_detector = Detector([someone])
        (found,) = finder.detect(frame)
        assert (found.box, found.label) == ((60, 20, 260, 340), "violin")
        finder.person_detector = Detector([person((100, 50, 140, 90), (60, 20, 260, 340), score=0.4)])
        assert finder.detect(frame) == []  # a person the detector is unsure of is not one
        finder.person_detector = Detector([])
        assert finder.detect(frame) == []  # a plain grey frame: no instrument, no person


def test_a_persons_box_reaches_no_farther_from_the_face_than_max_span():
    """A violinist seen from behind whose keypoints made an upper body far too wide: with
    ``max_span`` 6 the box keeps 3 face widths to each side of the face and 6 face sizes down
    from its top; without it, the whole width."""
    seen_from_behind = person((900, 100, 960, 160), (137, 0, 1280, 720))
    assert person_box(seen_from_behind) == (137, 0, 1280, 720)
    assert person_box(seen_from_behind, PeopleSettings(max_span=6)) == (750, 100, 1110, 460)
    small = person((900, 100, 960, 160), (880, 90, 990, 300))  # within the span but for the hair
    assert person_box(small, PeopleSettings(max_span=6)) == (880, 100, 990, 300)
