"""Look again only when the picture changed: a box's crop that looks like the last one the
trunk saw reuses its guide parts.

A phone or concert video holds its shot for seconds to minutes, and a window takes 3 guide
frames per box every 4.5 s, so most crops show what the box showed the last time: the same
player, a bow a little further along. The visual trunk is the separation's largest cost on the
CPU (issue 30: 4.3 of 13.3 s at 720p), and a crop of an unchanged picture gives it nothing new.
:class:`CropMemo` keeps, per source, a small grey thumbnail of the last crop that went through
the trunk and that crop's :meth:`~avsep.models.visual.VisualTrunk.crop_parts`; a new crop whose
thumbnail differs from it by at most :data:`~avsep.boxes.shown.SAME_PICTURE` takes those parts instead of a
forward. A cut, a player who moves or a box that moves changes the thumbnail beyond that and
the crop is looked at again (and becomes the one compared with). The comparison is always
with the crop last computed, never the last seen, so a slow drift cannot accumulate unseen.
In automatic mode the finder's worker has computed most of those crops already
(:mod:`avsep.boxes.ahead`): their rows are taken from it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from avsep.boxes.ahead import Compute  # the trunk's per-crop parts of crops: the finder's worker runs the same
from avsep.boxes.plan import RowsAhead
from avsep.boxes.shown import SAME_PICTURE, differences, thumbnails


class CropMemo:
    """Per source, the last crop the trunk saw (its thumbnail and parts); one per separation.

    ``threshold`` None turns reuse off (every crop computed): the guide then equals the
    trunk's on every frame, which :meth:`parts` is tested against.
    """

    def __init__(self, threshold: float | None = SAME_PICTURE, ahead: RowsAhead | None = None) -> None:
        self.threshold = threshold
        #: the crops the finder's worker sent through the trunk ahead (:mod:`avsep.boxes.ahead`)
        self.ahead = ahead
        self._thumbs: dict[int, np.ndarray] = {}
        self._parts: dict[int, tuple[torch.Tensor, ...]] = {}
        #: crops that went through the trunk, and crops that reused a earlier crop's parts
        self.computed = 0
        self.reused = 0

    def parts(self, crops: np.ndarray, sources: Sequence[int], compute: Compute) -> tuple[torch.Tensor, ...]:
        """The parts of every crop ``[n, 224, 224, 3]`` (in the order shown: ``sources[i]`` is
        the source of crop ``i``), computing in one :func:`compute` only those that differ
        from their source's last computed crop."""
        thumbs = thumbnails(crops)
        fresh: list[int] = []  # crops to compute
        take: list[tuple[int, int]] = []  # per crop: (source, index in fresh) or (source, -1): an earlier call's
        latest: dict[int, int] = {}
        for i, (thumb, source) in enumerate(zip(thumbs, sources)):
            anchor = self._thumbs.get(source)
            if anchor is None or self.threshold is None or differences(thumb, anchor) > self.threshold:
                self._thumbs[source] = thumb
                latest[source] = len(fresh)
                fresh.append(i)
            take.append((source, latest.get(source, -1)))
        self.computed += len(fresh)
        self.reused += len(crops) - len(fresh)
        new = self._compute(crops[fresh], compute) if fresh else ()
        old = sorted({s for s, k in take if k < 0})  # sources whose parts come from an earlier call
        rows = [len(old) + k if k >= 0 else old.index(s) for s, k in take]
        count = len(new) if fresh else len(self._parts[old[0]])
        banks = [torch.cat([*(self._parts[s][p] for s in old), *new[p : p + 1]]) for p in range(count)]
        for source, k in latest.items():  # kept apart from the batch, which is let go
            self._parts[source] = tuple(part[k : k + 1].clone() for part in new)
        return tuple(bank[rows] for bank in banks)

    def _compute(self, crops: np.ndarray, compute: Compute) -> tuple[torch.Tensor, ...]:
        """``compute(crops)``, taking the rows the finder's worker computed ahead."""
        if self.ahead is None:
            return compute(crops)
        found = [self.ahead.take(crop) for crop in crops]
        missing = [i for i, f in enumerate(found) if f is None]
        own = compute(crops[missing]) if missing else ()
        rows = [(own, missing.index(i)) if f is None else (f[0].result(), f[1]) for i, f in enumerate(found)]
        return tuple(torch.cat([parts[p][r : r + 1] for parts, r in rows]) for p in range(len(rows[0][0])))
