"""Batches of archives: the input tree mirrored under -o, provenance records that make
``--skip-existing`` safe, claims and stale temporary files, the JSON report, ``--jobs``."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from avsep import Separator
from avsep.batch.claims import marker
from avsep.batch.report import LeftoverRemovedWarning
from avsep.batch.run import separate_paths
from avsep.errors import InputError
from tests.cli_support import SINGLE_THREAD, SMALL, cli, cli_command, cli_process, wavs
from tests.media import truncated_copy

pytestmark = pytest.mark.usefixtures("fast_model")

BOXES = [(0, 0, 32, 48), (32, 0, 64, 48)]


@pytest.fixture
def tree(shared_video, tmp_path):
    """``concert/day1/x.mp4`` and ``concert/day2/x.mp4``: equal names, different sounds."""
    root = tmp_path / "concert"
    for day, tones in (("day1", (440.0, 660.0)), ("day2", (300.0, 900.0))):
        (root / day).mkdir(parents=True)
        shutil.copy(shared_video(f"{day}.mp4", tones=tones, **SMALL), root / day / "x.mp4")
    return root


def test_a_tree_with_repeated_names_writes_every_video_its_own_outputs(tree, tmp_path):
    out = tmp_path / "out"
    outcomes = Separator(device="cpu").separate_many(tree, out, BOXES)
    assert [o.status for o in outcomes] == ["ok", "ok"]
    assert sorted(wavs(out)) == ["day1/x/source1.wav", "day1/x/source2.wav", "day2/x/source1.wav", "day2/x/source2.wav"]
    assert (out / "day1/x/source1.wav").read_bytes() != (out / "day2/x/source1.wav").read_bytes()
    again = Separator(device="cpu").separate_many(tree, out, BOXES, skip_existing=True)
    assert [o.status for o in again] == ["skipped", "skipped"]


def test_skip_existing_never_skips_outputs_it_did_not_make(tree, tmp_path):
    out = tmp_path / "out"
    separator = Separator(device="cpu")
    day1, day2 = tree / "day1" / "x.mp4", tree / "day2" / "x.mp4"
    assert separator.separate_many(day1, out, BOXES)[0].status == "ok"  # out/x/ holds day1's
    made = {p: p.read_bytes() for p in (out / "x").glob("*.wav")}

    other = separator.separate_many(day2, out, BOXES, skip_existing=True)[0]
    assert other.status == "failed" and f"made from {day1.resolve()}" in other.detail
    options = separator.separate_many(day1, out, BOXES, skip_existing=True, fmt="float")[0]
    assert options.status == "failed" and "made with other options" in options.detail
    (out / "x" / ".avsep.json").unlink()  # files some other tool put there
    foreign = separator.separate_many(day1, out, BOXES, skip_existing=True)[0]
    assert foreign.status == "failed" and "no record says which video made them" in foreign.detail
    assert {p: p.read_bytes() for p in (out / "x").glob("*.wav")} == made  # nothing touched


def test_a_rerun_replaces_the_outputs_its_record_lists_and_nothing_else(tree, tmp_path):
    """Named once, named otherwise the next time: the re-run's folder holds its own outputs
    only (the last run's, listed by the video's record, are removed), and files the record
    does not list stay; without --overwrite the last run's outputs stop it."""
    out = tmp_path / "out"
    separator = Separator(device="cpu")
    video = tree / "day1" / "x.mp4"
    assert separator.separate_many(video, out, BOXES, names=["guitar", "saxophone"])[0].status == "ok"
    (out / "x" / "notes.wav").write_bytes(b"mine")  # the user's own file, in the same folder
    stopped = separator.separate_many(video, out, BOXES)[0]
    assert stopped.status == "failed" and "guitar.wav already exists" in stopped.detail, stopped.detail
    again = separator.separate_many(video, out, BOXES, overwrite=True)[0]
    assert again.status == "ok", again.detail
    assert sorted(p.name for p in (out / "x").iterdir()) == [".avsep.json", "notes.wav", "source1.wav", "source2.wav"]
    assert any("removed" in n and "guitar.wav" in n for n in again.notes), again.notes
    day2 = tree / "day2" / "x.mp4"
    mixed = separator.separate_many(day2, out, BOXES, names=["a", "b"])[0]
    assert mixed.status == "failed" and f"is an output of another video, {video.resolve()}" in mixed.detail
    other = separator.separate_many(day2, out, BOXES, names=["a", "b"], overwrite=True)[0]
    assert other.status == "ok"  # another video's record in its place: overwrite replaces that video's outputs
    assert sorted(p.name for p in (out / "x").iterdir()) == [".avsep.json", "a.wav", "b.wav", "notes.wav"]


def test_skip_existing_decides_from_the_record_before_reading_the_video(shared_video, tmp_path, monkeypatch):
    """Players found (their names name the outputs): a re-run with --skip-existing neither
    probes nor decodes the video nor searches it again."""
    import avsep.batch.job

    video = shared_video("clip.mp4", **SMALL)
    out = tmp_path / "out"
    separator = Separator(device="cpu")
    assert separator.separate_many(video, out)[0].status == "ok"

    def never(*args, **kwargs):
        raise AssertionError("the video was read again")

    monkeypatch.setattr(avsep.batch.job, "probe", never)
    monkeypatch.setattr(Separator, "plan", never)  # the search: the batch plans through the separator
    again = separator.separate_many(video, out, skip_existing=True)[0]
    assert again.status == "skipped", again.detail
    (out / video.stem / "source1.wav").unlink()  # a set cut short is completed, not skipped
    assert separator.separate_many(video, out, skip_existing=True)[0].status == "failed"  # it reads


def test_report_records_each_input_and_a_rerun_resumes(tree, tmp_path):
    out, report = tmp_path / "out", tmp_path / "report.json"
    (tmp_path / "broken.mp4").write_bytes(b"not a video")
    separator = Separator(device="cpu")
    separator.separate_many(tree / "day1", out / "day1", BOXES, names=["a", "b"])  # "interrupted" after day1
    outcomes = separate_paths(
        separator, [tree, tmp_path / "broken.mp4"], out, BOXES, names=["a", "b"], skip_existing=True, report=report
    )
    assert [o.status for o in outcomes] == ["skipped", "ok", "failed"]
    data = json.loads(report.read_text())
    assert (data["inputs"], data["written"], data["skipped"], data["failed"]) == (3, 1, 1, 1)
    skipped, written, failed = data["files"]
    assert skipped["status"] == "skipped" and skipped["outputs"][0]["path"] == str(out / "day1/x/a.wav")
    assert written["input"] == str(tree / "day2" / "x.mp4") and written["names"] == ["a", "b"]
    assert [o["path"] for o in written["outputs"]] == [str(out / "day2/x/a.wav"), str(out / "day2/x/b.wav")]
    assert all(o["sample_rate"] == 44100 and abs(o["duration"] - 3.0) < 0.05 for o in written["outputs"])
    assert [b["box"] for b in written["boxes"]] == [list(b) for b in BOXES] and written["seconds"] > 0
    assert failed["status"] == "failed" and "broken.mp4" in failed["reason"] and "\n" not in failed["reason"]


def test_stale_temporaries_are_removed_and_live_claims_respected(tree, tmp_path):
    out = tmp_path / "out"
    video = tree / "day1" / "x.mp4"
    target = out / "x" / "source1.wav"
    target.parent.mkdir(parents=True)
    stale = target.parent / ".source1.wav.k2j3h4.tmp"
    stale.write_bytes(b"RIFF half a file")
    marker(target).write_text(json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "input": "other.mp4"}))

    held = Separator(device="cpu").separate_many(video, out, BOXES)[0]
    assert held.status == "failed" and "being written by another run" in held.detail and "other.mp4" in held.detail
    assert stale.exists()  # not ours to remove while the other run lives

    dead = subprocess.Popen(["true"])
    dead.wait()
    marker(target).write_text(json.dumps({"pid": dead.pid, "host": socket.gethostname(), "input": "other.mp4"}))
    taken = Separator(device="cpu").separate_many(video, out, BOXES)[0]
    assert taken.status == "ok"
    assert any("took over the claim" in n for n in taken.notes) and any(str(stale) in n for n in taken.notes)
    assert sorted(wavs(out)) == ["x/source1.wav", "x/source2.wav"]  # no temporary file, no marker


def test_the_cli_reports_removed_leftovers_and_writes_the_report(tree, tmp_path):
    out = tmp_path / "out"
    stale = out / "day1" / "x" / ".source1.wav.abc.tmp"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"")
    half_report = tmp_path / ".r.json.x7q2.tmp"  # a kill -9 while the report was rewritten
    half_report.write_bytes(b'{"inputs": 2, "fin')
    result = cli("separate", tree, "-o", out, "-b", "0,0,32,48", "32,0,64,48", "--report", tmp_path / "r.json")
    said = " ".join(result.stderr.split())
    assert f"note: removed {stale}" in said and f"note: removed {half_report}" in said
    assert not half_report.exists()
    assert json.loads((tmp_path / "r.json").read_text())["written"] == 2
    assert "--jobs" in cli("separate", "--help").stdout


def test_the_api_warns_when_it_removes_a_report_leftover(tree, tmp_path):
    half_report = tmp_path / ".r.json.x7q2.tmp"
    half_report.write_bytes(b'{"inputs": 2, "fin')
    with pytest.warns(LeftoverRemovedWarning, match=str(half_report)):
        Separator(device="cpu").separate_many(tree / "day1", tmp_path / "out", BOXES, report=tmp_path / "r.json")
    assert not half_report.exists() and json.loads((tmp_path / "r.json").read_text())["written"] == 1


def test_jobs_write_the_same_bytes_as_one_process(tree, tmp_path):
    separator = Separator(device="cpu")
    one = separator.separate_many(tree, tmp_path / "one", BOXES, report=tmp_path / "one.json")
    two = separator.separate_many(tree, tmp_path / "two", BOXES, jobs=2, report=tmp_path / "two.json")
    assert [o.status for o in one] == [o.status for o in two] == ["ok", "ok"]
    files = sorted(wavs(tmp_path / "one"))
    assert files == sorted(wavs(tmp_path / "two")) and len(files) == 4
    assert all((tmp_path / "one" / f).read_bytes() == (tmp_path / "two" / f).read_bytes() for f in files)
    assert [e["status"] for e in json.loads((tmp_path / "two.json").read_text())["files"]] == ["written", "written"]


def test_jobs_write_stereo_flac_with_records_and_skip_them_on_a_rerun(shared_video, tmp_path):
    """The batch's claims, records and --jobs write through the FLAC writer and keep the channels."""
    import soundfile as sf

    root = tmp_path / "stereo"
    for day in ("day1", "day2"):
        (root / day).mkdir(parents=True)
        shutil.copy(shared_video("stereo.mp4", channels=2, pan=(-1.0, 1.0), **SMALL), root / day / "x.mp4")
    separator = Separator(device="cpu")
    done = separator.separate_many(root, tmp_path / "out", BOXES, fmt="flac", jobs=2)
    assert [o.status for o in done] == ["ok", "ok"]
    files = sorted((tmp_path / "out").rglob("*.flac"))
    assert [str(f.relative_to(tmp_path / "out")) for f in files] == [
        f"{day}/x/source{i}.flac" for day in ("day1", "day2") for i in (1, 2)
    ]
    assert {sf.info(str(f)).channels for f in files} == {2}
    again = separator.separate_many(root, tmp_path / "out", BOXES, fmt="flac", skip_existing=True)
    assert [o.status for o in again] == ["skipped", "skipped"]


def test_kill_9_then_rerun_ends_with_every_output_complete(shared_video, tiny_weights, tmp_path):
    """A real run killed hard while writing leaves a temporary file and a claim; the re-run
    says it removed them and completes every output. (--jobs: the test below.)"""
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(shared_video("long.mp4", duration=15.0, width=64, height=48), folder / "long.mp4")
    out = tmp_path / "out"
    args = ("separate", folder, "-o", out, "-b", "0,0,32,48", "32,0,64,48", "-q")
    env = {"AVSEP_WEIGHTS_DIR": str(tiny_weights)}
    run = cli_process(*args, env=env, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not list(out.rglob("*.tmp")) and time.monotonic() < deadline and run.poll() is None:
        time.sleep(0.05)
    run.kill()
    run.wait()
    left = sorted(p.name for p in out.rglob("*") if p.is_file())
    assert any(n.endswith(".tmp") for n in left) and any(n.endswith(".claim") for n in left), left

    rerun = subprocess.run(cli_command(*args), env={**os.environ, **env, **SINGLE_THREAD}, capture_output=True)
    assert rerun.returncode == 0, rerun.stderr
    assert "removed" in rerun.stderr.decode() and "took over the claim" in rerun.stderr.decode()
    found = wavs(out)
    assert sorted(found) == ["long/source1.wav", "long/source2.wav"]
    assert all(abs(info.duration - 15.0) < 0.1 for info in found.values())


def _leftovers(folder) -> list[str]:
    """Temporary files and claim markers anywhere under ``folder``."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.name.endswith((".tmp", ".claim")))


def _session(sid: int) -> list[int]:
    """The live (not zombie) processes of session ``sid``, from /proc."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            state, _, _, session = stat.read_text().rsplit(")", 1)[1].split()[:4]
        except (OSError, ValueError):
            continue
        if state != "Z" and int(session) == sid:
            found.append(int(stat.parent.name))
    return found


@pytest.mark.parametrize("victim", ["process group", "batch process"])
def test_kill_9_of_a_jobs_2_batch_then_the_same_command_completes_it(victim, shared_video, tiny_weights, tmp_path):
    """``--jobs 2``: SIGKILL once the first video's outputs are written and the others are
    being written, to the whole process group (a lost machine, ``kill -9 -PGID``) or to the
    batch process alone (the out-of-memory killer: its workers must die with it rather than
    hold their claims); the same command with ``--skip-existing`` skips the finished video,
    says what it cleaned, and ends with every output whole and nothing else left."""
    import soundfile as sf

    folder = tmp_path / "in"
    folder.mkdir()
    seconds = {"a": 3.0, "b": 10.0, "c": 10.0}  # "a" finishes first; "b" is being written then
    for stem, duration in seconds.items():
        shutil.copy(shared_video(f"{stem}.mp4", duration=duration, width=64, height=48), folder / f"{stem}.mp4")
    out = tmp_path / "out"
    args = ("separate", folder, "-o", out, "-b", "0,0,32,48", "32,0,64,48", "-q", "--jobs", 2)
    env = {"AVSEP_WEIGHTS_DIR": str(tiny_weights)}
    first = [out / "a" / "source1.wav", out / "a" / "source2.wav"]
    report = tmp_path / "report.json"
    run = cli_process(
        *args,
        "--report",
        report,
        env=env,
        colour_trunk=True,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 300
    while run.poll() is None and time.monotonic() < deadline:
        if all(p.exists() for p in first) and list(out.rglob("*.tmp")):
            break
        time.sleep(0.05)
    # What the batch had finished when killed: "a", and on a loaded machine maybe "c" too (the
    # poll can come late). Taken just before the kill, so a worker that outlived its batch and
    # finished a file afterwards shows up as a file skipped that was not finished.
    finished = [stem for stem in seconds if all((out / stem / f"source{i}.wav").exists() for i in (1, 2))]
    (os.killpg if victim == "process group" else os.kill)(run.pid, signal.SIGKILL)
    run.wait()
    deadline = time.monotonic() + 20
    while _session(run.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _session(run.pid) == [], "processes of the killed batch live on"
    left = _leftovers(out)
    assert any(n.endswith(".tmp") for n in left) and any(n.endswith(".claim") for n in left), left
    assert "a" in finished and len(finished) < len(seconds), finished

    rerun = subprocess.run(
        cli_command(*args, "--skip-existing", "--report", report, colour_trunk=True),
        env={**os.environ, **env, **SINGLE_THREAD},
        capture_output=True,
        text=True,
    )
    assert rerun.returncode == 0, rerun.stderr
    said = " ".join(rerun.stderr.split())
    assert "note: removed" in said and "took over the claim" in said, said
    data = json.loads(report.read_text())
    assert [(e["input"], e["status"]) for e in data["files"]] == [
        (str(folder / f"{stem}.mp4"), "skipped" if stem in finished else "written") for stem in seconds
    ]
    cleaned = [n for e in data["files"] for n in e["notes"]]
    assert all(any(name in n for n in cleaned) for name in left if name.endswith(".tmp")), (left, cleaned)
    assert _leftovers(tmp_path) == []
    found = wavs(out)
    assert sorted(found) == [f"{stem}/source{i}.wav" for stem in seconds for i in (1, 2)]
    for name, info in found.items():
        samples = sf.read(str(out / name))[0]  # decodes to the end
        assert len(samples) == info.frames and abs(info.duration - seconds[name[0]]) < 0.1, (name, info.duration)


def test_a_claim_of_the_same_run_and_input_is_a_retry_and_taken_over(tmp_path):
    """A Ray task retried on another machine finds its lost attempt's claim: it takes it over;
    another run's live claim it must not."""
    from avsep.batch.claims import claim

    target = tmp_path / "x.wav"
    lost = {"pid": os.getpid(), "host": "lost-node", "input": "a.mp4", "run": "r1"}
    marker(target).write_text(json.dumps(lost))
    with claim([target], "a.mp4", "r1") as taken:
        assert json.loads(marker(target).read_text())["host"] == socket.gethostname()
        assert "took over the claim" in taken.notes[0]
    assert not marker(target).exists()
    marker(target).write_text(json.dumps({**lost, "run": "r0"}))
    with pytest.raises(InputError, match="being written by another run"), claim([target], "a.mp4", "r1"):
        pass
    assert marker(target).exists()  # still the other run's


def test_a_video_stopped_before_its_renames_leaves_no_empty_folders(tmp_path):
    """The folders a claim made for a video's outputs go again when nothing was written into them
    (an error, Ctrl-C); folders that existed, or hold anything, stay (issue 31)."""
    from avsep.batch.claims import claim

    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        with claim([out / "day1" / "x" / "a.wav", out / "day1" / "x" / "b.wav"], "x.mp4", "run"):
            raise KeyboardInterrupt
    assert not out.exists()
    (out / "day1").mkdir(parents=True)
    (out / "day1" / "notes.txt").write_text("mine")
    with claim([out / "day1" / "y" / "a.wav"], "y.mp4", "run"):
        (out / "day1" / "y" / "a.wav").write_bytes(b"written")
    with pytest.raises(RuntimeError):
        with claim([out / "day1" / "z" / "a.wav"], "z.mp4", "run"):
            raise RuntimeError("the video failed")
    assert sorted(p.name for p in (out / "day1").iterdir()) == ["notes.txt", "y"]


def test_a_zombie_holds_no_claim(tmp_path):
    """A worker killed with its batch is a zombie until reaped, and answers signal 0: its claim
    must be taken over, not reported as held by a live run (seen as a rare failure above)."""
    from avsep.batch.claims import claim

    child = subprocess.Popen(["sleep", "0"])
    live = subprocess.Popen(["sleep", "30"])
    try:
        os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT)  # exited, not reaped: a zombie
        out = tmp_path / "x.wav"
        info = {"pid": child.pid, "host": socket.gethostname(), "input": "a.mp4", "run": "earlier"}
        marker(out).write_text(json.dumps(info))
        with claim([out], "b.mp4", "now") as held:
            assert any("took over the claim" in n for n in held.notes)
        marker(out).write_text(json.dumps({**info, "pid": live.pid}))
        with pytest.raises(InputError, match="being written by another run"), claim([out], "b.mp4", "now"):
            pass
    finally:
        live.kill()
        live.wait()
        child.wait()


def test_warnings_of_jobs_workers_are_one_line_each(shared_video, tmp_path):
    """A worker's warning reaches the user as the command's own: one ``warning:`` line, not
    Python's two lines with the source file (the parent shows it, above the progress bars)."""
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("a.mp4", "b.mp4"):
        shutil.copy(shared_video("clip.mp4", **SMALL), folder / name)
    truncated_copy(shared_video("web.mp4", faststart=True, **SMALL), folder / "cut.mp4", 0.6)  # a logged warning
    report = tmp_path / "run.json"
    args = ("separate", folder, "-b", "0,0,16,16", "32,0,64,48", "-o", tmp_path / "out", "--report", report)
    result = cli(*args, "--jobs", 2)
    said = [line for line in result.stderr.splitlines() if "too small to show an instrument" in line]
    assert sorted(line.split(": ")[1] for line in said) == [str(folder / n) for n in ("a.mp4", "b.mp4", "cut.mp4")]
    said += [line for line in result.stderr.splitlines() if "stream ends early" in line]
    assert len(said) == 4 and all(line.startswith("warning: ") for line in said), result.stderr
    # and each input's report line keeps its own (an archive's operator reads the report)
    for jobs in (2, 1):
        cli(*args, "--jobs", jobs, "--overwrite", "-q")
        heard = {Path(e["input"]).name: e["warnings"] for e in json.loads(report.read_text())["files"]}
        assert [len(heard[n]) for n in ("a.mp4", "b.mp4", "cut.mp4")] == [1, 1, 2], heard
        assert "stream ends early" in " ".join(heard["cut.mp4"]) and heard["a.mp4"][0].startswith(str(folder))
    assert "Warning:" not in result.stderr and "warnings.warn" not in result.stderr, result.stderr


def test_each_call_of_the_api_hears_its_warnings(shared_video, tmp_path):
    """Python shows a warning once per place and text in a process; a second batch of the same
    video must still find its warnings in its outcomes (and report), as --jobs workers do."""
    video = shared_video("clip.mp4", **SMALL)
    separator = Separator(device="cpu")
    for run in ("first", "again"):
        (done,) = separator.separate_many([video], tmp_path / run, [(0, 0, 16, 16), (32, 0, 64, 48)])
        assert [w for w in done.warnings if "too small to show an instrument" in w], (run, done.warnings)
