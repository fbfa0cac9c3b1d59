"""Fusing instruments with people and motion (avsep.boxes.fusion, avsep.boxes.cues): one player = one
person with an instrument, on hand-made cues and a stand-in namer."""

from __future__ import annotations

import numpy as np

from avsep.boxes.cues import block_means, merge_overlapping, motion_boxes, small_grey
from avsep.boxes.fusion import FusionSettings, Player, fuse

W, H = 1280, 720


def namer(answers: dict[tuple[int, int], tuple[str, float]]):
    """Names a box by the answer registered for the cell (x // 320, y // 360) of its centre;
    anything else is no instrument. Records what it was asked."""
    asked: list = []

    def name(boxes):
        asked.extend(boxes)
        out = []
        for b in boxes:
            key = (int((b[0] + b[2]) / 2 // 320), int((b[1] + b[3]) / 2 // 360))
            out.append(answers.get(key, ("flute", 0.05)))
        return out

    name.asked = asked
    return name


def test_a_cellos_neck_and_body_held_by_one_person_are_one_player():
    neck = Player((500, 100, 560, 300), "cello", 0.8, (510, 120, 550, 280))
    body = Player((480, 320, 640, 620), "violin", 0.9, (500, 340, 620, 600))
    person = (420, 50, 700, 700)
    players = fuse([neck, body], [person], [], namer({}), W, H)
    assert len(players) == 1
    (cellist,) = players
    assert cellist.label == "violin" and cellist.score == 0.9  # the surer region names it
    assert cellist.box == (420, 50, 700, 700)  # the person and both parts
    # Without the person, the two regions stay two.
    assert len(fuse([neck, body], [], [], namer({}), W, H)) == 2


def test_a_person_with_a_weakly_recognised_instrument_is_still_found():
    violin = Player((100, 100, 400, 600), "violin", 0.9, (200, 200, 300, 400))
    flautist = (800, 60, 1100, 700)  # no instrument region, but the crop shows a flute
    bystander = (1150, 0, 1210, 100)  # a face whose crop shows nothing
    name = namer({(2, 1): ("flute", 0.7)})
    players = fuse([violin], [flautist, bystander], [], name, W, H)
    assert [(p.label, p.box) for p in players] == [("violin", violin.box), ("flute", flautist)]
    strict = FusionSettings(person_score=0.8)
    assert len(fuse([violin], [flautist], [], name, W, H, strict)) == 1


def test_motion_adds_a_player_only_where_none_is_and_its_crop_shows_an_instrument():
    violin = Player((100, 100, 400, 600), "violin", 0.9, (200, 200, 300, 400))
    bow = (240, 300, 280, 340)  # moves, but inside the violinist: no second player
    sax = (900, 300, 960, 400)  # moves, named saxophone
    wall = (1200, 650, 1260, 700)  # moves (a flicker), names nothing
    name = namer({(2, 0): ("saxophone", 0.8), (2, 1): ("saxophone", 0.8)})
    players = fuse([violin], [], [bow, sax, wall], name, W, H)
    assert [p.label for p in players] == ["violin", "saxophone"]
    grown = players[1].box
    assert grown[2] - grown[0] == grown[3] - grown[1] == 200  # a square twice the blob's size
    assert all(b != bow for b in name.asked)


def test_a_moving_blob_holding_two_people_is_the_camera_when_asked():
    """With ``mover_people`` 2 a blob that holds two people's centres (a shaking camera moves
    everyone) is no player; one holding one person still is, and off (0) nothing changes."""
    left, right = (200, 200, 400, 500), (800, 200, 1000, 500)  # two people, no instrument seen
    shake = (150, 150, 1100, 560)  # everything moves
    hand = (820, 380, 900, 440)  # one player's hand
    name = namer({(k, j): ("flute", 0.9) for k in range(4) for j in range(2)})  # any crop: a flute
    off = fuse([], [left, right], [shake], name, W, H, FusionSettings(person_score=0.95))
    assert len(off) == 1  # off: the blob's square crop is a player across both
    asked = FusionSettings(person_score=0.95, mover_people=2)
    assert fuse([], [left, right], [shake], name, W, H, asked) == []
    (player,) = fuse([], [left, right], [shake, hand], name, W, H, asked)
    assert player.box[0] <= 860 < player.box[2]  # the hand's blob, around the one player
    face = (260, 220, 340, 300)  # the left person's face, a second detector's box: still one person
    (alone,) = fuse([], [left, face], [(150, 150, 600, 560)], name, W, H, asked)
    assert alone.box[0] < 300 < alone.box[2]


def test_block_means_are_the_exact_means_of_the_blocks():
    """A picture the blocks tile evenly and one they do not (edges rounded): each cell is
    exactly its block's mean, colour or grey; a float picture's to float precision."""
    rng = np.random.default_rng(0)
    for shape, rows, cols in (((72, 128, 3), 18, 32), ((70, 125, 3), 18, 32), ((36, 64), 9, 16)):
        image = rng.integers(0, 256, shape, np.uint8)
        got = block_means(image, rows, cols)
        r, c = np.linspace(0, shape[0], rows + 1).astype(int), np.linspace(0, shape[1], cols + 1).astype(int)
        want = np.array(
            [
                [
                    image[r[i] : r[i + 1], c[j] : c[j + 1]].sum(axis=(0, 1), dtype=np.int64)
                    / ((r[i + 1] - r[i]) * (c[j + 1] - c[j]))
                    for j in range(cols)
                ]
                for i in range(rows)
            ]
        )
        assert got.shape == want.shape and np.array_equal(got, want), shape
        floats = block_means(image.astype(np.float32), rows, cols)
        assert floats.shape == want.shape and np.allclose(floats, want, rtol=1e-5), shape


def test_motion_boxes_find_what_moves_and_nothing_in_a_still_shot():
    rng = np.random.default_rng(0)
    frames = []
    for k in range(4):
        f = np.full((H, W, 3), 90, np.uint8)
        f[300:420, 900:1000] = 40 + 60 * (k % 2)  # a blinking patch
        frames.append((f + rng.integers(0, 3, f.shape)).astype(np.uint8))  # sensor noise
    greys = [small_grey(f) for f in frames]
    (box,) = motion_boxes(greys, W, H)
    assert box[0] <= 900 and box[2] >= 1000 and box[1] <= 300 and box[3] >= 420
    assert box[2] - box[0] < 200
    assert motion_boxes(greys[:1], W, H) == []
    assert motion_boxes([greys[0], greys[0]], W, H) == []


def still_frames(count: int = 2) -> list[np.ndarray]:
    return [np.full((H, W, 3), 90, np.uint8) for _ in range(count)]


def test_what_moves_close_together_is_one_mover():
    """A cellist's bow tip and arm, 3 cells (60 pixels) apart, are one box; a flautist 400
    pixels away is another; with ``join=0`` the cellist is two."""
    frames = still_frames()
    for x0, x1 in ((100, 160), (220, 280), (700, 800)):
        frames[1][300:400, x0:x1] = 200
    greys = [small_grey(f) for f in frames]
    boxes = sorted(motion_boxes(greys, W, H))
    assert len(boxes) == 2
    assert boxes[0][0] <= 100 and boxes[0][2] >= 280 and boxes[1][0] >= 600
    assert len(motion_boxes(greys, W, H, join=0)) == 3


def test_a_quiet_player_beside_a_lively_one_still_moves():
    """A bow moving by 30 grey levels beside a flautist swaying by 150: found at the shipped
    share of the strongest change, lost at round 2's 0.35."""
    frames = still_frames()
    frames[1][300:400, 100:200] = 90 + 30
    frames[1][300:400, 900:1000] = 90 + 150
    greys = [small_grey(f) for f in frames]
    assert len(motion_boxes(greys, W, H)) == 2
    (lively,) = motion_boxes(greys, W, H, share=0.35)
    assert lively[0] >= 880


def test_overlapping_person_boxes_merge():
    face_player = (100, 100, 300, 500)
    upper_body = (120, 150, 320, 520)
    other = (800, 100, 1000, 500)
    assert merge_overlapping([face_player, upper_body, other]) == [(100, 100, 320, 520), other]


def test_one_person_seen_by_two_detectors_may_be_joined():
    """A tuba player's body box (the person detector) and face box (the cascade), the maps reading
    the tuba as a saxophone and a tuba: each box takes the nearer region, two players; with
    ``same_person``, one."""
    sax = Player((20, 70, 300, 720), "saxophone", 0.78, (154, 206, 307, 669))
    tuba = Player((150, 0, 540, 720), "tuba", 0.72, (154, 154, 410, 566))
    body, face = (0, 26, 524, 720), (0, 189, 405, 720)
    assert len(fuse([sax, tuba], [body, face], [], namer({}), W, H)) == 2
    (player,) = fuse([sax, tuba], [body, face], [], namer({}), W, H, FusionSettings(same_person=True))
    assert player.box == (0, 26, 524, 720) and player.label == "saxophone"
