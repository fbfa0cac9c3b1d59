"""The guide's trunk work on the finder's kept crops, done while the finder is still decoding.

In automatic mode the finder runs first and the separation after it, and on a video whose
picture changes (a music video cutting every 2 s, issue 30) the separation's visual trunk is
its largest stage: 1.6 of a 5.2-s run, on one core. The finder leaves half a core idle (it runs
at 1.4-1.6 of 2), and the crops the separation will send through the trunk are, most likely,
the very crops the finder keeps for it (:mod:`avsep.boxes.kept`). So the separation hands the
finder its ``compute`` (the trunk's per-crop parts, on its inference threads), and
:class:`PartsAhead` runs it on a worker thread as each shot's crops are kept; the separation
then takes those rows instead of computing them (:class:`avsep.separation.reuse.CropMemo`).

Only crops the separation would compute are sent ahead: a crop whose box's last one sent looks
the same (:data:`~avsep.boxes.shown.SAME_PICTURE`) is left out, as the separation's memo would
reuse the earlier one. A crop is found again by its bytes (a digest, then compared whole), so
a wrong row can never be taken: a miss is computed in place, as without this module. Each row
depends on its crop alone, so the outputs are the same bit for bit (tested).
"""

from __future__ import annotations

import atexit
import hashlib
import queue
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from typing import Any

import numpy as np

from avsep.boxes.box import Box
from avsep.boxes.shown import SAME_PICTURE, differences, thumbnails

#: ``compute(crops [n, 224, 224, 3] uint8) -> parts``: tensors whose row ``i`` is crop ``i``'s
Compute = Callable[[np.ndarray], tuple[Any, ...]]

#: a row computed ahead: the batch being computed and the crop's row in it
Ahead = tuple[Future, int]


def _digest(crop: np.ndarray) -> bytes:
    return hashlib.blake2b(np.ascontiguousarray(crop).data, digest_size=16).digest()


class _Worker:
    """One daemon thread for every search's trunk work, started on first use and never ended.
    A thread that ends, or computes, while the interpreter ends aborts the process ("terminate
    called without an active exception", exit 134: one run in three of a script that searched
    and left, with a thread per search); an idle one blocked on its queue does not. So at exit
    (:func:`_stop`) the queue is dropped and only the batch being computed is waited for."""

    def __init__(self) -> None:
        self.queue: queue.SimpleQueue[tuple[PartsAhead, Future, np.ndarray]] = queue.SimpleQueue()
        self.busy = threading.Lock()  # held while a batch is computed
        self.ending = False
        threading.Thread(target=self._serve, name="avsep-ahead", daemon=True).start()

    def _serve(self) -> None:
        while True:
            owner, future, crops = self.queue.get()
            with self.busy:
                if self.ending or owner.closed:
                    future.cancel()
                elif future.set_running_or_notify_cancel():
                    try:
                        future.set_result(owner.compute(crops))
                    except BaseException as exc:  # handed to whoever takes the rows
                        future.set_exception(exc)
            del owner, future, crops  # nothing kept alive while idle


_WORKER: _Worker | None = None
_STARTING = threading.Lock()


def _worker() -> _Worker:
    global _WORKER
    with _STARTING:
        if _WORKER is None:
            _WORKER = _Worker()
        return _WORKER


@atexit.register
def _stop() -> None:
    """Before the interpreter ends: drop what is queued, wait for the batch being computed."""
    if _WORKER is not None:
        _WORKER.ending = True
        with _WORKER.busy:
            pass


class PartsAhead:
    """``compute`` run on a worker thread (:class:`_Worker`) over the crops :meth:`offer` is
    given, for the separation to :meth:`take`; a context manager, left once nothing more will be
    offered (dropping what has not started if the search failed). :meth:`close` drops it too,
    once the separation needs no more rows."""

    def __init__(self, compute: Compute, threshold: float = SAME_PICTURE) -> None:
        self.compute = compute
        self._threshold = threshold
        self.closed = False
        self._anchors: dict[Box, np.ndarray] = {}  # per box, the thumbnail of its last crop sent
        self._rows: dict[bytes, tuple[np.ndarray, Future, int]] = {}
        #: crops sent ahead, and crops the separation took from them
        self.sent = 0
        self.taken = 0

    def offer(self, crops: Iterable[tuple[Box, np.ndarray]]) -> None:
        """Kept crops of a shot, with their boxes, in the order the separation will read them:
        those unlike their box's last crop sent go to the worker, as one batch."""
        batch: list[tuple[bytes, np.ndarray]] = []
        for box, crop in crops:
            thumb = thumbnails(crop[None])[0]
            anchor = self._anchors.get(box)
            if anchor is not None and differences(thumb, anchor) <= self._threshold:
                continue
            self._anchors[box] = thumb
            digest = _digest(crop)
            if digest not in self._rows and all(d != digest for d, _ in batch):
                batch.append((digest, crop))
        if batch:
            future: Future = Future()
            _worker().queue.put((self, future, np.stack([crop for _, crop in batch])))
            for row, (digest, crop) in enumerate(batch):
                self._rows[digest] = (crop, future, row)
            self.sent += len(batch)

    def take(self, crop: np.ndarray) -> Ahead | None:
        """Where ``crop``'s parts are being computed, or None when it was not sent ahead."""
        found = self._rows.get(_digest(crop))
        if found is None or (self.closed and not found[1].done()) or found[1].cancelled():
            return None  # never sent, or dropped (the plan separated again: computed in place)
        if not np.array_equal(found[0], crop):
            return None
        self.taken += 1
        return found[1], found[2]

    def __enter__(self) -> PartsAhead:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        """Nothing more will be offered; when the search failed, what has not started is dropped."""
        if kind is not None:
            self.close()

    def close(self) -> None:
        """No more rows will be taken: what has not started is dropped."""
        self.closed = True
