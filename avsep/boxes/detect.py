"""Find the players in a frame: one box per instrument, with a class guess and a confidence.

Nothing is downloaded: the finder reads the ImageNet classifier the shipped visual trunk already
carries. That classifier is global average pooling followed by one linear layer, so applying the
layer at every cell of the last conv map instead (:meth:`VisualTrunk.dense_logits`, *class
activation maps*) gives ImageNet class probabilities per 32-pixel cell of a whole frame. The
cells where the music-related classes (:mod:`avsep.models.imagenet_music`) win most of the
probability form regions; each region is one instrument, named by the instrument that holds
most of its probability, scored by the mean probability of that instrument over the region.
The instrument's region is then grown into a *player box* (the instrument plus the player and a
margin, as a user would draw it), without reaching into a neighbour's instrument.

The frame is resized so that its short side is :attr:`FinderSettings.short_side` pixels:
ImageNet objects are about a third to the whole of a 224-pixel picture, so a player who fills
a third to a half of a 448-pixel-high frame is at the scale the classifier knows best, and the
trunk runs on a 16:9 frame in well under a second on a CPU. The thresholds are calibrated on
composites of instrument *photographs* (``benchmarks/detect_players.py --calibrate photos``),
and :attr:`FinderSettings.merge_gap` on the three development videos (``--calibrate dev``),
never on the held-out real clips the benchmark reports (docs/results.md).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np
import torch

from avsep.boxes.box import Box
from avsep.boxes.cues import MOTION_JOIN, MOTION_SHARE, motion_boxes, person_boxes
from avsep.boxes.cues import connected_components as _label
from avsep.boxes.fusion import FusionSettings, Player, fuse
from avsep.boxes.people import PeopleSettings, people_players, person_box
from avsep.io.video import crop_boxes
from avsep.models.guide_head import HEAD_CLASSES, OTHER
from avsep.models.guide_head import TRUNK as HEAD_TRUNK
from avsep.models.imagenet_music import INSTRUMENT_CLASSES, INSTRUMENTS
from avsep.models.person_detector import PersonDetector, load_person_detector
from avsep.models.serialize import load_guide_head
from avsep.models.visual import build_trunk, centre_zoom
from avsep.models.weights import guide_head_file

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
    """Knobs of :class:`PlayerFinder`; the defaults are the calibrated ones (see module doc)."""

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
    #: are never stacked. 0: never. Chosen on the development cello video and photo composites
    #: (docs/results.md section 3b, round 3).
    stack_gap: float = 1.0
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


def can_find_players(trunk: torch.nn.Module) -> bool:
    """Whether ``trunk`` carries a trained ImageNet classifier to read class activation maps from
    (a resnet18 without its ImageNet file does not)."""
    return bool(getattr(trunk, "pretrained", False)) and hasattr(trunk, "dense_logits")


def default_finder() -> PlayerFinder:
    """A finder on the shipped EfficientNet-Lite0, whose ImageNet weights come with avsep."""
    return PlayerFinder(build_trunk("efficientnet_lite0"))


def bundled_head(trunk: torch.nn.Module) -> torch.nn.Module | None:
    """The guide head that ships with avsep (:mod:`avsep.models.guide_head`) when ``trunk`` is
    the one it reads, else None (the crops are then named by the ImageNet classes)."""
    spec = getattr(trunk, "spec", None)
    path = guide_head_file() if spec is not None and spec.name == HEAD_TRUNK else None
    return load_guide_head(path).eval() if path is not None else None


def player_finder(trunk: torch.nn.Module | None = None) -> PlayerFinder | None:
    """The finder every command uses (separate, info, locate, the API): the model's own trunk
    when it carries an ImageNet classifier, else the shipped EfficientNet-Lite0 (the bundled
    model's trunk, which ``avsep info`` uses as it loads no model). None if neither can classify."""
    finder = PlayerFinder(trunk) if trunk is not None and can_find_players(trunk) else default_finder()
    return finder if can_find_players(finder.trunk) else None


class PlayerFinder:
    """Finds instruments in whole frames with a trunk's class activation maps.

    ``trunk`` is any :class:`~avsep.models.visual.VisualTrunk` with ImageNet weights (the
    separator's own, so finding players loads nothing more). ``people``: how the bundled person
    detector is used (:mod:`avsep.boxes.people`; people first by default).
    """

    def __init__(
        self,
        trunk: torch.nn.Module,
        settings: FinderSettings | None = None,
        head: torch.nn.Module | None = None,
        people: PeopleSettings | None = None,
    ) -> None:
        self.trunk = trunk
        self.settings = settings or FinderSettings()
        self.people = people or PeopleSettings()
        #: finds the people (None: none ships, or people first is off)
        self.person_detector: PersonDetector | None = load_person_detector() if self.people.enabled else None
        #: names the crops of people and moving blobs (None: the ImageNet classes do)
        self.head = head if head is not None or not self.settings.head else bundled_head(trunk)
        ids = [i for name in LABELS for i in INSTRUMENTS[name]]
        group = [g for g, name in enumerate(LABELS) for _ in INSTRUMENTS[name]]
        self._ids = torch.tensor(ids)
        # [labels, indices] 0/1: sums the probabilities of each instrument's ImageNet classes.
        self._groups = torch.zeros(len(LABELS), len(ids))
        self._groups[group, torch.arange(len(ids))] = 1.0

    @torch.inference_mode()
    def probabilities(self, frame: np.ndarray) -> np.ndarray:
        """``[labels, h, w]``: each instrument's probability per cell of ``frame`` (HxWx3 uint8).

        Cells tile the frame evenly: cell ``(i, j)`` covers rows ``i * H / h`` to
        ``(i + 1) * H / h`` of the ``H``-pixel-high frame, and likewise for columns.
        """
        logits = self.trunk.dense_logits(resize_for_trunk(frame, self.settings.short_side))[0].float()  # [1000, h, w]
        probs = logits.softmax(0)[self._ids.to(logits.device)]  # [music indices, h, w]
        return torch.einsum("gi,ihw->ghw", self._groups.to(probs.device), probs).cpu().numpy()

    def detect(self, frame: np.ndarray, greys: Sequence[np.ndarray] = ()) -> list[Detection]:
        """Players in ``frame``, best first: the instruments' regions fused with the people in
        it and with what moves across ``greys`` (:func:`avsep.boxes.cues.small_grey` of frames of
        the same shot, ``frame``'s among them; none: no motion cue)."""
        regions = find_regions(self.probabilities(frame), self.settings)
        height, width = frame.shape[:2]
        found = detections_from_regions(regions, width, height, self.settings)
        people = self.person_detector.detect(frame, self.people.fine) if self.person_detector is not None else []
        people = [p for p in people if p.score >= self.people.min_score]
        if people and self.people.first:  # people first (avsep.boxes.people); else instruments, faces and motion
            instruments = [Player(d.box, d.label, d.score, d.core) for d in found]
            namer = lambda boxes: self.name_boxes(frame, boxes)  # noqa: E731
            players = people_players(people, instruments, namer, width, height, self.people)
            return [Detection(p.box, p.label, p.score, p.core) for p in players]
        s = self.settings
        persons = [person_box(p, self.people) for p in people] + (person_boxes(frame) if s.persons else [])
        movers = motion_boxes(greys, width, height, s.motion_join, s.motion_share) if s.motion else []
        if not persons and not movers:
            return found
        players = fuse(
            [Player(d.box, d.label, d.score, d.core) for d in found],
            persons,
            movers,
            lambda boxes: self.name_boxes(frame, boxes),
            width,
            height,
            self.settings.fusion,
        )
        return [Detection(p.box, p.label, p.score, p.core) for p in players]

    @torch.inference_mode()
    def name_boxes(self, frame: np.ndarray, boxes: Sequence[Box]) -> list[tuple[str, float]]:
        """The instrument each box of ``frame`` shows and how surely (0..1): the guide head's
        answer when it is there (the surer of the crop and its centre enlarged, as the guide
        reads a box), else the ImageNet music classes of the crop."""
        crops = torch.from_numpy(crop_boxes(frame, boxes))
        if self.head is None:
            logits = self.trunk.dense_logits(crops.permute(0, 3, 1, 2)).float().mean((2, 3))
            probs = logits.softmax(1)[:, self._ids.to(logits.device)] @ self._groups.T.to(logits.device)
            best = probs.max(1)
            return [(LABELS[int(i)], float(v)) for v, i in zip(best.values.cpu(), best.indices.cpu())]
        flat = self.trunk.normalize(crops)
        views = [self.head(*self.trunk.pooled_parts(x)).float().softmax(-1) for x in (flat, centre_zoom(flat))]
        other = HEAD_CLASSES.index(OTHER)
        probs = torch.where((views[1][:, other] < views[0][:, other])[:, None], views[1], views[0])
        probs[:, other] = 0.0
        best = probs.max(1)
        return [(HEAD_CLASSES[int(i)], float(v)) for v, i in zip(best.values.cpu(), best.indices.cpu())]


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
    return sorted(_merge_stacked(kept, probs, settings.stack_gap), key=lambda r: (-r.score, -r.cells))


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


def _merge_stacked(parts: list[np.ndarray], probs: np.ndarray, stack_gap: float) -> list[Region]:
    """The regions of ``parts``, those one above the other and close joined into one (see
    :attr:`FinderSettings.stack_gap`), scored by the surer part: a neck read as a flute does
    not make the cello's body less sure."""

    def stacked(a: Region, b: Region) -> bool:
        return _stacked(a, b) and _gap(a, b) <= stack_gap * min(_size(a), _size(b))

    if stack_gap <= 0:
        return [_region(p, probs) for p in parts]
    return _join_pairs(parts, probs, stacked, surer=True)[1]


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
    cols = min(a.cols[1], b.cols[1]) - max(a.cols[0], b.cols[0])
    rows = min(a.rows[1], b.rows[1]) - max(a.rows[0], b.rows[0])
    shorter = min(a.rows[1] - a.rows[0], b.rows[1] - b.rows[0])
    return cols > 0 and rows <= 0.5 * shorter


def _size(region: Region) -> float:
    return ((region.rows[1] - region.rows[0]) * (region.cols[1] - region.cols[0])) ** 0.5


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
        label,
        float(family / n),
        n,
        (int(rows[0]), int(rows[-1]) + 1),
        (int(cols[0]), int(cols[-1]) + 1),
        cells.shape,
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


def resize_for_trunk(frame: np.ndarray, short_side: int) -> torch.Tensor:
    """``H x W x 3`` uint8 -> ``[1, 3, h, w]`` uint8 with the short side about ``short_side`` and
    both sides multiples of 32 (the trunk's stride, so that its cells tile the frame evenly)."""
    import torch.nn.functional as F

    height, width = frame.shape[:2]
    scale = short_side / min(height, width)
    size = (_multiple_of_32(height * scale), _multiple_of_32(width * scale))
    x = torch.from_numpy(np.ascontiguousarray(frame)).permute(2, 0, 1)[None].float()
    x = F.interpolate(x, size=size, mode="bilinear", align_corners=False, antialias=True)
    return x.round().clamp(0, 255).to(torch.uint8)


def _multiple_of_32(v: float) -> int:
    """The trunk's stride is 32: sizes that are multiples of it give whole cells."""
    return max(32, int(round(v / 32)) * 32)
