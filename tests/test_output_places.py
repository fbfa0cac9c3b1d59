"""Where outputs go: one place per video, never shared with another input, never outside ``-o``,
in files whose extension is the format's and never in the place of the provenance record."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from avsep import Separator
from avsep.batch.checks import DuplicateInputWarning
from tests.cli_support import SMALL, cli, cli_process, error_line, wavs

pytestmark = pytest.mark.usefixtures("fast_model")

TWO = ["--boxes", "0,0,32,48", "32,0,64,48"]
TWO_BOXES = [(0, 0, 32, 48), (32, 0, 64, 48)]


def fails(*args: object, says: str) -> None:
    """A command that must fail with the usage exit code and one error line containing ``says``."""
    line = error_line(cli(*args, code=2))
    assert says in line, line


@pytest.fixture
def odd(shared_video, tmp_path):
    """``odd.mp4`` and ``odd.avi``: two videos (other contents) whose names differ only by extension."""
    clips = [shared_video("clip.mp4", **SMALL), shared_video("clip.mp4", **{**SMALL, "duration": 2.0})]
    return [shutil.copy(clip, tmp_path / name) for clip, name in zip(clips, ("odd.mp4", "odd.avi"))]


def test_a_batch_whose_videos_share_a_place_is_refused_before_any_work(odd, tmp_path):
    out = tmp_path / "out"
    fails("separate", *odd, *TWO, "-o", out, says="would go to")
    line = error_line(cli("separate", *odd, *TWO, "-o", out, code=2))
    assert f"with those of {odd[0]} in this batch (same name but for the extension); rename one" in line
    assert not out.exists()  # nothing of either video was written


def test_a_place_made_from_another_input_is_refused_unless_overwrite(odd, tmp_path):
    out = tmp_path / "out"
    cli("separate", odd[0], *TWO, "--names", "a", "b", "-o", out, "-q")
    fails("separate", odd[1], *TWO, "--names", "c", "d", "-o", out, says=f"is an output of another video, {odd[0]}")
    assert sorted(wavs(out)) == ["odd/a.wav", "odd/b.wav"]  # not mixed with the second video's
    result = cli("separate", odd[1], *TWO, "--names", "c", "d", "-o", out, "--overwrite", "-q")
    assert f"removed {out / 'odd' / 'a.wav'}, an output of {odd[0]} that this run replaces" in result.stderr
    assert sorted(wavs(out)) == ["odd/c.wav", "odd/d.wav"]
    assert json.loads((out / "odd" / ".avsep.json").read_text())["input"]["path"] == str(odd[1].resolve())


def test_two_videos_of_a_batch_that_would_write_one_file_are_told_in_the_readers_words(shared_video, tmp_path):
    """``a`` + ``bc`` and ``ab`` + ``c`` are one file under ``{stem}{name}``: the second video
    fails naming the options as its reader does (the API's keywords, the command line's flags)."""
    clip = shared_video("clip.mp4", **SMALL)
    videos = [shutil.copy(clip, tmp_path / name) for name in ("a.mp4", "ab.mp4")]
    options = {"names": ["bc", "c"], "template": "{stem}{name}.{ext}"}
    outcomes = Separator(device="cpu").separate_many(videos, tmp_path / "api", TWO_BOXES, **options)
    assert [o.status for o in outcomes] == ["ok", "failed"]
    said = "put their folder in the path (template='{parent}/{stem}/{name}.{ext}') or use another out_dir"
    assert "is also written by" in outcomes[1].detail and said in outcomes[1].detail, outcomes[1].detail
    flags = ["--names", "bc", "c", "--output-template", options["template"]]
    line = error_line(cli("separate", *videos, *TWO, *flags, "-o", tmp_path / "cli", code=2))
    assert "(--output-template '{parent}/{stem}/{name}.{ext}') or use another -o" in line, line


def test_the_same_file_twice_is_separated_once(shared_video, tmp_path):
    video = shared_video("clip.mp4", **SMALL)
    again = video.parent / ".." / video.parent.name / video.name
    linked = tmp_path / "linked.mp4"
    os.link(video, linked)  # another name, the same file
    result = cli("separate", video, again, linked, *TWO, "-o", tmp_path / "out")
    assert f"warning: {again} is the same file as {video}; dropped the duplicate" in result.stderr
    assert f"warning: {linked} is the same file as {video}; dropped the duplicate" in result.stderr
    assert sorted(wavs(tmp_path / "out")) == [f"{video.stem}/source1.wav", f"{video.stem}/source2.wav"]
    with pytest.warns(DuplicateInputWarning, match="separating it once"):
        outcomes = Separator(device="cpu").separate_many([video, again], tmp_path / "api", [(0, 0, 32, 48)])
    assert [o.status for o in outcomes] == ["ok"]


def test_a_template_extension_must_be_the_formats(shared_video, tmp_path):
    video = shared_video("clip.mp4", **SMALL)
    out = tmp_path / "out"
    flac = ["--output-template", "{name}.flac"]
    fails("separate", video, *TWO, *flac, "--format", "mp3", "-o", out, says="ends in .flac but --format mp3 writes")
    assert not out.exists()
    cli("separate", video, *TWO, *flac, "--format", "flac", "-o", out, "-q")
    assert sorted(p.name for p in out.iterdir()) == [".avsep.json", "source1.flac", "source2.flac"]


def test_the_record_keeps_its_name_and_no_output_takes_it(shared_video, tmp_path):
    video = shared_video("clip.mp4", **SMALL)
    out = tmp_path / "out"
    cli("separate", video, *TWO, "--names", ".avsep", "sax", "--output-template", "{name}.wav", "-o", out, "-q")
    assert sorted(p.name for p in out.iterdir()) == [".avsep.json", ".avsep.wav", "sax.wav"]
    taken = ["--names", ".avsep.json", "sax", "--output-template", "{name}"]
    fails("separate", video, *TWO, *taken, "-o", tmp_path / "other", says="would be written as")
    assert not (tmp_path / "other").exists()


@pytest.mark.parametrize("template", ["../escape/{name}.{ext}", "{stem}/../../{name}.{ext}", "ABS/{name}.{ext}"])
def test_a_template_that_leaves_the_output_folder_is_refused(shared_video, tmp_path, template):
    template = template.replace("ABS", str(tmp_path / "abs"))
    out = tmp_path / "out"
    fails("separate", shared_video("clip.mp4", **SMALL), *TWO, "--output-template", template, "-o", out, says="outside")
    assert sorted(p.name for p in tmp_path.iterdir()) == []


@pytest.mark.parametrize("template", ["{stem}/..", "."])
def test_a_template_naming_the_folder_itself_is_refused(shared_video, tmp_path, template):
    fails("separate", shared_video("clip.mp4", **SMALL), *TWO, "--output-template", template, says="gives no file name")


def test_a_file_given_twice_to_stdout_is_said_once(shared_video, tiny_weights, tmp_path):
    """A real process (the command line checks its inputs before the batch does, each under its
    own warnings): the duplicate is said once, not once per check."""
    video = shared_video("clip.mp4", **SMALL)
    args = ("separate", video, video, *TWO, "-o", "-", "--source", "2", "-q")
    pipes = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE}
    run = cli_process(*args, env={"AVSEP_WEIGHTS_DIR": str(tiny_weights)}, **pipes)
    out, err = run.communicate(timeout=120)
    assert run.returncode == 0 and out[:4] == b"RIFF", err.decode()
    assert err.decode().count("is the same file as") == 1, err.decode()
