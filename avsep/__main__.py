"""Entry point of the ``avsep`` command and of ``python -m avsep``.

It lives apart from :mod:`avsep.cli.app` so that a Ctrl-C while the CLI's modules import (typer and
rich take a few hundred milliseconds) ends like one during a command, with "interrupted" and
exit 130, instead of a traceback from the middle of an import.
"""

from __future__ import annotations

import sys

from avsep.errors import EXIT_INTERRUPTED


def main() -> None:
    """Import the CLI (interruptible) and run it."""
    try:
        from avsep.cli.app import run
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        raise SystemExit(EXIT_INTERRUPTED) from None
    run()


if __name__ == "__main__":
    main()
