"""Players linked from keyframe to keyframe into sources: by instrument family first, then by
position (a minimum-cost matching), so a cut that swaps two players of different families cannot
swap their outputs. :func:`avsep.boxes.players.find_players` detects, this module links."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from avsep.boxes.box import Box
from avsep.boxes.regions import FAMILIES, Detection

#: Linking cost of a detection to a source of another instrument family (position costs at most
#: about 1, the frame's diagonal): such a link is never made, so a cut that swaps two players
#: of different families cannot swap their outputs.
FAMILY_COST = 1.0
#: ... and to a source of the same family but another instrument (violin vs cello).
LABEL_COST = 0.25


@dataclass
class Keyframe:
    """A frame the finder ran on, and what it found there."""

    time: float
    detections: list[Detection]
    frames: int = 0  #: guide frames that share this frame's boxes (its weight)


@dataclass
class Track:
    """One source as it is linked from keyframe to keyframe."""

    hits: dict[int, Detection] = field(default_factory=dict)  # keyframe index -> detection

    def family(self) -> str:
        return FAMILIES.get(self.label(), "")

    def label(self) -> str:
        mass: dict[str, float] = {}
        for d in self.hits.values():
            mass[d.label] = mass.get(d.label, 0.0) + d.score
        return max(mass, key=mass.__getitem__)

    def last(self) -> Detection:
        return self.hits[max(self.hits)]


def min_cost_matching(cost: np.ndarray) -> list[tuple[int, int]]:
    """The (row, column) pairs of a least-total-cost matching that pairs every row or every
    column (whichever are fewer): ``scipy.optimize.linear_sum_assignment``, which the
    separation-only install does not bring. Hungarian method with potentials, O(n^2 m) for
    n <= m; the matrices here are a few detections by a few tracks."""
    cost = np.asarray(cost, np.float64)
    transposed = cost.shape[0] > cost.shape[1]
    if transposed:
        cost = cost.T
    n, m = cost.shape
    u, v = np.zeros(n + 1), np.zeros(m + 1)
    owner = np.zeros(m + 1, np.int64)  # owner[j]: 1-based row matched to column j (0: none)
    way = np.zeros(m + 1, np.int64)
    for i in range(1, n + 1):
        owner[0], j0 = i, 0
        minv = np.full(m + 1, np.inf)
        used = np.zeros(m + 1, bool)
        while True:
            used[j0] = True
            i0, delta, j1 = owner[j0], np.inf, 0
            for j in range(1, m + 1):
                if not used[j]:
                    cur = cost[i0 - 1, j - 1] - u[i0] - v[j]
                    if cur < minv[j]:
                        minv[j], way[j] = cur, j0
                    if minv[j] < delta:
                        delta, j1 = minv[j], j
            for j in range(m + 1):
                if used[j]:
                    u[owner[j]] += delta
                    v[j] -= delta
                else:
                    minv[j] -= delta
            j0 = j1
            if owner[j0] == 0:
                break
        while j0:
            j1 = way[j0]
            owner[j0] = owner[j1]
            j0 = j1
    pairs = [(int(owner[j]) - 1, j - 1) for j in range(1, m + 1) if owner[j]]
    return sorted((c, r) if transposed else (r, c) for r, c in pairs)


def link_tracks(keyframes: Sequence[Keyframe], width: int, height: int) -> list[Track]:
    """Link the detections of successive keyframes into tracks (one per player).

    Each keyframe's detections are matched to the existing tracks with the least total cost
    (Hungarian): :data:`FAMILY_COST` for another instrument family (never linked),
    :data:`LABEL_COST` for another instrument of the family, plus the distance between box
    centres as a fraction of the frame's diagonal. A detection left over starts a new track.
    """
    diagonal = math.hypot(width, height)
    tracks: list[Track] = []
    for k, key in enumerate(keyframes):
        dets = key.detections
        if not dets:
            continue
        cost = np.full((len(dets), max(1, len(tracks))), np.inf)
        for j, track in enumerate(tracks):
            last = track.last()
            for i, d in enumerate(dets):
                if FAMILIES.get(d.label, "") != track.family():
                    continue
                c = _distance(d.box, last.box) / diagonal
                cost[i, j] = c + (LABEL_COST if d.label != track.label() else 0.0)
        linked: set[int] = set()
        if tracks:
            finite = np.where(np.isfinite(cost), cost, 1e6)
            for i, j in min_cost_matching(finite):
                if np.isfinite(cost[i, j]):
                    tracks[j].hits[k] = dets[i]
                    linked.add(i)
        tracks.extend(Track({k: d}) for i, d in enumerate(dets) if i not in linked)
    return tracks


def _distance(a: Box, b: Box) -> float:
    return math.hypot((a[0] + a[2] - b[0] - b[2]) / 2, (a[1] + a[3] - b[1] - b[3]) / 2)
