"""``--skip-existing`` for archives that move: a video is known by its content (the digest its
record keeps), so a moved folder, a touched file or a copy without ``cp -p`` is still skipped,
another content at the same path is still refused, both before the video is read; a record
written before the digest keeps the rule of its time (the same path, size and time)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

import avsep.batch.job
import avsep.batch.provenance
from avsep import Separator
from avsep.batch.provenance import ENDS, content_digest
from avsep.boxes.players import AutoBoxesWarning
from tests.cli_support import SMALL, cli, error_line

pytestmark = pytest.mark.usefixtures("fast_model")


@pytest.fixture
def archive(shared_video, tmp_path) -> Path:
    """``archive/day2/x.mp4``, separated once (players searched for) into ``out/x``."""
    folder = tmp_path / "archive" / "day2"
    folder.mkdir(parents=True)
    shutil.copy(shared_video("x.mp4", **SMALL), folder / "x.mp4")
    with pytest.warns(AutoBoxesWarning):  # no player the stand-in trunk knows: strips
        assert Separator(device="cpu").separate_many(folder, tmp_path / "out")[0].status == "ok"
    return folder


@pytest.fixture
def unread(monkeypatch) -> None:
    """The video may be neither probed nor searched for players (the decision comes first)."""

    def never(*args, **kwargs):
        raise AssertionError("the video was read")

    monkeypatch.setattr(avsep.batch.job, "probe", never)
    monkeypatch.setattr(Separator, "plan", never)  # the search: the batch plans through the separator


def outputs(out: Path) -> dict[Path, bytes]:
    """Every file under ``out``, with its bytes: what a skip or a refusal must leave alone."""
    return {p: p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def test_a_moved_archive_is_skipped_saying_where_its_outputs_were_made(archive, tmp_path, unread):
    out, made = tmp_path / "out", outputs(tmp_path / "out")
    moved = tmp_path / "moved"
    shutil.move(archive.parent, moved)
    result = cli("separate", moved / "day2", "-o", out, "--skip-existing")
    old, new = (archive / "x.mp4").resolve(), moved / "day2" / "x.mp4"
    said = f"skipped {new}: its outputs exist (--skip-existing); made from {old}, the same file content"
    assert said in result.stderr, result.stderr
    copied = tmp_path / "copy" / "day2"  # a copy without cp -p: another path and another time
    copied.mkdir(parents=True)
    shutil.copyfile(new, copied / "x.mp4")
    again = Separator(device="cpu").separate_many(copied, out, skip_existing=True)[0]
    assert again.status == "skipped" and f"made from {old}, the same file content" in again.detail, again.detail
    assert outputs(out) == made


def test_a_touched_input_is_skipped(archive, tmp_path, unread):
    video, made = archive / "x.mp4", outputs(tmp_path / "out")
    stat = video.stat()
    os.utime(video, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    again = Separator(device="cpu").separate_many(archive, tmp_path / "out", skip_existing=True)[0]
    assert again.status == "skipped" and again.detail == "its outputs exist (skip_existing)", again.detail
    assert outputs(tmp_path / "out") == made


def test_another_content_at_the_same_path_is_refused_before_the_video_is_read(archive, shared_video, tmp_path, unread):
    video, made = archive / "x.mp4", outputs(tmp_path / "out")
    stat = video.stat()
    shutil.copyfile(shared_video("other.mp4", tones=(300.0, 900.0), **SMALL), video)
    os.utime(video, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # its time put back: the content decides
    result = cli("separate", archive, "-o", tmp_path / "out", "--skip-existing", code=2)
    assert "its outputs exist but they were made with another version of the input file (its content changed)" in (
        error_line(result)
    )
    assert outputs(tmp_path / "out") == made


def test_a_place_made_by_another_input_is_refused_before_the_video_is_read(archive, shared_video, tmp_path, unread):
    """Automatic mode, no --skip-existing: the record in the place says another input made its
    outputs, which is enough to refuse the video before it is probed or searched for players."""
    out, made = tmp_path / "out", outputs(tmp_path / "out")
    other = tmp_path / "other" / "x.mp4"
    other.parent.mkdir()
    shutil.copyfile(shared_video("other.mp4", tones=(300.0, 900.0), **SMALL), other)
    line = error_line(cli("separate", other, "-o", out, code=2))
    assert f"is an output of another video, {(archive / 'x.mp4').resolve()} (by the record beside it)" in line, line
    assert outputs(out) == made


def test_an_old_record_keeps_the_rule_of_its_time(archive, tmp_path, unread):
    """A record without a digest (version 2) proves the same path, size and time only."""
    out, video = tmp_path / "out", archive / "x.mp4"
    record = out / "x" / ".avsep.json"
    old = json.loads(record.read_text())
    del old["input"]["content"]
    record.write_text(json.dumps({**old, "version": 2}))
    made = outputs(out)
    separator = Separator(device="cpu")
    assert separator.separate_many(archive, out, skip_existing=True)[0].status == "skipped"
    os.utime(video)
    touched = separator.separate_many(archive, out, skip_existing=True)[0]
    assert touched.status == "failed" and "another version of the input file (its size or time changed)" in (
        touched.detail
    ), touched.detail
    moved = tmp_path / "moved"
    shutil.move(archive.parent, moved)
    elsewhere = separator.separate_many(moved / "day2", out, skip_existing=True)[0]
    assert elsewhere.status == "failed" and f"made from {video.resolve()}" in elsewhere.detail, elsewhere.detail
    assert outputs(out) == made


def test_the_content_digest_sees_either_end_and_the_size(tmp_path):
    """The digest reads the first and last ENDS bytes: a change at either end, or of the
    length, is another content (an equal-length change in the middle is not: see provenance)."""
    path = tmp_path / "big.bin"
    body = bytearray(os.urandom(2 * ENDS + 1000))
    path.write_bytes(body)
    digest = content_digest(path)
    for change in (0, len(body) - 1):
        changed = bytearray(body)
        changed[change] ^= 0xFF
        path.write_bytes(changed)
        assert content_digest(path) != digest
    path.write_bytes(body[: ENDS + 500] + b"\0" + body[ENDS + 500 :])  # both ends as they were
    assert content_digest(path) != digest
    body[ENDS + 500] ^= 0xFF
    path.write_bytes(body)
    assert content_digest(path) == digest


def test_without_an_output_folder_the_input_is_not_read_for_a_digest(shared_video, monkeypatch):
    """``-o -`` reads and writes no record, so the ends of the input are not hashed for one."""

    def never(video):
        raise AssertionError("the input was hashed")

    monkeypatch.setattr(avsep.batch.provenance, "content_digest", never)
    video = shared_video("x.mp4", **SMALL)
    piped = cli("separate", video, "--boxes", "strips", "--source", "1", "-o", "-", "-q").stdout_bytes
    assert piped[:4] == b"RIFF"
