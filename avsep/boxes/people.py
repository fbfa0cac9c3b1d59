"""People first: each person the detector finds is a player candidate; the instruments name them.

The class activation maps (:mod:`avsep.boxes.detect`) see instruments, and only some of them
well (a cello is often missed, or read as two instruments, neck and body). A player is a person
with an instrument, and the bundled person detector (:mod:`avsep.models.person_detector`,
MediaPipe's BlazePose) sees people whether they face the camera or look down at their hands.
So, on every frame the finder looks at:

1. **Each person is a candidate**, their box the body region the detector's keypoints give.
2. **A person takes in the instruments they touch.** Each instrument region that overlaps or
   touches a person's body box is theirs (the person it overlaps most; a cello's body and its
   neck, read as two regions, both belong to the cellist); the player's box is the union of
   the body box and those regions: the whole instrument, where the keypoints stop at the wrists.
3. **The instruments name the player**: the surest region the person holds. A person who holds
   none is a player only if the crop of their box shows an instrument to the namer (avsep's
   guide head) at least :attr:`PeopleSettings.name_score` surely: someone in the audience, a
   conductor, a face on a poster is not a player.
4. **An instrument no person holds** stays a player of its own (the detector misses a person
   whose face is hidden), unless :attr:`PeopleSettings.orphans` is off.
5. **Neighbours do not share pixels**: where two players' boxes overlap, both stop at the middle
   of the gap between their cores (face and instruments), along the axis where the cores are
   farther apart, as :func:`avsep.boxes.regions.player_boxes` does for instruments alone.

With no person in the frame the finder goes on as before (instruments, faces, motion).

**What ships** (:attr:`PeopleSettings.first` False): on still and moving composites of the
guide head's val photos (``benchmarks/detect_players.py --calibrate knobs``;
docs/experiments/2026-12-06-finder-knobs-allowed.md), people first as above joined
neighbours' instruments to one wide body box and lost players, while the detector's people
given to the existing fusion (:mod:`avsep.boxes.fusion`) as its persons, next to the Haar
faces, scored best. So by default the people are the fusion's persons
(their :func:`person_box`), and people first is a setting.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from avsep.boxes.box import Box, intersection
from avsep.boxes.fusion import Namer, Player, union
from avsep.models.person_detector import Person


@dataclass(frozen=True)
class PeopleSettings:
    """Knobs of the people-first finder (see module doc)."""

    #: Look for people with the bundled detector first; False: the instrument maps alone, as before.
    enabled: bool = True
    #: A person holding no instrument region is a player if the crop of their box names an
    #: instrument at least this surely (the fusion's ``person_score``: the top class at least as
    #: likely as all others together).
    name_score: float = 0.5
    #: An instrument region touches a person when it lies at most this share of the body box's
    #: size (the square root of its area) away from it.
    touch: float = 0.05
    #: Instrument regions no person holds stay players of their own.
    orphans: bool = True
    #: The person's box: "upper" (the upper body's region: a player's hands and instrument are
    #: in it or touch it) or "body" (the whole body's, which reaches far past a seated player).
    region: str = "upper"
    #: People the detector is less sure of than this are left out (MediaPipe's threshold: 0.5).
    min_score: float = 0.5
    #: The detector also looks at squares of half the frame's short side
    #: (:func:`avsep.models.person_detector.windows`): small players are found, at a cost.
    fine: bool = False
    #: The person's box reaches at most this many face sizes from the face: half of it to each side
    #: of the face's centre, and down from the face's top (a player seen from behind may get
    #: keypoints, and so an upper body, far too wide). 0: no limit. Off: on the allowed
    #: composites 4 and 8 scored 0.884 against 0.879, under the 0.01 margin, and lost moving
    #: trios (``benchmarks/detect_players.py --calibrate mechanisms``).
    max_span: float = 0.0
    #: True: people first (:func:`people_players`); False (the default, which measured better on
    #: still and moving composites of the guide head's val photos:
    #: docs/experiments/2026-12-06-finder-knobs-allowed.md):
    #: the people join the fusion's other cues (:func:`avsep.boxes.fusion.fuse`: instruments,
    #: faces, motion) as its persons, each as :func:`person_box`.
    first: bool = False


def people_players(
    persons: Sequence[Person],
    instruments: Sequence[Player],
    name: Namer,
    width: int,
    height: int,
    settings: PeopleSettings = PeopleSettings(),
) -> list[Player]:
    """Players from the people of a frame and its instrument regions, surest first."""
    persons = [p for p in persons if p.score >= settings.min_score]
    bodies = [person_box(p, settings) for p in persons]
    held: dict[int, list[Player]] = {}
    free: list[Player] = []
    for inst in instruments:
        owner = _owner(inst.core, bodies, settings.touch)
        (held.setdefault(owner, []) if owner is not None else free).append(inst)
    players: list[tuple[Player, Box]] = []  # each with its core: what its box must keep
    for k, parts in sorted(held.items()):
        best = max(parts, key=lambda p: p.score)
        core = union([persons[k].face, *(p.core for p in parts)])
        players.append((Player(union([bodies[k], core]), best.label, best.score, core), core))
    empty = [k for k in range(len(persons)) if k not in held]
    boxes = [bodies[k] for k in empty]
    for k, box, (label, score) in zip(empty, boxes, name(boxes) if boxes else []):
        if score >= settings.name_score:
            players.append((Player(box, label, round(score, 3), persons[k].face), persons[k].face))
    if settings.orphans:
        players += [(p, p.core) for p in free if not any(_inside(p.core, q.box) for q, _ in players)]
    apart = separate([p.box for p, _ in players], [c for _, c in players], width, height)
    out = [Player(box, p.label, p.score, p.core) for (p, _), box in zip(players, apart)]
    return sorted(out, key=lambda p: -p.score)


def person_box(person: Person, settings: PeopleSettings = PeopleSettings()) -> Box:
    """The box a person is a candidate player with: their upper or whole body's, and their face,
    no farther from the face than :attr:`PeopleSettings.max_span` face sizes."""
    box = union([person.face, person.upper if settings.region == "upper" else person.body])
    if settings.max_span <= 0:
        return box
    x0, y0, x1, y1 = person.face
    reach = settings.max_span * max(x1 - x0, y1 - y0)
    centre = (x0 + x1) / 2
    limit = (centre - reach / 2, y0, centre + reach / 2, y0 + reach)
    return (max(box[0], limit[0]), max(box[1], limit[1]), min(box[2], limit[2]), min(box[3], limit[3]))


def _owner(core: Box, bodies: Sequence[Box], touch: float) -> int | None:
    """The person whose body box overlaps ``core`` most, or touches it (within ``touch`` of the
    body's size) when none overlaps it; None when no body is that near."""
    best, best_key = None, None
    for k, body in enumerate(bodies):
        margin = touch * ((body[2] - body[0]) * (body[3] - body[1])) ** 0.5
        grown = (body[0] - margin, body[1] - margin, body[2] + margin, body[3] + margin)
        if intersection(core, grown) <= 0:
            continue
        key = (intersection(core, body), -_centre_distance(core, body))
        if best_key is None or key > best_key:
            best, best_key = k, key
    return best


def separate(boxes: Sequence[Box], cores: Sequence[Box], width: int, height: int) -> list[Box]:
    """``boxes`` with no two overlapping: where two do, both stop at the middle of the gap
    between their ``cores`` (or halfway between the cores' centres when those overlap), along
    the axis where the cores are farther apart; a box never cuts into its own core."""
    out = [list(b) for b in boxes]
    for i in range(len(out)):
        for j in range(i + 1, len(out)):
            if intersection(out[i], out[j]) <= 0:
                continue
            a, b = cores[i], cores[j]
            gap_x, gap_y = max(b[0] - a[2], a[0] - b[2]), max(b[1] - a[3], a[1] - b[3])
            axis = 0 if gap_x >= gap_y else 1
            first, second = (i, j) if a[axis] + a[axis + 2] <= b[axis] + b[axis + 2] else (j, i)
            f, s = cores[first], cores[second]
            gap = s[axis] - f[axis + 2]
            mid = (f[axis + 2] + s[axis]) / 2 if gap > 0 else (f[axis] + f[axis + 2] + s[axis] + s[axis + 2]) / 4
            out[first][axis + 2] = min(out[first][axis + 2], max(mid, f[axis + 2]))
            out[second][axis] = max(out[second][axis], min(mid, s[axis]))
    return [_clip(b, width, height) for b in out]


def _clip(box: Sequence[float], width: int, height: int) -> Box:
    x0, y0 = max(0, int(round(box[0]))), max(0, int(round(box[1])))
    return (x0, y0, max(x0 + 1, min(width, int(round(box[2])))), max(y0 + 1, min(height, int(round(box[3])))))


def _inside(core: Box, box: Box) -> bool:
    """Whether ``core``'s centre lies in ``box``."""
    cx, cy = (core[0] + core[2]) / 2, (core[1] + core[3]) / 2
    return box[0] <= cx < box[2] and box[1] <= cy < box[3]


def _centre_distance(a: Box, b: Box) -> float:
    return (((a[0] + a[2]) - (b[0] + b[2])) ** 2 + ((a[1] + a[3]) - (b[1] + b[3])) ** 2) ** 0.5 / 2
