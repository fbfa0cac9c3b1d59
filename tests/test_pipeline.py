"""A separation's two halves on two threads (avsep/separation/pipeline.py): the next batch's masks
are made while this one's are applied, in order, errors where they belong, and a separation run
that way writes the bytes of one that is not."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator

import numpy as np
import pytest
import torch

import avsep.separation.engine as engine_module
from avsep import Separator
from avsep.models.device import spare_core
from avsep.separation.pipeline import batches, pipelined
from avsep.signal.chunking import Window
from avsep.timing import StageTotals, report_stages, stage


def _twice(item: int, half: int) -> Iterator[int]:
    yield item
    yield half


@pytest.mark.parametrize("ahead", [False, True])
def test_the_halves_give_every_item_in_order(ahead):
    firsts = []

    def first(item: int) -> int:
        firsts.append(threading.current_thread().name)
        return item * 10

    assert list(pipelined(range(4), first, _twice, ahead)) == [0, 0, 1, 10, 2, 20, 3, 30]
    assert all(name.startswith("avsep-masks") for name in firsts) == ahead


def test_the_next_items_first_half_runs_while_this_ones_second_half_does():
    """The second half of item 0 waits for the first half of item 1 to have started: without a
    worker it would wait forever (here: the timeout fails the test)."""
    started = {1: threading.Event()}

    def first(item: int) -> int:
        if item in started:
            started[item].set()
        return item

    def second(item: int, half: int) -> Iterator[int]:
        if item == 0:
            assert started[1].wait(timeout=10)
        yield half

    assert list(pipelined(range(3), first, second, ahead=True)) == [0, 1, 2]


@pytest.mark.parametrize("failing", ["first", "second"])
def test_an_error_of_either_half_is_raised_in_order(failing):
    def first(item: int) -> int:
        if failing == "first" and item == 2:
            raise ValueError("first half of 2")
        return item

    def second(item: int, half: int) -> Iterator[int]:
        if failing == "second" and item == 2:
            raise ValueError("second half of 2")
        yield half

    got = []
    with pytest.raises(ValueError, match=f"{failing} half of 2"):
        for value in pipelined(range(5), first, second, ahead=True):
            got.append(value)
    assert got == [0, 1]


def test_a_consumer_that_stops_early_starts_nothing_more():
    done = []

    def first(item: int) -> int:
        done.append(item)
        return item

    stream = pipelined(range(100), first, _twice, ahead=True)
    assert next(stream) == 0
    stream.close()  # item 1's first half, submitted: finished if under way, else never started
    assert done in ([0], [0, 1])


class _Interrupted(Exception):
    pass


def test_a_first_half_still_queued_when_an_interrupt_stops_the_stream_never_runs():
    """An interrupt (here an alarm) while item 1's first half is under way and item 2's is queued
    behind it: item 1's is waited for, item 2's never runs, and no worker is left."""
    done = []

    def first(item: int) -> int:
        if item == 1:
            time.sleep(1.0)
        done.append(item)
        return item

    def interrupt(*_: object) -> None:
        raise _Interrupted

    previous = signal.signal(signal.SIGALRM, interrupt)
    try:
        stream = pipelined(range(100), first, _twice, ahead=True)
        assert [next(stream), next(stream)] == [0, 0]  # item 1's first half is under way
        signal.setitimer(signal.ITIMER_REAL, 0.3)
        with pytest.raises(_Interrupted):
            next(stream)  # reads item 2, queues its first half, waits for item 1's
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert done == [0, 1]
    assert not [t for t in threading.enumerate() if t.name.startswith("avsep-masks")]


def test_the_workers_stages_reach_the_callers_listener():
    def first(item: int) -> int:
        with stage("mask net"):
            return item

    def second(item: int, half: int) -> Iterator[int]:
        with stage("mask+istft"):
            yield half

    totals = StageTotals()
    with report_stages(totals):
        assert list(pipelined(range(3), first, second, ahead=True)) == [0, 1, 2]
    assert totals.calls == {"mask net": 3, "mask+istft": 3, "masks wait": 3}  # waits: the caller's
    alone = StageTotals()
    with report_stages(alone):
        assert list(pipelined(range(3), first, second, ahead=False)) == [0, 1, 2]
    assert alone.calls == {"mask net": 3, "mask+istft": 3}


class _Tap:
    """A stand-in for the full band's mixture tap: it has decoded up to the last window read."""

    def __init__(self) -> None:
        self.end = 0

    def segments(self, starts: list[int]) -> np.ndarray:
        return np.array(starts, np.float32)[:, None, None]


def test_batches_carry_the_tap_as_it_stood_when_their_windows_were_read():
    tap = _Tap()

    def windows() -> Iterator[Window]:
        for i in range(5):
            tap.end = (i + 1) * 100
            yield Window(i, i * 100, 100, np.zeros(1, np.float32))

    got = list(batches(windows(), 2, tap))
    assert [[w.index for w in b.windows] for b in got] == [[0, 1], [2, 3], [4]]
    assert [b.end for b in got] == [200, 400, 500]
    assert got[1].mixture.ravel().tolist() == [200.0, 300.0]
    assert [b.mixture for b in batches(windows(), 3)] == [None, None]


def test_a_spare_core_is_a_cpu_with_two_threads_or_more():
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        assert spare_core(torch.device("cpu")) and not spare_core(torch.device("cuda"))
        torch.set_num_threads(1)  # a --jobs worker with one core
        assert not spare_core(torch.device("cpu"))
    finally:
        torch.set_num_threads(threads)


@pytest.mark.usefixtures("fast_model")
def test_a_separation_stopped_early_ends_its_worker_before_its_video_reader_closes(tmp_video, monkeypatch):
    """The stream of blocks closed after its first: the worker thread reading frames for the next
    batch must be gone before the reader it reads from is closed (a container closed under a
    decoding thread)."""
    monkeypatch.setattr(engine_module, "spare_core", lambda device: True)
    at_close = []

    class Reader(engine_module.FrameReader):
        def close(self) -> None:
            at_close.append([t.name for t in threading.enumerate() if t.name.startswith("avsep-masks")])
            super().close()

    monkeypatch.setattr(engine_module, "FrameReader", Reader)
    video = tmp_video("long.mp4", duration=12.0, width=64, height=32, fps=8)
    separator = Separator(batch_size=1)
    stream = separator.stream_file(video, [(0, 0, 32, 32), (32, 0, 64, 32)])
    blocks = iter(stream.blocks)
    next(blocks)
    blocks.close()
    assert at_close and at_close[-1] == []


@pytest.mark.usefixtures("fast_model")
@pytest.mark.parametrize(
    "full_band, boxes, options",
    [
        (True, [(0, 0, 32, 32), (32, 0, 64, 32)], {}),
        (False, [(0, 0, 32, 32), (32, 0, 64, 32)], {}),
        (True, None, {"sources": 2}),  # automatic: the finder's kept crops and its trunk work ahead
        (True, [(0, 0, 32, 32), (32, 0, 64, 32)], {"same_instrument": "motion"}),  # the motion reader
    ],
)
def test_a_separation_on_two_threads_writes_the_same_bytes(tmp_video, monkeypatch, full_band, boxes, options):
    """Batches of one window, so that the stream is many batches long, with the residual."""
    green = (0, 255, 0)
    video = tmp_video("duet.mp4", duration=9.0, width=64, height=32, fps=8, panels=(green, green, (255, 0, 255)))
    motion = {"same_instrument": options.pop("same_instrument")} if "same_instrument" in options else {}
    separator = Separator(batch_size=1, full_band=full_band, **motion)
    outputs = {}
    for ahead in (False, True):
        monkeypatch.setattr(engine_module, "spare_core", lambda device, ahead=ahead: ahead)
        result = separator.separate_file(video, boxes, residual=True, **options)
        outputs[ahead] = np.concatenate([result.sources, result.residual[None]])
    assert outputs[True].shape == outputs[False].shape and outputs[True].shape[0] == 3
    assert np.array_equal(outputs[True], outputs[False])
