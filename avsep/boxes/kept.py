"""What the player finder keeps of the frames it decoded, for the separation to reuse.

The separation asks for the guide frames the finder already looked at, and decoding them twice
would cost a fifth of an automatic run, so the finder hands them over. Whole frames are large
(6 MB each at 1080p: a 2-minute video's were 450 MB of an automatic run's peak RSS, issue 30),
and the separation reads only each source's 224 x 224 crop of them. So once a shot's players are
known, each of its frames is kept as :class:`BoxCrops`: the crops of the boxes a source will
most likely have there: the shot's detections (a found source's box at a keyframe is one of
them, :func:`~avsep.boxes.players.find_players`) or, where it found fewer players than the plan
needs, the vertical strips the finder then falls back to instead. They are cut as the
separation cuts them (:func:`~avsep.io.video.crop_boxes`, each box on its own), so the
separation's crops are the same, bit for bit. Until a shot's players are known its frames are
held whole (at most the few the finder's motion reads).

A found source's portrait, the crop that guides it where a shot does not show it, is kept as a
time and a box (:class:`Portraits`) and decoded when first needed.

The kept crops live in blocks of their own (:class:`CropStore`), not in the heap where each
frame's decoding and cropping temporaries (megabytes each) come and go: small arrays that stay,
placed between those, split the heap's free space into holes a frame no longer fits, and glibc
kept that free heap. A 10-minute 720p video's finder pass peaked at 1685 MB with them in the
heap, 863 MB in blocks and 798 MB with none kept (issue 30; ``python -m
benchmarks.finder_memory``; docs/experiments/2026-12-06-speed-round-2.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from avsep.boxes.ahead import PartsAhead
from avsep.boxes.box import Box
from avsep.boxes.plan import BoxCrops, box_key
from avsep.boxes.shown import ByTime, box_thumbnails, held_still, thumbnails
from avsep.boxes.tracks import Keyframe, Track
from avsep.io.keyframes import Still
from avsep.io.media import MediaInfo
from avsep.io.video import CROP_SIZE, FrameReader, crop_boxes

#: bytes of one kept crop (what the separation's guide reads: 224 x 224 RGB)
CROP_BYTES = CROP_SIZE * CROP_SIZE * 3

#: bytes of one block of kept crops: above glibc's largest dynamic mmap threshold (32 MiB on
#: 64-bit), so each block is a mapping of its own, and its pages count only once written
BLOCK_BYTES = 40 * 2**20


class CropStore:
    """Copies arrays into large blocks allocated once (:data:`BLOCK_BYTES`), so that what is kept
    does not sit between the heap's short-lived allocations (see the module's docstring)."""

    def __init__(self, block_bytes: int = BLOCK_BYTES) -> None:
        self.block_bytes = block_bytes
        self._block = np.empty(0, np.uint8)
        self._used = 0

    def keep(self, array: np.ndarray) -> np.ndarray:
        """A copy of ``array`` inside a block (its own array when larger than a block)."""
        if array.nbytes > self.block_bytes:
            return array.copy()
        start = -(-self._used // array.dtype.alignment) * array.dtype.alignment  # an aligned view
        if start + array.nbytes > self._block.nbytes:
            self._block, start = np.empty(self.block_bytes, np.uint8), 0
        view = self._block[start : start + array.nbytes].view(array.dtype).reshape(array.shape)
        view[...] = array
        self._used = start + array.nbytes
        return view


class FrameKeeper:
    """Fills a plan's :attr:`~avsep.boxes.plan.BoxPlan.decoded` while the finder decodes: each
    frame whole until its shot's boxes are known (:meth:`hold`), then as :class:`BoxCrops` of
    those boxes, or of the ``fallback`` strips instead where the shot has fewer detections than
    ``wanted`` (the finder falls back to strips when it keeps fewer players than ``--sources``
    asks for, or, without it, none), up to ``budget`` bytes of crops. Frames past the budget are
    not kept, nor the strips of a shot with enough detections when the finder still falls back
    (its players all seen too briefly), nor the players of a shot with too few when other shots
    find enough (a close-up of one player in a duet's video): the separation decodes those
    again. Cutting every frame's strips and players would cost up to three times the crops of a
    solo video, for what the plan most likely does not read."""

    def __init__(
        self,
        decoded: dict[float, tuple[BoxCrops, float]],
        fallback: Sequence[Box],
        budget: int,
        wanted: int = 1,
        ahead: PartsAhead | None = None,
    ) -> None:
        self.decoded = decoded
        #: told each picture's kept crops, for the guide's trunk to start on (:mod:`avsep.boxes.ahead`)
        self.ahead = ahead
        self.fallback = [box_key(b) for b in fallback]
        self.budget = budget
        self.wanted = wanted
        self.kept = 0
        self._store = CropStore()
        self._pending: list[tuple[float, np.ndarray, float]] = []
        #: the last picture kept: the time it is shown from, its boxes' keys and its crops
        self._last: tuple[float, list[Box], BoxCrops] | None = None
        #: the judged boxes' crops of the last pictures judged (:meth:`judge`), by the time shown
        self._judged: ByTime | None = None
        self._judged_keys: list[Box] = []

    def _keys(self, boxes: Iterable[Box]) -> list[Box]:
        """The boxes whose crops a shot whose players are ``boxes`` keeps: theirs, or the strips
        where they are fewer than wanted (the plan is then most likely strips)."""
        keys = list(dict.fromkeys(box_key(b) for b in boxes))
        return keys if len(keys) >= self.wanted else list(self.fallback)

    def judge(self, boxes: Iterable[Box]) -> Still:
        """Whether a shot whose players are ``boxes`` held still between two keyframes (what
        :meth:`avsep.io.video.FrameReader.frames_and_times_at` asks): every player's picture,
        every fallback strip's and every kept box's (:meth:`_keys`) the same
        (:func:`~avsep.boxes.shown.held_still`), so that the frames between them show what the
        finder already looked at whichever boxes the plan ends with (a player's crops that are
        not kept are decoded again at the keyframe this judgement chose). The strips tile the
        frame, so a change anywhere in it shows in one of them (at a finer grain than a
        thumbnail of the whole frame would give it). The kept boxes are judged on their crops,
        cut once for the judgement and :meth:`settle` (a thumbnail made straight from each 1080p
        keyframe cost a sixth of an automatic run's finder, issue 30); the boxes judged but not
        kept (the strips beside enough players, a lone player beside the strips) on
        :func:`~avsep.boxes.shown.box_thumbnails`, which cuts no crop: a third of the time, within a
        grey level of the crops' thumbnails."""
        players = [box_key(b) for b in boxes]
        kept = self._keys(players)
        others = [k for k in dict.fromkeys(players + self.fallback) if k not in kept]
        cut = ByTime(lambda frame, _time: crop_boxes(frame, kept))
        self._judged, self._judged_keys = cut, kept

        def thumbs(frame: np.ndarray, time: float) -> np.ndarray:
            own = thumbnails(cut(frame, time))
            return np.concatenate([own, box_thumbnails(frame, others)]) if others else own

        return held_still(ByTime(thumbs))

    def _crops(self, frame: np.ndarray, shown: float, keys: list[Box]) -> np.ndarray:
        """``keys``' crops of ``frame`` (shown at ``shown``): those :meth:`judge` cut of the same
        picture (a picture is known by its time: one video, one frame per time, as for
        :class:`~avsep.boxes.shown.ByTime`), else cut now (each box is cut on its own, so they
        are the same either way)."""
        judged = self._judged.get(shown) if self._judged is not None else None
        if judged is None or not set(keys) <= set(self._judged_keys):
            return crop_boxes(frame, keys)
        return judged[[self._judged_keys.index(k) for k in keys]]

    def hold(self, key: float, frame: np.ndarray, shown: float) -> None:
        """Frame ``frame`` (asked for as ``key``, shown at ``shown``) of the shot being looked at."""
        self._pending.append((key, frame, shown))

    def settle(self, boxes: Iterable[Box]) -> None:
        """The held frames' shot has these boxes: keep its frames as their crops."""
        keys = self._keys(boxes)
        size = len(keys) * CROP_BYTES
        new: list[tuple[Box, np.ndarray]] = []
        for key, frame, shown in self._pending:
            if self._last is None or self._last[:2] != (shown, keys):  # a keyframe answering again: kept once
                if self.kept + size > self.budget:
                    continue
                crops = self._store.keep(self._crops(frame, shown, keys))
                self._last = (shown, keys, BoxCrops(dict(zip(keys, crops))))
                self.kept += size
                new.extend(zip(keys, crops))
            self.decoded[key] = (self._last[2], shown)
        self._pending.clear()
        if self.ahead is not None:
            self.ahead.offer(new)


class Portraits:
    """Each source's best-scoring crop, standing in for it where a shot does not show it: decoded
    again when first asked for, which most videos (every player in every shot) never do; kept
    as a time and a box until then, since every crop of a long video kept in memory would grow
    with its length."""

    def __init__(self, info: MediaInfo, tracks: Sequence[Track], keyframes: Sequence[Keyframe]) -> None:
        best = [max(t.hits.items(), key=lambda kd: kd[1].score) for t in tracks]
        self._info = info
        self._where = [(keyframes[k].time, det.box) for k, det in best]
        self._crops: dict[int, np.ndarray] = {}

    def crop(self, source: int) -> np.ndarray:
        if source not in self._crops:
            time, box = self._where[source]
            with FrameReader(self._info) as reader:
                self._crops[source] = crop_boxes(reader.frames_at([time])[0], [box])[0]
        return self._crops[source]
