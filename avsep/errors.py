"""The one exception type users see.

Every failure that is the user's to fix (a bad file, a bad box, a missing model) is raised as
:class:`AvsepError` with a one-line message that names the thing and says what to do. The CLI
prints that line and exits with ``exit_code``; anything else is a bug and gets a traceback only
with ``--debug``.
"""

from __future__ import annotations

import errno
import os

# The exit codes of every avsep command, in one table (docs/errors.md). Defined here, in a module
# with standard-library imports only, so the entry point can use them before the CLI's heavy
# modules load.
#: The operation failed (an :class:`AvsepError`, or a bug).
EXIT_FAILED = 1
#: The command line or an input was invalid (an :class:`InputError`, click's usage errors).
EXIT_USAGE = 2
#: Ctrl-C / SIGINT (128 + 2, the shell's convention).
EXIT_INTERRUPTED = 130
#: The reader of ``-o -`` left early (128 + SIGPIPE 13): nothing more to say.
EXIT_BROKEN_PIPE = 141


class AvsepError(Exception):
    """A user-facing error with a one-line, actionable message."""

    exit_code: int = EXIT_FAILED

    def __init__(self, message: str, exit_code: int | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


class InputError(AvsepError):
    """An input (file, box, option value) cannot be used as given."""

    exit_code = EXIT_USAGE


def check_one_of(option: str, value: str, choices: tuple[str, ...] | list[str]) -> None:
    """Refuse an option value outside ``choices``, listing them (the Python API and config
    files reach these checks without the command line's own choice lists)."""
    if value not in choices:
        raise InputError(f"{option} must be one of {', '.join(choices)}, got {value!r}")


def no_such_file(path: object) -> InputError:
    """The error for an input path that does not exist, in the same words wherever it is found."""
    return InputError(f"{path}: no such file; check the path")


def already_exists(path: object, overwrite: str = "--overwrite", *, more: str = "") -> InputError:
    """The error for an output that exists and may not be replaced, in the same words wherever
    avsep writes a file (a stem, a remixed video, a picture). ``overwrite``: the option as the
    reader knows it (``overwrite`` in the Python API, :class:`avsep.options.Wording`, which this
    module may not import); ``more``: what else the caller can do, said after it."""
    return InputError(f"{path} already exists; pass {overwrite} to replace it{more}")


def os_reason(exc: OSError) -> str:
    """Short human reason for an OS error ("no space left on device")."""
    if exc.errno is not None and exc.errno in errno.errorcode:
        return os.strerror(exc.errno).lower()
    return str(exc)


#: What a user can do about the common write failures. A folder that refuses new files does so
#: with EACCES (permissions), EPERM (an immutable folder, ``chattr +i``; sysfs), EROFS (a
#: read-only mount) or ENOENT (a pseudo file system such as /proc, where mkdir finds no parent).
_WRITE_HINTS = {
    errno.ENOSPC: "free some disk space or write to another folder",
    errno.EDQUOT: "free some disk space or write to another folder",
    errno.EACCES: "choose a folder you can write to",
    errno.EPERM: "choose a folder you can write to",
    errno.EROFS: "choose a folder you can write to",
    errno.ENOENT: "choose a folder you can write to",
}


def write_error(path: object, exc: OSError) -> AvsepError:
    """The one line for a failed write of ``path``, wherever an output is written (audio, video,
    pictures, reports): the system's reason and what to do."""
    hint = _WRITE_HINTS.get(exc.errno or 0, "check the output folder")
    return AvsepError(f"cannot write {path}: {os_reason(exc)}; {hint}")


class ModelError(AvsepError):
    """The model weights are missing, corrupt or do not match their recorded hash."""

    exit_code = EXIT_FAILED
