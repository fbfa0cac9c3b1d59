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
the other knobs on still and moving composites of the guide head's val photos (``--calibrate
knobs``, docs/experiments/2026-12-06-finder-knobs-allowed.md), never on real clips, which are
for evaluation only.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass

import numpy as np
import torch

from avsep.boxes.box import Box
from avsep.boxes.cues import motion_boxes, person_boxes
from avsep.boxes.fusion import Player, fuse
from avsep.boxes.people import PeopleSettings, people_players, person_box
from avsep.boxes.regions import LABELS, Detection, FinderSettings, detections_from_regions, find_regions
from avsep.io.video import crop_boxes
from avsep.models.device import inference_threads, native_bf16
from avsep.models.guide_head import HEAD_CLASSES, OTHER
from avsep.models.guide_head import TRUNK as HEAD_TRUNK
from avsep.models.imagenet_music import INSTRUMENTS
from avsep.models.person_detector import Person, PersonDetector, load_person_detector
from avsep.models.serialize import load_guide_head
from avsep.models.visual import build_trunk, centre_zoom
from avsep.models.weights import guide_head_file


def can_find_players(trunk: torch.nn.Module) -> bool:
    """Whether ``trunk`` carries a trained ImageNet classifier to read class activation maps from
    (a resnet18 without its ImageNet file does not)."""
    return bool(getattr(trunk, "pretrained", False)) and hasattr(trunk, "dense_logits")


def default_finder() -> PlayerFinder:
    """A finder on the shipped EfficientNet-Lite0, whose ImageNet weights come with avsep."""
    return PlayerFinder(build_trunk("efficientnet_lite0").fold())


def bundled_head(trunk: torch.nn.Module) -> torch.nn.Module | None:
    """The guide head that ships with avsep (:mod:`avsep.models.guide_head`) when ``trunk`` is
    the one it reads, else None (the crops are then named by the ImageNet classes). A trunk
    whose separator already guides by it (:attr:`~avsep.models.visual.VisualTrunk.class_head`,
    the same bundled file) lends its copy: automatic mode loaded the file twice (issue 30)."""
    spec = getattr(trunk, "spec", None)
    if spec is None or spec.name != HEAD_TRUNK:
        return None
    own = getattr(trunk, "class_head", None)  # a separator's trunk carries the same file, loaded
    if own is not None:
        return own
    path = guide_head_file()
    return load_guide_head(path).eval() if path is not None else None


def player_finder(trunk: torch.nn.Module | None = None) -> PlayerFinder | None:
    """The finder every command uses (separate, info, locate, the API): the model's own trunk
    when it carries an ImageNet classifier, else the shipped EfficientNet-Lite0 (the bundled
    model's trunk, which ``avsep info`` uses as it loads no model). None if neither can classify."""
    finder = PlayerFinder(trunk) if trunk is not None and can_find_players(trunk) else default_finder()
    return finder if can_find_players(finder.trunk) else None


@dataclass(frozen=True)
class Look:
    """What the finder reads of one frame by itself (:meth:`PlayerFinder.look`)."""

    #: ``[labels, h, w]``: :meth:`PlayerFinder.probabilities`
    probabilities: np.ndarray
    #: the bundled detector's people it is sure enough of
    people: list[Person]
    #: the players the face cascade places (:func:`avsep.boxes.cues.person_boxes`), where used
    persons: list[Box]


class PlayerFinder:
    """Finds instruments in whole frames with a trunk's class activation maps.

    ``trunk`` is any :class:`~avsep.models.visual.VisualTrunk` with ImageNet weights (the
    separator's own, so finding players loads nothing more). ``people``: how the bundled person
    detector is used (:mod:`avsep.boxes.people`; by default its people join the fusion's persons).
    """

    def __init__(
        self,
        trunk: torch.nn.Module,
        settings: FinderSettings | None = None,
        head: torch.nn.Module | None = None,
        people: PeopleSettings | None = None,
        bf16_maps: bool | None = None,
    ) -> None:
        self.trunk = trunk
        #: the maps (:meth:`probabilities`) under a bfloat16 autocast while the trunk is on the
        #: CPU, by default where the CPU does bfloat16 natively: half the time, no fewer players
        #: found on the allowed calibration composites (docs/experiments/2026-12-07-finder-speed.md)
        self.bf16_maps = native_bf16(torch.device("cpu")) if bf16_maps is None else bf16_maps
        self.settings = settings or FinderSettings()
        self.people = people or PeopleSettings()
        #: finds the people (None: none ships, or PeopleSettings.enabled is off)
        self.person_detector: PersonDetector | None = load_person_detector() if self.people.enabled else None
        #: names the crops of people and moving blobs (None: the ImageNet classes do)
        self.head = head if head is not None or not self.settings.head else bundled_head(trunk)
        #: whether the separation it finds players for splits boxes of one instrument by motion
        #: (``--same-instrument motion``; set by the separator): then the warning that found
        #: players will come out alike says the option is on instead of suggesting it
        self.motion_splits = False
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
        x = resize_for_trunk(frame, self.settings.short_side)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.bf16_maps and self._device().type == "cpu"):
            logits = self.trunk.dense_logits(x)[0].float()  # [1000, h, w]
        probs = logits.softmax(0)[self._ids.to(logits.device)]  # [music indices, h, w]
        return torch.einsum("gi,ihw->ghw", self._groups.to(probs.device), probs).cpu().numpy()

    def detect(self, frame: np.ndarray, greys: Sequence[np.ndarray] = (), look: Look | None = None) -> list[Detection]:
        """Players in ``frame``, best first: the instruments' regions fused with the people in
        it and with what moves across ``greys`` (:func:`avsep.boxes.cues.small_grey` of frames of
        the same shot, ``frame``'s among them; none: no motion cue). ``look``: :meth:`look` of
        ``frame``, when the caller has it. The trunk runs on :data:`~avsep.models.device.INFERENCE_THREADS`:
        the same boxes in every ``--jobs`` worker."""
        with self._threads():
            return self._detect(frame, greys, look or self._look(frame))

    def look(self, frame: np.ndarray) -> Look:
        """What :meth:`detect` reads of ``frame`` alone, without its shot's motion: a caller can
        have it made while it decodes the frames motion is measured on (torch and the cascade
        leave the interpreter free), then hand it to :meth:`detect`."""
        with self._threads():
            return self._look(frame)

    def _device(self) -> torch.device:
        """Where the trunk runs now (a separator moves its finder's trunk after building it)."""
        weight = next(self.trunk.parameters(), None)  # a stand-in trunk may have none: the CPU
        return weight.device if weight is not None else torch.device("cpu")

    def _threads(self) -> AbstractContextManager[None]:
        return inference_threads(self._device())

    def _look(self, frame: np.ndarray) -> Look:
        """:meth:`look` on the current threads."""
        people = self.person_detector.detect(frame, self.people.fine) if self.person_detector is not None else []
        people = [p for p in people if p.score >= self.people.min_score]
        cascade = self.settings.persons and not (people and self.people.first)  # read only with no people first
        return Look(self.probabilities(frame), people, person_boxes(frame) if cascade else [])

    def _detect(self, frame: np.ndarray, greys: Sequence[np.ndarray], look: Look) -> list[Detection]:
        """:meth:`detect` on the current threads."""
        regions = find_regions(look.probabilities, self.settings)
        height, width = frame.shape[:2]
        found = detections_from_regions(regions, width, height, self.settings)
        people = look.people
        if people and self.people.first:  # people first (avsep.boxes.people); else instruments, faces and motion
            instruments = [Player(d.box, d.label, d.score, d.core) for d in found]
            namer = lambda boxes: self.name_boxes(frame, boxes)  # noqa: E731
            players = people_players(people, instruments, namer, width, height, self.people)
            return [Detection(p.box, p.label, p.score, p.core) for p in players]
        s = self.settings
        persons = [person_box(p, self.people) for p in people] + look.persons
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
        views = [self.head(*self.trunk.pooled_parts(x, self.head)) for x in (flat, centre_zoom(flat))]
        views = [v.float().softmax(-1) for v in views]
        other = HEAD_CLASSES.index(OTHER)
        probs = torch.where((views[1][:, other] < views[0][:, other])[:, None], views[1], views[0])
        probs[:, other] = 0.0
        best = probs.max(1)
        return [(HEAD_CLASSES[int(i)], float(v)) for v, i in zip(best.values.cpu(), best.indices.cpu())]


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
