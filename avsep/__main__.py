"""Entry point of the ``avsep`` command and of ``python -m avsep``.

It lives apart from :mod:`avsep.cli.app` so that a Ctrl-C while the CLI's modules import (typer and
rich take a few hundred milliseconds) ends like one during a command, with "interrupted" and
exit 130, instead of a traceback from the middle of an import.

It also decides how the process ends (:func:`exit_process`): once torch is loaded, without
Python's finalisation.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
from typing import NoReturn

from avsep.errors import EXIT_BROKEN_PIPE, EXIT_INTERRUPTED

#: How torch's OpenMP threads wait for work: asleep, not spinning. avsep runs threads beside
#: each other (the player finder's decoder, its look at a frame, the trunk's work started
#: ahead on its crops), and a team spinning for its next loop takes the core one of them needs:
#: automatic mode on a video cutting every 2 s took 6.9 -> 6.0 s with it (issue 30,
#: docs/experiments/2026-12-07-trunk-ahead.md). OpenMP reads it once, when torch loads.
OMP_WAIT_POLICY = "PASSIVE"


def prepare_process() -> None:
    """What the process needs before torch loads; a setting the user made stands."""
    os.environ.setdefault("OMP_WAIT_POLICY", OMP_WAIT_POLICY)


def main() -> None:
    """Import the CLI (interruptible), run it, and end the process (:func:`exit_process`)."""
    prepare_process()
    try:
        from avsep.cli.app import run
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        raise SystemExit(EXIT_INTERRUPTED) from None
    try:
        run()
    except SystemExit as done:
        exit_process(done.code)
    exit_process(0)


def exit_process(code: int | str | None) -> NoReturn:
    """End the process with exit status ``code`` (as :class:`SystemExit` reads it).

    Once torch is loaded, the process ends without Python's finalisation (``os._exit``), after
    the atexit handlers and a flush of the standard streams. The PyPI torch build's libraries
    run C++ static destructors at exit that fault in about 135 MB of their pages and take about
    0.5 s: ``python -c "import torch"`` peaks at 649 MB and takes 1.9 s, at 514 MB and 1.4 s
    this way (docs/experiments/2026-12-06-speed-round-2.md). By then every output is written
    and closed (a temporary name, fsync, rename). Without torch, or with another non-daemon
    thread still running, the process ends as usual.
    """
    if "torch" not in sys.modules or any(
        t.is_alive() and not t.daemon for t in threading.enumerate() if t is not threading.main_thread()
    ):
        raise SystemExit(code)
    if code is not None and not isinstance(code, int):
        print(code, file=sys.stderr)
        code = 1
    atexit._run_exitfuncs()
    os._exit(_flushed(code or 0))


def _flushed(code: int) -> int:
    """``code``, once stdout and stderr are flushed. If stdout cannot take the rest and the
    command had succeeded: :data:`EXIT_BROKEN_PIPE` for a reader that left (what the commands
    themselves give), else 120 (Python's own status for a failed last flush) with the reason on
    stderr. A stream the command closed is left alone."""
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        code = code or EXIT_BROKEN_PIPE
    except OSError as exc:
        sys.stderr.write(f"error: could not write the output: {exc}\n")
        code = code or 120
    except ValueError:  # closed
        pass
    try:
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
    return code


if __name__ == "__main__":
    main()
