"""Stage timing: where a separation spends its time, for whoever asks (a no-op by default).

The pipeline marks its stages (:data:`STAGES`) with ``with stage("stft"):`` or, for a
generator, :func:`timed_iter`. Nobody listens unless a caller asks::

    from avsep.timing import StageTotals, report_stages

    totals = StageTotals()
    with report_stages(totals):
        Separator().separate_file("duet.mp4")   # or the CLI: avsep.cli.app.app([...])
    totals.seconds   # {"model load": 1.9, "audio decode": 0.4, "visual trunk": 3.1, ...}

``on_stage(name, seconds)`` is called once per stage run, with its *exclusive* time: a stage
entered inside another (the resampler inside the decoder) pauses the outer one, so the times
add up to the time spent inside stages (within a thread: a separation with a spare core makes
its masks on a second thread, :func:`carried`, and then the two threads' stages together add up
to more than the wall time). Without :func:`report_stages` a stage costs one
context-variable lookup. The state is a :mod:`contextvars` variable, so concurrent separations
in different threads or tasks report to their own listener.

``benchmarks/bench_separate.py`` prints its per-stage table from this hook.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from time import perf_counter
from typing import ParamSpec, TypeVar

_P = ParamSpec("_P")
_R = TypeVar("_R")

#: The stages the pipeline reports, in pipeline order, with what each holds.
STAGES = {
    "model load": "checkpoint + visual trunk construction (Separator.__init__)",
    "find players": "automatic boxes: the finder's frame decode, detection, linking (players.find_players)",
    "audio decode": "demux + decode + downmix of the soundtrack",
    "resample in": "input rate -> 11025 Hz",
    "windowing": "cutting the model-rate stream into overlapping windows",
    "frame decode": "seek + decode + RGB conversion of the guide frames",
    "crop+resize": "box crop, letterbox, antialiased resize to 224x224",
    "visual trunk": "the frozen image network over every crop",
    "stft": "STFT + log-frequency warp of each window",
    "mask net": "the PCN (or SoP) forward pass",
    "mask+istft": "unwarp of the masks, masking, inverse STFT",
    "stitch": "cross-fade overlap-add of the windows",
    "resample out": "11025 Hz -> output rate (band-limited mode only: full band masks at the output rate)",
    "write": "WAV encoding and writing (fsync included)",
    "masks wait": "with a spare core: waiting for the next batch's guides and masks from the second thread",
}

#: ``on_stage(name, seconds)``: one finished stage run and its exclusive seconds.
OnStage = Callable[[str, float], None]


class _Listener:
    """The stages open right now, innermost last: ``[name, resumed_at, seconds so far]``."""

    def __init__(self, on_stage: OnStage) -> None:
        self.on_stage = on_stage
        self.open: list[list] = []

    def enter(self, name: str) -> None:
        now = perf_counter()
        if self.open:
            outer = self.open[-1]
            outer[2] += now - outer[1]
        self.open.append([name, now, 0.0])

    def exit(self) -> None:
        now = perf_counter()
        name, resumed, seconds = self.open.pop()
        if self.open:
            self.open[-1][1] = now
        self.on_stage(name, seconds + now - resumed)


_LISTENER: ContextVar[_Listener | None] = ContextVar("avsep_stage_listener", default=None)


@contextmanager
def report_stages(on_stage: OnStage) -> Iterator[None]:
    """Within this block, every pipeline stage run calls ``on_stage(name, exclusive_seconds)``."""
    token = _LISTENER.set(_Listener(on_stage))
    try:
        yield
    finally:
        _LISTENER.reset(token)


@contextmanager
def stage(name: str) -> Iterator[None]:
    """Mark the block as one run of stage ``name`` (a no-op unless someone listens)."""
    listener = _LISTENER.get()
    if listener is None:
        yield
        return
    listener.enter(name)
    try:
        yield
    finally:
        listener.exit()


def timed_iter(name: str, items: Iterable) -> Iterator:
    """``items``, each ``next()`` timed as a run of stage ``name`` (the consumer's time between
    items is not). Use it for generators, whose body a ``with stage()`` would wrongly hold open
    across their ``yield``\\ s."""
    iterator = iter(items)
    while True:
        listener = _LISTENER.get()
        if listener is None:
            try:
                item = next(iterator)
            except StopIteration:
                return
        else:
            listener.enter(name)
            try:
                item = next(iterator)
            except StopIteration:
                return
            finally:
                listener.exit()
        yield item


def carried(fn: Callable[_P, _R]) -> Callable[_P, _R]:
    """``fn`` for another thread, reporting its stages to this thread's listener: a thread starts
    with no context of its own, so its stages would go unheard, and sharing this thread's open
    stages would mix the two threads' nesting. The other thread gets a listener of its own whose
    finished stages reach the same ``on_stage`` (which is then called from both threads: see
    :class:`StageTotals`). Stages of two threads that run at once both count, so their times add
    up to more than the wall time between them."""
    listener = _LISTENER.get()
    if listener is None:
        return fn

    def run(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        with report_stages(listener.on_stage):
            return fn(*args, **kwargs)

    return run


class StageTotals:
    """A ready ``on_stage``: total exclusive seconds and number of runs per stage."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.calls: dict[str, int] = {}
        self._lock = threading.Lock()  # a separation's second thread reports too (:func:`carried`)

    def __call__(self, name: str, seconds: float) -> None:
        with self._lock:
            self.seconds[name] = self.seconds.get(name, 0.0) + seconds
            self.calls[name] = self.calls.get(name, 0) + 1
