"""Fail fast (issue 21, item 5): avsep's own argument checks answer before anything heavy loads.

A bad ``--boxes``, ``--names`` that do not fit the boxes, ``--skip-existing`` with
``--overwrite``, the ``-o -`` rules, ``--sample-rate``, ``--jobs``, ``--gain``... are mistakes
in the command line alone: each must be one ``error:`` line and the usage exit code, without
torch, PyAV, OpenCV or numpy imported first (they cost seconds; benchmarks/startup.py times
the commands). All the cases run one after another in one fresh interpreter, which checks
after each that none of the heavy modules has been imported (so far).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from avsep.errors import EXIT_USAGE
from tests.cli_support import run_fresh

ROOT = Path(__file__).resolve().parents[1]
VIDEO = str(ROOT / "examples" / "duet.mp4")  # exists: the checks must not need to read it
OTHER = str(ROOT / "examples" / "duet_left.flac")  # another existing file (the same one twice is one input)
TWO = ["--boxes", "0,0,10,10", "20,0,30,10"]

#: (argv after ``avsep``, what the one error line says)
CASES = [
    (["separate", VIDEO, "--boxes", "1,2,3"], "box '1,2,3': expected 4 numbers x0,y0,x1,y1, got 3"),
    (["separate", VIDEO, "--boxes", "0,0,10,10", "--boxes-file", "b.json"], "give boxes with --boxes or --boxes-file"),
    (["separate", VIDEO, "--boxes", "auto", "0,0,10,10"], "--boxes auto stands alone"),
    (["separate", VIDEO, "--boxes", *["0,0,1,1"] * 9], "9 boxes given; at most 8 sources"),
    (["separate", VIDEO, "--sources", "0"], "--sources 0: give at least 1"),
    (["separate", VIDEO, *TWO, "--names", "a", "b", "c"], "--names gives 3 names for 2 boxes; give one per box"),
    (["separate", VIDEO, *TWO, "--names", "a", "a"], "output names must differ: 'a' is given twice"),
    (["separate", VIDEO, *TWO, "--names", "Guitar", "guitar"], "'Guitar' and 'guitar' name one file on macOS"),
    (["separate", VIDEO, "--names", "a", "residual", "--residual"], "--names residual: --residual writes"),
    (["separate", VIDEO, "--skip-existing", "--overwrite"], "--skip-existing and --overwrite contradict each other"),
    (["separate", VIDEO, "--sample-rate", "10"], "--sample-rate 10: use a rate between 1000 and 384000 Hz"),
    (["separate", VIDEO, "--source", "1"], "--source only applies with -o - (stdout)"),
    (["separate", VIDEO, "-o", "-", *TWO], "-o - needs --source N (between 1 and 2) or the source's name"),
    (["separate", VIDEO, "-o", "-", "--residual", "--source", "1"], "-o - writes a single source; --residual needs"),
    (["separate", VIDEO, OTHER, "-o", "-", "--source", "1"], "-o - writes one source of one video; give exactly one"),
    (["separate", VIDEO, "--jobs", "0"], "--jobs 0: give 1 or more"),
    (["separate", VIDEO, "--gpus-per-job", "1"], "--gpus-per-job 1.0: give 0 or more, with --ray"),
    (["separate", VIDEO, "-o", "-", "--jobs", "2"], "-o - streams one video; --jobs and --ray need an output folder"),
    (["separate", VIDEO, "--boxes", "0,0,10,10", "0,0,10,10"], "box 2 (0,0,10,10) is box 1 again: two sources"),
    (["separate", VIDEO, "--bitrate", "9"], "--bitrate '9': give bits per second from 32k to 512k"),
    (["separate", VIDEO, "--start", "1:xx"], "--start '1:xx': give seconds (90, 90.5) or minutes:seconds"),
    (["separate", VIDEO, "--start", "5", "--end", "4"], "--end 4: it is not after --start 5"),
    (["separate", VIDEO, "--output-template", "../up/{name}.{ext}"], "gives ../up/name.wav, outside the output"),
    (["separate", VIDEO, "--output-template", "{stem}/{nope}.{ext}"], "unknown field 'nope'"),
    (["remix", VIDEO, "--end", "-3"], "--end '-3': give seconds"),
    (["locate", VIDEO, "--start", "2:75"], "--start '2:75': give seconds"),
    (["info", VIDEO, "--boxes", "1,2,3"], "box '1,2,3': expected 4 numbers"),
    (["info", VIDEO, "--sources", "0"], "--sources 0: give at least 1"),
    (["info", VIDEO, "--preview", "p.gif"], "--preview p.gif: write the picture as .png, .jpg, .jpeg"),
    (["locate", VIDEO, "--boxes", "strips", "0,0,10,10"], "--boxes strips stands alone"),
    (["remix", VIDEO, "--gain", "flute"], "--gain 'flute': write NAME=DB"),
    (["remix", VIDEO, "--solo", "a", "--mute", "a"], "--solo and --mute both name 'a'; pick one"),
    (["remix", VIDEO, *TWO, "--names", "a"], "--names gives 1 names for 2 boxes"),
    (["pick", "missing.mp4"], "missing.mp4: no such file; check the path"),
    (["pick", VIDEO, "-o", VIDEO], "is a file, not a folder"),
]


@pytest.fixture(scope="module")
def answers(tmp_path_factory) -> list[tuple[int, list[str], list[str]]]:
    """Per case: exit code, the heavy modules imported so far, the lines it wrote to stderr."""
    cwd = tmp_path_factory.mktemp("fast-errors")  # nothing may be written: a wrong turn would write here
    found = run_fresh([args for args, _ in CASES], cwd)
    assert not list(cwd.iterdir()), "a command wrote something"
    return [(code, loaded, [line for line in err.splitlines() if line.strip()]) for code, loaded, err in found]


def _label(args: list[str]) -> str:
    return " ".join("VIDEO" if a == VIDEO else a for a in args)


@pytest.mark.parametrize(
    ("index", "says"), [(i, s) for i, (_, s) in enumerate(CASES)], ids=[_label(a) for a, _ in CASES]
)
def test_an_argument_error_answers_before_anything_heavy_loads(answers, index, says):
    code, loaded, lines = answers[index]
    assert code == EXIT_USAGE, lines
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    assert says in lines[0]
    assert loaded == [], f"{' '.join(CASES[index][0])}: imported {loaded} before answering"
