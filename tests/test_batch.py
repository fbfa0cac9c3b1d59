"""The batch rules from Python (``Separator.separate_many``, :mod:`avsep.batch.job`): the same
folders, names, skip/overwrite and atomic writes as ``avsep separate`` (tested in test_cli*)."""

from __future__ import annotations

import os
import queue
import shutil
import time
from pathlib import Path

import pytest
import torch

from avsep import Separator
from avsep.batch import workers
from avsep.batch.job import find_videos, output_names
from avsep.boxes.request import FIND, GIVEN, STRIPS, BoxRequest
from avsep.errors import InputError
from tests.cli_support import SMALL, wavs

pytestmark = pytest.mark.usefixtures("fast_model")

BOXES = [(0, 0, 32, 48), (32, 0, 64, 48)]


def test_separate_many_walks_folders_and_names_outputs(shared_video, tmp_path):
    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    shutil.copy(shared_video("clip.mp4", **SMALL), folder / "sub" / "duet.mp4")
    (folder / "notes.txt").write_text("not a video")
    empty = tmp_path / "empty"
    empty.mkdir()
    separator = Separator(device="cpu")

    out = tmp_path / "out"
    outcomes = separator.separate_many([folder, empty], out, BOXES, names=["left", "right"])
    assert [(o.video, o.status) for o in outcomes] == [(empty, "failed"), (folder / "sub" / "duet.mp4", "ok")]
    assert "folder holds no video files" in outcomes[0].detail and isinstance(outcomes[0].error, InputError)
    assert sorted(wavs(out)) == ["sub/duet/left.wav", "sub/duet/right.wav"]  # the input tree, mirrored

    again = separator.separate_many(folder, out, BOXES, names=["left", "right"])
    assert again[0].status == "failed"
    assert "already exists; pass overwrite to replace it or skip_existing" in again[0].detail  # the API's words
    skipped = separator.separate_many(folder, out, BOXES, names=["left", "right"], skip_existing=True)
    assert skipped[0].status == "skipped"
    replaced = separator.separate_many(
        folder, out, "strips", template="{index}-{name}.{ext}", overwrite=True, residual=True
    )
    assert replaced[0].status == "ok"
    flat = ["sub/1-source1.wav", "sub/2-source2.wav", "sub/3-residual.wav"]
    assert sorted(wavs(out)) == [*flat, "sub/duet/left.wav", "sub/duet/right.wav"]


def test_bad_arguments_fail_before_any_video_is_read(tmp_path):
    separator = Separator(device="cpu")
    with pytest.raises(InputError, match="contradict"):
        separator.separate_many(tmp_path, tmp_path, BOXES, skip_existing=True, overwrite=True)
    with pytest.raises(InputError, match="names for 2 boxes"):
        separator.separate_many(tmp_path, tmp_path, BOXES, names=["solo"])
    with pytest.raises(InputError, match="give boxes, 'auto' or 'strips'"):
        separator.separate_many(tmp_path, tmp_path, "left half")


def test_the_rules_alone(tmp_path):
    (tmp_path / "a.mkv").write_bytes(b"")
    assert find_videos([tmp_path]) == ([tmp_path / "a.mkv"], [])
    assert output_names(2, None, residual=True) == ["source1", "source2", "residual"]
    with pytest.raises(InputError, match="must differ"):
        output_names(2, ["a", "a"], residual=False)
    assert BoxRequest.from_api("auto").kind == BoxRequest.from_api(None).kind == FIND
    assert BoxRequest.from_api("strips").kind == STRIPS and BoxRequest.from_api("strips").count == 2
    given = BoxRequest.from_api(BOXES)
    assert given.kind == GIVEN and given.plan.boxes == BOXES and given.count == 2
    assert BoxRequest.from_api(None, names=["a", "b", "c"]).count == 3  # three names: three players


def test_a_worker_whose_batch_is_already_gone_takes_nothing_and_ends(monkeypatch):
    """A worker that starts after its batch process died (before the death signal was armed)
    must end at once: reading its parent then would adopt the new one and wait forever."""
    monkeypatch.setattr(workers, "_die_with_parent", lambda: None)  # not on the test process
    tasks, events = queue.Queue(), queue.Queue()
    tasks.put((0, Path("never.mp4")))
    start = time.monotonic()
    gone = -1  # the pid the batch process gave; the worker's parent is now another
    assert os.getppid() != gone
    workers._work(0, None, None, torch.get_num_threads(), tasks, events, gone)
    assert time.monotonic() - start < 1.0
    assert tasks.qsize() == 1 and events.empty()


def test_a_failed_outcome_keeps_the_exception_without_its_traceback():
    """Its traceback's frames would keep the failed video's plan (kept crops, trunk rows) alive
    for the rest of the batch."""
    from avsep.batch.job import failure

    try:
        raise InputError("x.mp4: no such file")
    except InputError as exc:
        outcome = failure(Path("x.mp4"), exc)
    assert isinstance(outcome.error, InputError) and outcome.error.__traceback__ is None
    assert (outcome.status, outcome.detail, outcome.exit_code) == ("failed", "x.mp4: no such file", 2)
