"""One player = one person with an instrument: the instrument regions fused with people and motion.

Three cues say where players are (:mod:`avsep.boxes.detect` for the instruments, :mod:`avsep.boxes.cues`
for people and motion); this module turns them into one box per player:

1. **A person holds the instruments near them.** Instrument regions whose centres fall in one
   person's box are one player (a cello read as two regions, neck and body, is one cellist);
   the player's box covers the person and those instruments, named by the surest of them.
2. **A person without a recognised instrument** is a player when the crop of their box shows an
   instrument after all (``name``: avsep's guide head, which knows avsep's classes, or the
   ImageNet music classes of the crop) with at least :attr:`FusionSettings.person_score`.
3. **What moves, where no player is yet**, is a player when its crop shows an instrument with at
   least :attr:`FusionSettings.motion_score` (a sterner test: more things move than play).

Instrument regions no person holds stay players of their own, as before. ``motion_score``
(0.4) and ``person_score`` (0.5: the guide head's top class at least as likely as all others
together) were checked on still and moving composites of the guide head's val photos
(``benchmarks/detect_players.py --calibrate knobs``): a ``motion_score`` of 0.7 and a
``person_score`` of 0.3 score lower, and no value tried beats the shipped ones
(docs/experiments/2026-12-06-finder-knobs-allowed.md).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from avsep.boxes.box import Box
from avsep.boxes.cues import contains_centre, merge_overlapping

#: ``name(boxes) -> [(instrument, score 0..1)]``: what each box of the frame shows.
Namer = Callable[[Sequence[Box]], list[tuple[str, float]]]


@dataclass(frozen=True)
class FusionSettings:
    """Thresholds of the fusion (see module doc)."""

    #: a person with no instrument region is a player if their crop names one this surely
    person_score: float = 0.5
    #: a moving blob no player holds is a player if its crop names an instrument this surely
    motion_score: float = 0.4
    #: a moving blob's crop is a square this many times the blob's size (the player around it)
    motion_grow: float = 2.0
    #: people seen by two detectors (the person detector's body box and a face cascade's box), one
    #: holding the other's centre, are one person (:func:`avsep.boxes.cues.merge_overlapping`).
    #: Off: on the allowed composites it scored lower (0.879 -> 0.863), joining neighbours
    #: (``benchmarks/detect_players.py --calibrate mechanisms``).
    same_person: bool = False
    #: a moving blob that holds the centres of this many people or more is not one player but
    #: the camera moving (a shake or a pan moves everyone; 0: off). Off: 2 scored the same on the
    #: allowed composites (0.879), whose panels move each on their own (``--calibrate mechanisms``).
    mover_people: int = 0


@dataclass(frozen=True)
class Player:
    """A fused player: its box, instrument, score, and the instrument's own region."""

    box: Box
    label: str
    score: float
    core: Box


def fuse(
    instruments: Sequence[Player],
    persons: Sequence[Box],
    movers: Sequence[Box],
    name: Namer,
    width: int,
    height: int,
    settings: FusionSettings = FusionSettings(),
) -> list[Player]:
    """Players from the instrument regions, the people and the moving blobs, best first."""
    if settings.same_person:
        persons = merge_overlapping(persons)
    held: dict[int, list[Player]] = {}
    free: list[Player] = []
    for inst in instruments:
        owner = _owner(inst.core, persons)
        (held.setdefault(owner, []) if owner is not None else free).append(inst)
    players = free + [_join(persons[p], parts) for p, parts in held.items()]
    empty = [b for p, b in enumerate(persons) if p not in held and not _taken(b, players)]
    players += _named(empty, name, settings.person_score)
    if settings.mover_people:
        people = merge_overlapping(persons)  # one person seen by two detectors counts once
        movers = [b for b in movers if sum(contains_centre(b, p) for p in people) < settings.mover_people]
    crops = [_square(b, settings.motion_grow, width, height) for b in movers]
    players += _named([b for b in crops if not _taken(b, players)], name, settings.motion_score, distinct=True)
    return sorted(players, key=lambda p: -p.score)


def _owner(core: Box, persons: Sequence[Box]) -> int | None:
    """The person whose box holds ``core``'s centre (the nearest centre when several do)."""
    inside = [k for k, b in enumerate(persons) if contains_centre(b, core)]
    if not inside:
        return None
    cx, cy = (core[0] + core[2]) / 2, (core[1] + core[3]) / 2
    return min(inside, key=lambda k: (_centre(persons[k])[0] - cx) ** 2 + (_centre(persons[k])[1] - cy) ** 2)


def _join(person: Box, parts: Sequence[Player]) -> Player:
    """One player from a person and the instrument regions they hold."""
    best = max(parts, key=lambda p: p.score)
    box = union([person, *(p.core for p in parts)])
    return Player(box, best.label, best.score, union([p.core for p in parts]))


def _named(boxes: Sequence[Box], name: Namer, threshold: float, distinct: bool = False) -> list[Player]:
    """Those ``boxes`` whose crops show an instrument at least ``threshold`` surely; with
    ``distinct``, a box whose centre lies in one already kept is skipped (one player, one box)."""
    out: list[Player] = []
    for box, (label, score) in zip(boxes, name(boxes) if boxes else []):
        if score >= threshold and not (distinct and _taken(box, out)):
            out.append(Player(box, label, round(score, 3), box))
    return out


def _taken(box: Box, players: Sequence[Player]) -> bool:
    """Whether ``box``'s centre is in a player's box, or a player's centre is in ``box``."""
    return any(contains_centre(p.box, box) or contains_centre(box, p.box) for p in players)


def _square(box: Box, grow: float, width: int, height: int) -> Box:
    """A square ``grow`` times the size of ``box`` (its longer side), centred on it, in the frame."""
    cx, cy = _centre(box)
    half = grow * max(box[2] - box[0], box[3] - box[1]) / 2
    half = min(half, min(width, height) / 2)
    x0 = min(max(cx - half, 0), width - 2 * half)
    y0 = min(max(cy - half, 0), height - 2 * half)
    return (int(round(x0)), int(round(y0)), int(round(x0 + 2 * half)), int(round(y0 + 2 * half)))


def _centre(box: Box) -> tuple[float, float]:
    return (box[0] + box[2]) / 2, (box[1] + box[3]) / 2


def union(boxes: Sequence[Box]) -> Box:
    """The smallest box holding every one of ``boxes`` (a player: a person and their instrument)."""
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )
