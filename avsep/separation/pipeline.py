"""A separation's batches in two stages on two cores: the next batch's masks while this one is
inverted and stitched.

The separation's torch work runs on one thread (:data:`~avsep.models.device.INFERENCE_THREADS`:
the same bytes in any process, whatever its threads), so on a 2-core machine one core idled
through the whole separation (issue 30). Its work per batch of windows falls in two halves of
about equal cost: the guides and the masks (frames, visual trunk, STFT, mask network), and what
is made of them (masking, inverse STFT, stitching, then the caller's resampling and writing).
:func:`pipelined` runs the first half of batch ``k + 1`` on a worker thread while the calling
thread does the second half of batch ``k``. Each half still runs on one thread and each batch
sees the same inputs in the same order, so the outputs are the same bit for bit; only the
time changes.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import NamedTuple, TypeVar

import numpy as np

from avsep.heap import HeapWatch
from avsep.separation.fullband import MixtureTap
from avsep.signal.chunking import Window
from avsep.timing import carried, stage

_Item = TypeVar("_Item")
_Half = TypeVar("_Half")
_Out = TypeVar("_Out")


def pipelined(
    items: Iterable[_Item],
    first: Callable[[_Item], _Half],
    second: Callable[[_Item, _Half], Iterator[_Out]],
    ahead: bool,
) -> Iterator[_Out]:
    """``second(item, first(item))`` for each item, in order; with ``ahead``, ``first`` of the
    next item runs on a worker thread while ``second`` of this one runs here. ``items`` is read
    here, one item ahead of ``second``, so an error reading item ``k + 1`` comes before item
    ``k``'s outputs (a file's outputs are written all or nothing). An error of either half is
    raised here, in order. When the consumer stops (or an error stops it), a first half not
    yet started never starts, and one under way is waited for: nothing runs after this ends."""
    if not ahead:
        for item in items:
            yield from second(item, first(item))
        return
    pool = ThreadPoolExecutor(1, thread_name_prefix="avsep-masks")
    try:
        pending: tuple[_Item, Future[_Half]] | None = None
        for item in items:
            job = pool.submit(carried(first), item)
            if pending is not None:
                yield from second(pending[0], _waited(pending[1]))
            pending = (item, job)
        if pending is not None:
            yield from second(pending[0], _waited(pending[1]))
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _waited(job: Future[_Half]) -> _Half:
    """``job``'s result, the time this thread waits for it reported as the stage ``masks wait``."""
    with stage("masks wait"):
        return job.result()


class Batch(NamedTuple):
    """Windows separated together, with what the full band reads of the mixture for them."""

    windows: list[Window]
    mixture: np.ndarray | None  #: ``[B, C, L]`` at the output rate (full band), else None
    end: int  #: output-rate samples decoded when the batch was read (full band), else 0


def batches(windows: Iterable[Window], size: int, tap: MixtureTap | None = None) -> Iterator[Batch]:
    """``size`` windows at a time, each batch with what it needs of the ``tap`` as it stands once
    its windows are read: :func:`pipelined` reads the next batch before this one is stitched,
    and the stitching must see the samples decoded by then, not by the next batch."""
    batch: list[Window] = []
    watch = HeapWatch()  # the heap given back once a batch
    for win in itertools.chain(windows, [None]):
        if win is not None:
            batch.append(win)
        if batch and (win is None or len(batch) == size):
            watch()
            mixture = tap.segments([w.start for w in batch]) if tap else None
            yield Batch(list(batch), mixture, tap.end if tap else 0)
            batch.clear()
