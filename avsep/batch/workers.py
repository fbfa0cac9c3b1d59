"""``--jobs N``: a batch spread over N local worker processes.

One video is one job (:func:`avsep.batch.job.run_file`, also what a Ray task runs, :mod:`avsep.batch.cluster`). The
workers are started with ``spawn`` (torch and fork do not mix) and each receives the loaded
:class:`~avsep.separation.separator.Separator` once, then takes videos from one shared queue until it is
empty; each runs torch on ``cores // N`` threads, so N workers together fill the cores instead
of fighting over them. They report back on one event queue: which file each is on, its window
progress, and the :class:`~avsep.batch.job.Outcome` of each file. The batch rules (names, claims,
skip/overwrite, provenance, atomic writes) are those of :meth:`BatchJob.separate_one`, so the
outputs are the ones a one-process run writes, byte for byte.

A worker that dies (killed, out of memory) fails the file it was on, with the reason, and a
fresh worker takes its place; Ctrl-C stops every worker, each removing its partial files.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import queue
import signal
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from avsep.batch.cluster import run_on_ray
from avsep.batch.job import BatchJob, Outcome, run_file
from avsep.batch.streams import Streams
from avsep.errors import AvsepError


class Listener(Protocol):
    """What a parallel run tells the display about its workers (:class:`avsep.progress.WorkersProgress`)."""

    def start_file(self, slot: int, video: Path) -> None: ...

    def set_windows(self, slot: int, total: int, description: str | None = None) -> None: ...

    def window(self, slot: int, done: int, total: int) -> None: ...


class _Quiet:
    """A :class:`Listener` that shows nothing (the Python API)."""

    def start_file(self, slot: int, video: Path) -> None:
        pass

    def set_windows(self, slot: int, total: int, description: str | None = None) -> None:
        pass

    def window(self, slot: int, done: int, total: int) -> None:
        pass


def cores() -> int:
    """CPU cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def threads_per_job(jobs: int) -> int:
    """Torch threads for each of ``jobs`` workers so that together they fit the cores."""
    return max(1, cores() // max(1, jobs))


class _Relay(logging.Handler):
    """A worker's :class:`avsep.batch.job.Progress`: forwards the window counts to the parent,
    and its warnings, Python's and avsep's logged ones (a stream that ends early), which the
    parent says as its own."""

    def __init__(self, slot: int, events: mp.Queue) -> None:
        super().__init__(logging.WARNING)
        self.slot, self.events = slot, events

    def set_windows(self, total: int, description: str | None = None) -> None:
        self.events.put(("windows", self.slot, total, description))

    def window(self, done: int, total: int) -> None:
        self.events.put(("window", self.slot, done, total))

    def warn(self, message: Warning | str, category: type[Warning], *_: object, **__: object) -> None:
        """``warnings.showwarning`` of the worker: the warning goes to the parent, which shows it
        as its own (one ``warning:`` line, not Python's two lines with the source, and not
        written over the progress bars)."""
        self.events.put(("warn", self.slot, str(message), category))

    def emit(self, record: logging.LogRecord) -> None:
        """A logged warning of the worker: to the parent's ``avsep`` logger (no category)."""
        self.events.put(("warn", self.slot, record.getMessage(), None))


def _die_with_parent() -> None:
    """Have Linux kill this worker when the batch process dies (``kill -9`` included): an
    orphan would sit on its claims, blocking the re-run. Elsewhere the queue polling notices."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _next(tasks: mp.Queue, parent: int) -> tuple[int, Path] | None:
    """The next video, or None at the end of the queue or when the batch process is gone."""
    while os.getppid() == parent:
        try:
            return tasks.get(timeout=1.0)
        except queue.Empty:
            continue
    return None


def _work(
    slot: int, job: BatchJob, separator: Streams, threads: int, tasks: mp.Queue, events: mp.Queue, parent: int
) -> None:
    """A worker's life: videos from ``tasks`` until ``None``, outcomes to ``events``.

    ``parent`` is the batch process's pid as the batch process gave it: a worker that starts
    after its batch died (before the death signal was armed) sees another parent at once and
    ends, where reading its parent here would adopt the new one and wait on the queue forever."""
    import torch

    _die_with_parent()
    torch.set_num_threads(threads)
    relay = _Relay(slot, events)
    warnings.showwarning = relay.warn
    log = logging.getLogger("avsep")
    log.addHandler(relay)
    log.propagate = False  # said once, by the parent
    try:
        while (item := _next(tasks, parent)) is not None:
            index, video = item
            events.put(("start", slot, index, video))
            events.put(("done", slot, index, run_file(job, separator, video, relay)))
    except KeyboardInterrupt:
        pass  # the files in progress removed their temporary files on the way out


def run_parallel(job: BatchJob, separator: Streams, jobs: int, listener: Listener) -> Iterator[tuple[int, Outcome]]:
    """Run ``job.videos`` on ``jobs`` worker processes; yields ``(index, outcome)`` as files
    finish (any order). Ctrl-C (KeyboardInterrupt) stops and cleans up every worker."""
    ctx = mp.get_context("spawn")
    tasks: mp.Queue = ctx.Queue()
    events: mp.Queue = ctx.Queue()
    for item in enumerate(job.videos):
        tasks.put(item)
    count = min(jobs, len(job.videos))
    for _ in range(count):
        tasks.put(None)
    threads = threads_per_job(count)

    def start(slot: int) -> mp.Process:
        p = ctx.Process(target=_work, args=(slot, job, separator, threads, tasks, events, os.getpid()), daemon=True)
        p.start()
        return p

    workers = {slot: start(slot) for slot in range(count)}
    current: dict[int, int] = {}  # slot -> index of the file it is on
    restarts = 0
    left = len(job.videos)
    try:
        while left:
            try:
                kind, slot, *rest = events.get(timeout=0.5)
            except queue.Empty:
                for slot, p in list(workers.items()):
                    if p.exitcode not in (None, 0) and slot not in current:  # died between files
                        restarts += 1
                        if restarts > 2 * count:
                            raise AvsepError(f"worker processes keep dying ({_death(p.exitcode)}); try --jobs 1")
                        workers[slot] = start(slot)
                    elif p.exitcode not in (None, 0):
                        index = current.pop(slot)
                        video = job.videos[index]
                        reason = f"{video}: its worker process died ({_death(p.exitcode)}); run it again"
                        left -= 1
                        yield index, Outcome(video, "failed", reason, 1, AvsepError(reason))
                        workers[slot] = start(slot)  # takes the end-of-queue mark the dead one left
                continue
            if kind == "start":
                current[slot] = rest[0]
                listener.start_file(slot, rest[1])
            elif kind == "windows":
                listener.set_windows(slot, *rest)
            elif kind == "window":
                listener.window(slot, *rest)
            elif kind == "warn" and rest[1] is None:
                logging.getLogger("avsep").warning(rest[0])
            elif kind == "warn":
                warnings.warn(rest[0], rest[1], stacklevel=1)
            else:
                current.pop(slot, None)
                left -= 1
                yield rest[0], rest[1]
    finally:
        _stop(list(workers.values()))


def _death(exitcode: int) -> str:
    if exitcode < 0:
        name = signal.Signals(-exitcode).name
        return f"killed by {name}" + (", maybe out of memory" if name == "SIGKILL" else "")
    return f"exit code {exitcode}"


def _stop(workers: list[mp.Process]) -> None:
    """End the workers: those still busy (Ctrl-C, an error here) get SIGINT, so they drop their
    partial files, then are terminated if they do not leave."""
    for p in workers:
        p.join(timeout=0.5)
    for p in workers:
        if p.is_alive():
            os.kill(p.pid, signal.SIGINT)
    for p in workers:
        p.join(timeout=10)
        if p.is_alive():
            p.terminate()
            p.join()


def spread(job: BatchJob, separator: Streams, listener: Listener | None = None) -> Iterator[tuple[int, Outcome]]:
    """The batch on ``job.options.jobs`` local workers, or on the Ray cluster at its ``ray``
    (``--ray``): ``(index in job.videos, outcome)`` as files finish."""
    options = job.options
    if options.ray is not None:
        return run_on_ray(job, separator, options.ray, options.gpus_per_job)
    return run_parallel(job, separator, options.jobs, listener or _Quiet())
