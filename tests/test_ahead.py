"""The guide's trunk work started on the finder's kept crops while it decodes
(avsep/boxes/ahead.py): only crops the separation would compute go ahead, a crop is found again
by its bytes alone, and a separation taking those rows writes the same bytes."""

from __future__ import annotations

import threading
import time
from concurrent.futures import wait
from threading import current_thread

import numpy as np
import pytest
import torch

import avsep.boxes.ahead as ahead_module
from avsep import Separator
from avsep.boxes.ahead import PartsAhead
from avsep.boxes.request import BoxRequest, plan_boxes
from avsep.io import prefetch
from avsep.io.media import probe
from avsep.separation.reuse import CropMemo

LEFT, RIGHT = (0, 0, 10, 10), (10, 0, 20, 10)


class Marks:
    """A stand-in for the trunk's per-crop parts: each crop's mark (pixel [0, 0, 0]) and mean;
    it counts the crops it is given."""

    def __init__(self) -> None:
        self.crops = 0

    def __call__(self, crops: np.ndarray) -> tuple[torch.Tensor, ...]:
        self.crops += len(crops)
        data = torch.from_numpy(crops.astype(np.float32))
        return data[:, 0, 0, 0], data.mean(dim=(1, 2))


def _crop(level: int, mark: int) -> np.ndarray:
    crop = np.full((224, 224, 3), level, np.uint8)
    crop[0, 0, 0] = mark  # far below the sameness threshold, but it tells the crops apart
    return crop


def test_crops_unlike_their_boxes_last_go_ahead_and_are_found_by_their_bytes():
    compute = Marks()
    with PartsAhead(compute) as ahead:
        first, alike, other = _crop(100, 1), _crop(100, 2), _crop(200, 3)
        ahead.offer([(LEFT, first), (LEFT, alike), (RIGHT, _crop(100, 4)), (RIGHT, other)])
    assert ahead.sent == 3  # the left box's second crop looks like its first
    future, row = ahead.take(first.copy())  # found by its bytes, not by which array it is
    assert future.result()[0][row] == 1
    future, row = ahead.take(other)
    assert future.result()[0][row] == 3 and compute.crops == 3
    assert ahead.take(alike) is None and ahead.take(_crop(100, 9)) is None
    assert ahead.taken == 2


def test_a_digest_that_matches_other_bytes_is_not_taken(monkeypatch):
    monkeypatch.setattr(ahead_module, "_digest", lambda crop: b"same")
    with PartsAhead(Marks()) as ahead:
        ahead.offer([(LEFT, _crop(100, 1))])
    assert ahead.take(_crop(100, 2)) is None and ahead.take(_crop(100, 1)) is not None


def test_a_failed_search_drops_the_queue():
    started = []

    def slow(crops: np.ndarray) -> tuple[torch.Tensor, ...]:
        started.append(len(crops))
        time.sleep(0.05)
        return Marks()(crops)

    with pytest.raises(RuntimeError), PartsAhead(slow) as ahead:
        for level in range(0, 250, 10):
            ahead.offer([(LEFT, _crop(level, 0))])
        raise RuntimeError("the finder failed")
    futures = [future for _, future, _ in ahead._rows.values()]
    wait(futures, timeout=10)
    assert all(f.done() for f in futures) and len(started) < 25  # what had not started was dropped
    assert any(f.cancelled() for f in futures) and ahead.take(_crop(240, 0)) is None


def test_one_worker_thread_serves_every_search_and_never_holds_up_the_process():
    for mark in (1, 2):
        with PartsAhead(Marks()) as ahead:
            ahead.offer([(LEFT, _crop(100, mark))])
        future, row = ahead.take(_crop(100, mark))
        assert future.result(timeout=10)[0][row] == mark
    workers = [t for t in threading.enumerate() if t.name == "avsep-ahead"]
    assert len(workers) == 1 and workers[0].daemon


def test_the_memo_takes_the_rows_computed_ahead_and_computes_the_rest():
    with PartsAhead(Marks()) as ahead:
        ahead.offer([(LEFT, _crop(100, 1)), (RIGHT, _crop(200, 2))])
    crops = np.stack([_crop(100, 1), _crop(200, 3), _crop(50, 4)])  # one ahead, two not
    plain, compute = CropMemo(), Marks()
    expected = plain.parts(crops, [0, 1, 2], compute)
    taking, own = CropMemo(ahead=ahead), Marks()
    parts = taking.parts(crops, [0, 1, 2], own)
    assert own.crops == 2 and compute.crops == 3 and ahead.taken == 1
    assert all(torch.equal(a, b) for a, b in zip(parts, expected))


@pytest.mark.usefixtures("fast_model")
def test_automatic_boxes_with_the_trunk_and_sound_run_ahead_write_the_same_bytes(tmp_video, monkeypatch):
    """A video cutting between two pictures: the separation takes the finder's rows and the
    sound decoded meanwhile (avsep/io/prefetch.py), and its outputs are those of a separation
    that computed every crop and decoded the sound itself."""
    green, yellow = (0, 255, 0), (255, 255, 0)
    video = tmp_video(
        "cuts.mp4", duration=14.0, width=96, height=48, fps=10, panels=(green, yellow),
        cuts=[(4.0, (yellow, green)), (9.0, (green, yellow))],
    )  # fmt: skip
    separator, media = Separator(), probe(video)

    decoding = []  # the threads the sound was decoded on
    stream_audio = prefetch.stream_audio
    monkeypatch.setattr(
        prefetch, "stream_audio", lambda *a, **k: decoding.append(current_thread().name) or stream_audio(*a, **k)
    )

    def separated(ahead: bool) -> tuple[np.ndarray, PartsAhead | None]:
        request = BoxRequest.from_api(None, sources=2)
        if ahead:  # what every command does: the sound and the trunk start during the search
            plan = separator.plan(request, media)
        else:
            plan = plan_boxes(request, media, separator.player_finder, overlap=separator.overlap)
        return np.concatenate(list(separator.stream(media, plan).blocks), axis=-1), plan.ahead

    own, none = separated(ahead=False)
    taken, ahead = separated(ahead=True)
    assert none is None and ahead is not None
    assert ahead.sent >= 2 and ahead.taken >= 2  # the cuts were computed ahead and taken
    assert np.array_equal(own, taken)
    assert decoding == ["MainThread", "avsep-audio-ahead"]
