"""The one exception type users see.

Every failure that is the user's to fix (a bad file, a bad box, a missing model) is raised as
:class:`AvsepError` with a one-line message that names the thing and says what to do. The CLI
prints that line and exits with ``exit_code``; anything else is a bug and gets a traceback only
with ``--debug``.
"""

from __future__ import annotations

#: Exit code after Ctrl-C / SIGINT (128 + 2, the shell's convention). Defined here, in a module
#: with no imports, so the entry point can use it before the CLI's heavy modules load.
EXIT_INTERRUPTED = 130


class AvsepError(Exception):
    """A user-facing error with a one-line, actionable message."""

    #: 1 = the operation failed, 2 = the command line or an input was invalid.
    exit_code: int = 1

    def __init__(self, message: str, exit_code: int | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


class InputError(AvsepError):
    """An input (file, box, option value) cannot be used as given."""

    exit_code = 2


class ModelError(AvsepError):
    """The model weights are missing, corrupt or do not match their recorded hash."""

    exit_code = 1
