"""From the class maps to player boxes: the cells where the music classes win joined into one
region per instrument (hysteresis, parts of one instrument merged), each region grown into a
player box clipped to its neighbours. What the finder (:mod:`avsep.boxes.detect`) calls on the
probabilities of each frame, and the settings it was calibrated with."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from avsep.boxes.box import Box
from avsep.boxes.cues import MOTION_JOIN, MOTION_SHARE
from avsep.boxes.cues import connected_components as _label
from avsep.boxes.fusion import FusionSettings
from avsep.models.imagenet_music import INSTRUMENT_CLASSES, INSTRUMENTS

#: Instrument names in the order of the finder's probability maps.
LABELS: tuple[str, ...] = tuple(name for name, ids in INSTRUMENTS.items() if ids)

#: Instruments the classifier confuses with each other on one object (a guitar's neck reads as
#: an electric guitar, its body as an acoustic one; a tuba's bell as a cornet). A region is split
#: between two players only where two *families* meet, never inside one.
FAMILIES: dict[str, str] = {
    **dict.fromkeys(("acoustic_guitar", "electric_guitar", "banjo", "harp"), "plucked"),
    **dict.fromkeys(("violin", "cello", "erhu"), "bowed"),
    **dict.fromkeys(("trumpet", "tuba", "trombone"), "brass"),
    **dict.fromkeys(("clarinet", "flute", "saxophone", "bassoon"), "woodwind"),
    **dict.fromkeys(("accordion", "piano", "organ", "harmonica"), "keyboard"),
    **dict.fromkeys(("drum", "xylophone", "maraca", "chimes", "gong"), "percussion"),
}
_FAMILY_OF_LABEL = np.array([sorted(set(FAMILIES.values())).index(FAMILIES[n]) for n in LABELS])


@dataclass(frozen=True)
class FinderSettings:
    """Knobs of :class:`PlayerFinder`; the defaults are the calibrated ones (see :mod:`avsep.boxes.detect`)."""

    #: Short side (pixels) the frame is resized to before the trunk: cells are 32 pixels of that.
    short_side: int = 448
    #: A cell belongs to an instrument when the music classes hold at least this probability.
    cell_threshold: float = 0.7
    #: Instrument cells joined by cells holding at least this much are one region (hysteresis).
    link_threshold: float = 0.1
    #: Regions of one instrument less than this many times the smaller one's size apart (in
    #: cells; size: the square root of its bounding box's area) are one instrument: a flute
    #: whose middle is hidden by the hands, an accordion read in two halves. Only regions of
    #: the same instrument merge: a violin beside a cello (one family) stays two players.
    #: 0: never merge.
    merge_gap: float = 0.25
    #: Regions one above the other (sharing a column) less than this many times the smaller
    #: one's size apart are one instrument whatever their classes: a cello or a double bass
    #: upright, its neck read as one instrument and its body as another. Side-by-side players
    #: are never stacked. 0: never. On still and moving composites of the guide head's val
    #: photos 0 and 0.5 score lower (``benchmarks/detect_players.py --calibrate knobs``).
    stack_gap: float = 1.0
    #: Regions of any instruments whose boxes overlap by at least this share of the smaller one's
    #: box are one instrument read as two in one place (a guitar's neck as a guitar and its body
    #: as a cello; a tuba as a saxophone and a tuba), scored by the surer part. 0: never. 0.5
    #: raised the score of the allowed composites 0.867 -> 0.879, no set lower
    #: (``benchmarks/detect_players.py --calibrate mechanisms``,
    #: docs/experiments/2026-12-06-finder-knobs-allowed.md, round 6).
    overlap_merge: float = 0.5
    #: Regions whose instrument's mean probability is lower than this are not reported.
    min_score: float = 0.7
    #: Regions of fewer cells than this are not reported (a stray cell is texture, not a player).
    min_cells: int = 2
    #: The player box extends the instrument's box on each side by this fraction of its size
    #: (the square root of its area): see :func:`player_boxes`.
    grow: float = 0.5
    #: Look for people (OpenCV's Haar cascades, :mod:`avsep.boxes.cues`) and fuse them with the
    #: instruments (:mod:`avsep.boxes.fusion`): one player = one person with an instrument.
    persons: bool = True
    #: Look at what moves between the frames of a shot, where :meth:`PlayerFinder.detect` is
    #: given them.
    motion: bool = True
    #: Moving blobs this many cells apart or less, times two, are one mover (:data:`avsep.boxes.cues.MOTION_JOIN`).
    motion_join: int = MOTION_JOIN
    #: A cell moves when it changes by this share of the frame's strongest change
    #: (:data:`avsep.boxes.cues.MOTION_SHARE`).
    motion_share: float = MOTION_SHARE
    #: Name the crops of people and moving blobs with avsep's guide head when it ships (it
    #: knows avsep's classes, drawings included); False: the ImageNet music classes of the crop.
    head: bool = True
    fusion: FusionSettings = FusionSettings()


@dataclass(frozen=True)
class Detection:
    """One instrument found in a frame, in displayed-frame pixels."""

    box: Box  #: the player box: what to separate with
    label: str  #: instrument name (avsep's class names where ImageNet has the class)
    score: float  #: mean probability of ``label``'s family over the instrument's cells, 0..1
    core: Box  #: the instrument's own region (the cells the classes won)

    @property
    def known(self) -> bool:
        """Whether ``label`` is one of the classes avsep's models are trained on."""
        return self.label in INSTRUMENT_CLASSES


@dataclass(frozen=True)
class Region:
    """An instrument's cells on the probability grid (rows ``r0:r1``, columns ``c0:c1``)."""

    label: int  #: index into :data:`LABELS`
    score: float
    cells: int
    rows: tuple[int, int]
    cols: tuple[int, int]
    grid: tuple[int, int]  #: (h, w) of the whole grid


def find_regions(probs: np.ndarray, settings: FinderSettings) -> list[Region]:
    """Regions of cells where the music classes win, one per instrument, best first.

    Cells holding at least :attr:`~FinderSettings.cell_threshold` of music probability are an
    instrument's; they belong to one region when a path of cells holding at least
    :attr:`~FinderSettings.link_threshold` joins them (hysteresis, as in edge detection): the
    parts of one large instrument (a harp's neck and strings, a banjo's head and neck) are
    joined by weaker cells, while two players are separated by background that holds almost
    none. A region in which two instrument *families* each win a sizeable share (two players
    whose cells touch) is split between them, so that each gets its own box.
    """
    music = probs.sum(0)
    winner = _FAMILY_OF_LABEL[probs.argmax(0)]
    seeds = music >= settings.cell_threshold
    links = music >= min(settings.link_threshold, settings.cell_threshold)
    components, count = _label(links)
    parts: list[np.ndarray] = []
    for c in range(1, count + 1):
        cells = (components == c) & seeds
        if cells.any():
            parts.extend(_split_by_family(cells, winner, settings.min_cells))
    parts = _merge_close(parts, probs, settings.merge_gap)
    kept = [p for p in parts if _kept(_region(p, probs), settings)]
    return sorted(_merge_stacked(kept, probs, settings), key=lambda r: (-r.score, -r.cells))


def _kept(region: Region, settings: FinderSettings) -> bool:
    return region.cells >= settings.min_cells and region.score >= settings.min_score


def _split_by_family(cells: np.ndarray, winner: np.ndarray, min_cells: int) -> list[np.ndarray]:
    """``cells`` as one region, or as one per instrument family that wins a sizeable share of
    them (``winner``: the winning family per cell); the cells of minor families join the
    nearest part."""
    families, sizes = np.unique(winner[cells], return_counts=True)
    big = [int(g) for g, n in zip(families, sizes) if n >= max(min_cells, 0.25 * cells.sum())]
    if len(big) < 2:
        return [cells]
    parts = [cells & (winner == g) for g in big]
    rest = cells & ~np.any(parts, axis=0)
    if rest.any():
        nearest = np.stack([_distance_to(p) for p in parts]).argmin(0)
        parts = [p | (rest & (nearest == k)) for k, p in enumerate(parts)]
    return parts


def _distance_to(cells: np.ndarray) -> np.ndarray:
    """Each cell's Euclidean distance (in cells) to the nearest cell of ``cells`` (non-empty):
    ``scipy.ndimage.distance_transform_edt(~cells)``, by brute force on a small grid."""
    rows, cols = np.indices(cells.shape)
    ys, xs = np.nonzero(cells)
    d2 = (rows[..., None] - ys) ** 2 + (cols[..., None] - xs) ** 2
    return np.sqrt(d2.min(-1))


def _merge_close(parts: list[np.ndarray], probs: np.ndarray, merge_gap: float) -> list[np.ndarray]:
    """Join parts of one instrument that lie close together (see
    :attr:`FinderSettings.merge_gap`), until no two are close."""

    def close(a: Region, b: Region) -> bool:
        return a.label == b.label and _gap(a, b) <= merge_gap * min(_size(a), _size(b))

    return _join_pairs(parts, probs, close, surer=False)[0] if merge_gap > 0 else list(parts)


def _merge_stacked(parts: list[np.ndarray], probs: np.ndarray, settings: FinderSettings) -> list[Region]:
    """The regions of ``parts``, those one above the other and close, or lying over each other,
    joined into one (see :attr:`FinderSettings.stack_gap` and
    :attr:`FinderSettings.overlap_merge`), scored by the surer part: a neck read as a flute does
    not make the cello's body less sure."""
    gap, overlap = settings.stack_gap, settings.overlap_merge

    def one(a: Region, b: Region) -> bool:
        stacked = gap > 0 and _stacked(a, b) and _gap(a, b) <= gap * min(_size(a), _size(b))
        return stacked or (overlap > 0 and _overlap_share(a, b) >= overlap)

    if gap <= 0 and overlap <= 0:
        return [_region(p, probs) for p in parts]
    return _join_pairs(parts, probs, one, surer=True)[1]


def _overlap_share(a: Region, b: Region) -> float:
    """The share of the smaller region's box (in cells) that the two boxes have in common."""
    rows, cols = _shared(a, b)
    return max(rows, 0) * max(cols, 0) / min(_area(a), _area(b))


def _shared(a: Region, b: Region) -> tuple[int, int]:
    """Rows and columns the two regions' boxes share (<= 0: none)."""
    rows = min(a.rows[1], b.rows[1]) - max(a.rows[0], b.rows[0])
    cols = min(a.cols[1], b.cols[1]) - max(a.cols[0], b.cols[0])
    return rows, cols


def _area(region: Region) -> int:
    return (region.rows[1] - region.rows[0]) * (region.cols[1] - region.cols[0])


def _join_pairs(
    parts: list[np.ndarray], probs: np.ndarray, joins: Callable[[Region, Region], bool], surer: bool
) -> tuple[list[np.ndarray], list[Region]]:
    """``parts`` and their regions, the first pair (in order) that ``joins`` made one part, again
    until no pair joins; with ``surer``, a joined region keeps the higher of its parts' scores."""
    parts = list(parts)
    regions = [_region(p, probs) for p in parts]
    joined = True
    while joined:
        joined = False
        for i, j in itertools.combinations(range(len(parts)), 2):
            a, b = regions[i], regions[j]
            if joins(a, b):
                parts[i] = parts[i] | parts[j]
                regions[i] = _region(parts[i], probs)
                if surer:
                    regions[i] = replace(regions[i], score=max(a.score, b.score))
                del parts[j], regions[j]
                joined = True
                break
    return parts, regions


def _gap(a: Region, b: Region) -> int:
    """Cells between two regions' boxes along the axis where they are farther apart (<= 0: they touch)."""
    return max(b.rows[0] - a.rows[1], a.rows[0] - b.rows[1], b.cols[0] - a.cols[1], a.cols[0] - b.cols[1])


def _stacked(a: Region, b: Region) -> bool:
    """Whether one region lies above the other: they share a column (a cello's neck leans to
    one side of its body) and at most half of the shorter one's rows."""
    rows, cols = _shared(a, b)
    shorter = min(a.rows[1] - a.rows[0], b.rows[1] - b.rows[0])
    return cols > 0 and rows <= 0.5 * shorter


def _size(region: Region) -> float:
    return _area(region) ** 0.5


def _region(cells: np.ndarray, probs: np.ndarray) -> Region:
    """The region's instrument is the one with the most probability over its cells; its score
    is the mean probability of that instrument's whole family there (a tuba read partly as a
    cornet is still surely brass)."""
    mass = probs[:, cells].sum(1)
    label = int(mass.argmax())
    family = mass[_FAMILY_OF_LABEL == _FAMILY_OF_LABEL[label]].sum()
    rows = np.flatnonzero(cells.any(1))
    cols = np.flatnonzero(cells.any(0))
    n = int(cells.sum())
    return Region(
        label, float(family / n), n, (int(rows[0]), int(rows[-1]) + 1), (int(cols[0]), int(cols[-1]) + 1), cells.shape
    )


def detections_from_regions(
    regions: Sequence[Region], width: int, height: int, settings: FinderSettings
) -> list[Detection]:
    """Regions (grid cells) -> detections in pixels of a ``width`` x ``height`` frame."""
    cores = [_cells_to_pixels(r, width, height) for r in regions]
    boxes = player_boxes(cores, width, height, settings.grow)
    return [Detection(box, LABELS[r.label], round(r.score, 3), core) for r, core, box in zip(regions, cores, boxes)]


def _cells_to_pixels(region: Region, width: int, height: int) -> Box:
    gh, gw = region.grid
    y0, y1 = (round(v * height / gh) for v in region.rows)
    x0, x1 = (round(v * width / gw) for v in region.cols)
    return (int(x0), int(y0), int(x1), int(y1))


def player_boxes(cores: Sequence[Box], width: int, height: int, grow: float) -> list[Box]:
    """Grow each instrument's box into a player box, clipped to the frame and to its neighbours.

    Each side moves out by ``grow`` times the instrument's size (the square root of its area,
    so that a long thin flute gains as much room above and below as at its ends: the player's
    face and hands). The box stays centred on the instrument, which is always on the player;
    where the player's body is cannot be told from the classifier. Where two grown boxes would
    overlap, both stop at the middle of the gap between their instruments, along the axis where
    the instruments are farther apart: side-by-side players are split by a vertical line,
    players above one another by a horizontal one.
    """
    grown = []
    for x0, y0, x1, y1 in cores:
        margin = grow * ((x1 - x0) * (y1 - y0)) ** 0.5
        grown.append([x0 - margin, y0 - margin, x1 + margin, y1 + margin])
    for i, a in enumerate(cores):
        for j, b in enumerate(cores):
            if j <= i or not _overlap(grown[i], grown[j]):
                continue
            gap_x = max(b[0] - a[2], a[0] - b[2])
            gap_y = max(b[1] - a[3], a[1] - b[3])
            if gap_x >= gap_y:
                left, right = (i, j) if a[0] + a[2] <= b[0] + b[2] else (j, i)
                mid = (cores[left][2] + cores[right][0]) / 2 if gap_x > 0 else _mid(cores, left, right, 0)
                grown[left][2] = min(grown[left][2], max(mid, cores[left][2]))
                grown[right][0] = max(grown[right][0], min(mid, cores[right][0]))
            else:
                top, bottom = (i, j) if a[1] + a[3] <= b[1] + b[3] else (j, i)
                mid = (cores[top][3] + cores[bottom][1]) / 2 if gap_y > 0 else _mid(cores, top, bottom, 1)
                grown[top][3] = min(grown[top][3], max(mid, cores[top][3]))
                grown[bottom][1] = max(grown[bottom][1], min(mid, cores[bottom][1]))
    out = []
    for x0, y0, x1, y1 in grown:
        box = (int(round(max(0, x0))), int(round(max(0, y0))), int(round(min(width, x1))), int(round(min(height, y1))))
        out.append(box)
    return out


def _mid(cores: Sequence[Box], first: int, second: int, axis: int) -> float:
    """Overlapping instruments: split halfway between their centres along ``axis``."""
    a, b = cores[first], cores[second]
    return (a[axis] + a[axis + 2] + b[axis] + b[axis + 2]) / 4


def _overlap(a: Sequence[float], b: Sequence[float]) -> bool:
    return min(a[2], b[2]) > max(a[0], b[0]) and min(a[3], b[3]) > max(a[1], b[1])
