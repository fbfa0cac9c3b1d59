"""What a person reads (issue 21, items 5 and 6): every command's ``--help`` at 80 columns, the
wording of option errors, and the errors that must come before anything heavy loads.

``--help`` runs in-process with ``COLUMNS=80`` for every command the ``avsep`` group lists (the
training side and ``data build`` included); the start-up checks run ``avsep`` in a fresh
process and look at which modules it imported.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from avsep.cli.app import app
from tests.cli_support import HEAVY, run_fresh

ROOT = Path(__file__).resolve().parents[1]

#: typer's type metavars (``<bool>``, ``<list[str]>``, ``<path>``, ``<a|b>``...) and its braced
#: arguments (``{inputs}...``); help text may still write ``<name>`` for a part of a path.
RAW_METAVAR = re.compile(
    r"<(bool|int|float|str|text|path|directory|list\[[^>]*\])>|<\w+(\|\w+)+>|\{[a-z_]+\}\.\.\.|Usage:.*\{"
)


def _commands(group=None, prefix=()):
    """Every command path of the avsep group, sub-groups walked (``("data", "build")``)."""
    group = group or typer.main.get_command(app)
    for name, command in group.commands.items():
        if getattr(command, "commands", None):
            yield from _commands(command, (*prefix, name))
        else:
            yield (*prefix, name)


COMMANDS = sorted(_commands())


def _help(*args: str) -> str:
    result = CliRunner().invoke(app, [*args, "--help"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    return result.stdout


def _long_options(path: tuple[str, ...]) -> list[str]:
    command = typer.main.get_command(app)
    for name in path:
        command = command.commands[name]
    return [o for p in command.params for o in (*p.opts, *p.secondary_opts) if o.startswith("--")]


def test_every_command_is_checked():
    assert {"separate", "remix", "info", "locate", "train", "evaluate", "evaluate-real", "train-guide"} <= {
        c[0] for c in COMMANDS
    }
    assert ("data", "build") in COMMANDS


@pytest.mark.parametrize("path", [(), *COMMANDS], ids=lambda p: " ".join(p) or "avsep")
def test_help_at_80_columns_shows_whole_names_and_readable_metavars(path):
    text = _help(*path)
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "…" not in text, "an option name, metavar or default was cut:\n" + text
    assert not RAW_METAVAR.search(text), f"raw type metavar {RAW_METAVAR.search(text).group()!r}:\n{text}"
    for option in _long_options(path):
        assert re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", text), f"{option} missing:\n{text}"


@pytest.mark.parametrize(
    ("path", "panels"),
    [
        (("separate",), ["Boxes", "Output", "Model", "Performance"]),
        (("remix",), ["Boxes", "Balance", "Output", "Model", "Performance"]),
        (("info",), ["Boxes", "Output"]),
        (("locate",), ["Boxes", "Output", "Model"]),
        (("train",), ["Data", "Model", "Optimisation", "Validation and checkpoints", "Machine"]),
    ],
    ids=lambda v: v[0] if isinstance(v, tuple) else "",
)
def test_options_are_grouped_in_panels(path, panels):
    text = _help(*path)
    titles = re.findall(r"╭─ (.+?) ─", text)
    assert set(panels) <= set(titles), titles


def test_metavars_say_what_to_type():
    text = " ".join(_help("separate").replace("│", " ").split())
    for option, metavar in [("--boxes -b", "X0,Y0,X1,Y1"), ("--boxes-file", "FILE"), ("--jobs", "N")]:
        assert f"{option} {metavar} " in text, option
    assert "Usage: avsep separate [OPTIONS] VIDEO..." in text
    assert re.search(r"--residual --no-residual Also write", text)  # a flag: no metavar


def _usage_error(*args: str) -> str:
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})
    assert result.exit_code == 2, result.output
    return " ".join(result.output.replace("│", " ").split())


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["separate", "v.mp4", "--jobs", "x"], "--jobs 'x': give a whole number (default: 1)"),
        (["separate", "v.mp4", "--overlap=lots"], "--overlap 'lots': give a number (default: 0.25)"),
        (
            ["separate", "v.mp4", "--format", "ogg"],
            "--format 'ogg': give one of pcm16, pcm24, float, flac, flac24, mp3, m4a, opus",
        ),
        (["info", "v.mp4", "--time", "soon"], "--time 'soon': give a number"),
        (["train", "--steps", "1.5"], "--steps '1.5': give a whole number"),
        (["train", "--arch", "unet"], "--arch 'unet': give one of pcn, sop (default: pcn)"),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, list) else None,
)
def test_bad_values_are_reported_in_avseps_words(args, says):
    text = _usage_error(*args)
    assert says in text
    for foreign in ("Input should be", "Value error", "Invalid value for", "unable to parse"):
        assert foreign not in text


def test_a_name_taken_by_the_residual_blames_names(tmp_path):
    video = tmp_path / "v.mp4"
    video.write_bytes(b"not read: the names are checked first")
    result = CliRunner().invoke(app, ["separate", str(video), "--names", "a", "residual", "--residual"])
    assert result.exit_code == 2
    (line,) = [x for x in result.stderr.splitlines() if x.startswith("error:")]
    assert line.startswith("error: --names residual: --residual writes residual.wav itself")
    assert "--output-template" not in line


# -- start fast, fail fast (item 5) -----------------------------------------------------------------


def _run_fresh(*args: str, heavy: tuple[str, ...] = HEAVY) -> tuple[int, list[str], str]:
    """``avsep ARGS`` in a fresh interpreter: exit code, which of ``heavy`` it imported, its stderr."""
    return run_fresh([list(args)], ROOT, heavy)[0]


@pytest.mark.parametrize(
    "args",
    [["--help"], ["--version"], ["separate", "--help"], ["train", "--help"], ["separate", "--jobs", "x", "v.mp4"]],
    ids=" ".join,
)
def test_help_version_and_usage_errors_import_nothing_heavy(args):
    code, heavy, _ = _run_fresh(*args)
    assert code in (0, 2)
    assert heavy == []


@pytest.mark.parametrize("more", [[], ["--names", "violin", "flute"]], ids=["alone", "with-names"])
def test_a_missing_video_is_reported_before_anything_heavy_loads(tmp_path, more):
    code, heavy, stderr = _run_fresh("separate", str(tmp_path / "missing.mp4"), *more)
    assert (code, heavy) == (2, [])
    assert f"error: {tmp_path / 'missing.mp4'}: no such file; check the path" in stderr


@pytest.mark.parametrize("command", ["info", "locate", "remix"])
def test_other_commands_report_a_missing_video_at_once(tmp_path, command):
    code, heavy, stderr = _run_fresh(command, str(tmp_path / "gone.mp4"))
    assert (code, heavy) == (2, [])
    assert "gone.mp4: no such file; check the path" in stderr


@pytest.mark.parametrize("under", [False, True], ids=["file", "under-a-file"])
def test_an_output_folder_that_is_a_file_is_refused_first(tmp_path, under):
    video = ROOT / "examples" / "duet.mp4"
    taken = tmp_path / "taken"
    taken.write_text("mine\n")
    out = taken / "sub" if under else taken
    code, heavy, stderr = _run_fresh("separate", str(video), "-o", str(out))
    assert (code, heavy) == (2, [])
    assert f"error: -o {out}: " in stderr and "not a folder; give a folder for the outputs" in stderr
    assert taken.read_text() == "mine\n"


def test_several_missing_inputs_are_named_together(tmp_path):
    code, heavy, stderr = _run_fresh("separate", str(tmp_path / "a.mp4"), str(tmp_path / "b.mp4"))
    assert (code, heavy) == (2, [])
    assert "b.mp4: no such files; check the paths" in stderr


def test_the_help_lists_the_user_commands_apart_from_training():
    """``avsep --help``: the commands of a user of separation in the first panel, the training
    side (the commands that need the train extra) in its own (issue 31)."""
    text = _help()
    user, _, training = text.partition("Training and evaluation")
    listed = lambda part: re.findall(r"^│ (\w[\w-]*) ", part, re.M)  # noqa: E731
    assert listed(user) == ["separate", "remix", "info", "locate", "pick", "models"]
    assert set(listed(training)) == {
        "train", "features", "evaluate", "evaluate-real", "evaluate-stems", "average", "guide-gain",
        "train-guide", "bundle", "data",
    }  # fmt: skip


def test_a_name_that_is_the_residual_but_for_case_is_refused(tmp_path):
    video = tmp_path / "v.mp4"
    video.write_bytes(b"not read: the names are checked first")
    result = CliRunner().invoke(app, ["separate", str(video), "--names", "Residual", "a", "--residual"])
    assert result.exit_code == 2
    assert "error: --names Residual: --residual writes residual.wav itself" in result.stderr
