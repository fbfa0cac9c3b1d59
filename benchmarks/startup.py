"""How long ``avsep`` takes to answer when it has nothing to compute (issue 21, item 5).

Each command runs ``--repeat`` times in a fresh process (the installed ``avsep`` console script
beside this Python, else ``python -m avsep``); the median and the fastest wall time and the
median CPU time (user + system) are printed, with ``python -c pass`` as the floor no command can
go under. Run it with another environment's Python to time that checkout (the "before"). The target is 0.5 s for help,
version, and argument and path errors: none of them needs torch, PyAV or scipy, so none may
import them (tests/test_cli_startup.py checks the imports; this script the time).

    python benchmarks/startup.py              # 7 runs each
    python benchmarks/startup.py --repeat 15
"""

from __future__ import annotations

import argparse
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
    return [
        ("--help", ["--help"]),
        ("--version", ["--version"]),
        ("separate --help", ["separate", "--help"]),
        ("separate missing.mp4", ["separate", str(workdir / "missing.mp4")]),
        ("separate duet.mp4 -o FILE", ["separate", str(EXAMPLE), "-o", str(a_file)]),
        ("separate --jobs x (usage error)", ["separate", str(EXAMPLE), "--jobs", "x"]),
        ("info missing.mp4", ["info", str(workdir / "missing.mp4")]),
    ]


def timed_runs(argv: list[str], repeat: int) -> tuple[list[float], list[float], int]:
    """Wall and CPU (user + system) seconds of ``repeat`` runs of ``argv``, and the exit code of
    the last one. On a busy machine the CPU seconds move much less than the wall seconds."""
    walls, cpus, code = [], [], 0
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        code = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False).returncode
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return walls, cpus, code


def row(label: str, runs: tuple[list[float], list[float], int]) -> str:
    walls, cpus, code = runs
    return f"{label:<36} {statistics.median(walls):9.3f} {min(walls):7.3f} {statistics.median(cpus):7.3f} {code:5d}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=7, help="runs per command (the median is reported)")
    args = parser.parse_args()
    program = avsep_command()
    print(f"{'command':<36} {'median s':>9} {'min s':>7} {'cpu s':>7} {'exit':>5}")
    print(row("(python -c pass)", timed_runs([sys.executable, "-c", "pass"], args.repeat)))
    workdir = Path(tempfile.mkdtemp(prefix="avsep-startup-"))
    try:
        for label, argv in cases(workdir):
            print(row("avsep " + label, timed_runs(program + argv, args.repeat)), flush=True)
    finally:
        shutil.rmtree(workdir)


if __name__ == "__main__":
    main()
