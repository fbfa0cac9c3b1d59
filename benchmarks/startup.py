"""How long ``avsep`` takes to answer when it has nothing to compute (issue 21, item 5).

Each command runs ``--repeat`` times in a fresh process (the installed ``avsep`` console script
beside this Python, else ``python -m avsep``); the median and the fastest wall time and the
median CPU time (user + system) are printed, with ``python -c pass`` as the floor no command can
go under. Run it with another environment's Python to time that checkout (the "before"). The target is 0.5 s for help,
version, and argument and path errors: none of them needs torch, PyAV or scipy, so none may
import them (tests/test_cli_help.py and tests/test_cli_fast_errors.py check the imports; this
script the time).

    python -m benchmarks.startup              # 7 runs each
    python -m benchmarks.startup --repeat 15
    python -m benchmarks.startup --tree A --tree B --only help,missing   # two checkouts, interleaved

``--tree`` runs the commands with ``PYTHONPATH=TREE`` (the checkout whose ``avsep`` package
loads), alternating between the trees run by run, so that a busy machine weighs on each alike.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "duet.mp4"


def avsep_command() -> list[str]:
    """The console script of this environment, as a user runs it."""
    script = Path(sys.executable).with_name("avsep")
    return [str(script)] if script.exists() else [sys.executable, "-m", "avsep"]


def cases(workdir: Path) -> list[tuple[str, list[str]]]:
    """(label, argv after the program) for every command measured."""
    a_file = workdir / "a-file"
    a_file.write_text("not a folder\n")
    two = ["--boxes", "0,0,224,224", "224,0,448,224"]
    return [
        ("--help", ["--help"]),
        ("--version", ["--version"]),
        ("separate --help", ["separate", "--help"]),
        ("separate missing.mp4", ["separate", str(workdir / "missing.mp4")]),
        ("separate duet.mp4 -o FILE", ["separate", str(EXAMPLE), "-o", str(a_file)]),
        ("separate --jobs x (usage error)", ["separate", str(EXAMPLE), "--jobs", "x"]),
        ("info missing.mp4", ["info", str(workdir / "missing.mp4")]),
        # avsep's own argument checks (box syntax, names, batch options, -o -, remix's balance)
        ("separate --boxes 1,2,3", ["separate", str(EXAMPLE), "--boxes", "1,2,3"]),
        ("separate --names a b c (2 boxes)", ["separate", str(EXAMPLE), *two, "--names", "a", "b", "c"]),
        ("separate --skip-existing --overwrite", ["separate", str(EXAMPLE), "--skip-existing", "--overwrite"]),
        ("separate -o - (2 boxes, no --source)", ["separate", str(EXAMPLE), *two, "-o", "-"]),
        ("separate --sample-rate 10", ["separate", str(EXAMPLE), "--sample-rate", "10"]),
        ("info --boxes 1,2,3", ["info", str(EXAMPLE), "--boxes", "1,2,3"]),
        ("remix --gain flute", ["remix", str(EXAMPLE), "--gain", "flute"]),
    ]


def timed_runs(argv: list[str], repeat: int, env: dict[str, str] | None = None) -> tuple[list[float], list[float], int]:
    """Wall and CPU (user + system) seconds of ``repeat`` runs of ``argv``, and the exit code of
    the last one. On a busy machine the CPU seconds move much less than the wall seconds."""
    walls, cpus, code = [], [], 0
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        code = subprocess.run(
            argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=False
        ).returncode
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return walls, cpus, code


def row(label: str, runs: tuple[list[float], list[float], int]) -> str:
    walls, cpus, code = runs
    return f"{label:<44} {statistics.median(walls):9.3f} {min(walls):7.3f} {statistics.median(cpus):7.3f} {code:5d}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=7, help="runs per command (the median is reported)")
    parser.add_argument("--tree", action="append", default=[], help="a checkout to time (repeatable; interleaved)")
    parser.add_argument("--only", default="", help="comma-separated words; time only the commands containing one")
    args = parser.parse_args()
    program = avsep_command()
    print(f"{'command':<44} {'median s':>9} {'min s':>7} {'cpu s':>7} {'exit':>5}")
    print(row("(python -c pass)", timed_runs([sys.executable, "-c", "pass"], args.repeat)))
    workdir = Path(tempfile.mkdtemp(prefix="avsep-startup-"))
    words = [w for w in args.only.split(",") if w]
    try:
        for label, argv in cases(workdir):
            if words and not any(w in label for w in words):
                continue
            if not args.tree:
                print(row("avsep " + label, timed_runs(program + argv, args.repeat)), flush=True)
                continue
            runs = interleaved(program + argv, args.tree, args.repeat)
            for tree in args.tree:
                print(row(f"avsep {label} [{Path(tree).name}]", runs[tree]), flush=True)
    finally:
        shutil.rmtree(workdir)


def interleaved(argv: list[str], trees: list[str], repeat: int) -> dict[str, tuple[list[float], list[float], int]]:
    """:func:`timed_runs` of ``argv`` under each tree's ``PYTHONPATH``, one run of each in turn."""
    out: dict[str, tuple[list[float], list[float], int]] = {t: ([], [], 0) for t in trees}
    for _ in range(repeat):
        for tree in trees:
            walls, cpus, code = timed_runs(argv, 1, {**os.environ, "PYTHONPATH": tree})
            out[tree] = (out[tree][0] + walls, out[tree][1] + cpus, code)
    return out


if __name__ == "__main__":
    main()
