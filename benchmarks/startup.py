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
    return f"{label:<44} {statistics.median(walls):9.3f} {min(walls):7.3f} {statistics.median(cpus):7.3f} {code:5d}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=7, help="runs per command (the median is reported)")
    args = parser.parse_args()
    program = avsep_command()
    print(f"{'command':<44} {'median s':>9} {'min s':>7} {'cpu s':>7} {'exit':>5}")
    print(row("(python -c pass)", timed_runs([sys.executable, "-c", "pass"], args.repeat)))
    workdir = Path(tempfile.mkdtemp(prefix="avsep-startup-"))
    try:
        for label, argv in cases(workdir):
            print(row("avsep " + label, timed_runs(program + argv, args.repeat)), flush=True)
    finally:
        shutil.rmtree(workdir)


if __name__ == "__main__":
    main()
