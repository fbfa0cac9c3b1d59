"""How every avsep command reports trouble: one line per error or warning, on stderr.

Shared by the separation CLI and the training-side commands (which must not import
:mod:`avsep.cli.app`). An :class:`~avsep.errors.AvsepError` says what to do and carries its exit
code; anything else is a bug, reported in one line too, with the traceback only under
``--debug``. See ``docs/errors.md``.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, TextIO

import typer
from rich.console import Console
from rich.markup import escape

from avsep.errors import EXIT_FAILED, EXIT_INTERRUPTED, AvsepError

err = Console(stderr=True, highlight=False)

#: ``--debug``, the same on every command (the separation CLI and the training side).
DebugOption = Annotated[bool, typer.Option("--debug", help="Show tracebacks.")]


def one_line(text: str) -> str:
    """Messages are printed as one line, whatever a library put in them."""
    return " ".join(str(text).split("\n"))


def fail(exc: BaseException, debug: bool, subject: Path | None = None) -> int:
    """Report ``exc`` as one line (plus the traceback with ``--debug``); returns the exit code.

    ``subject`` is the input being processed: named in front unless the message already does.
    """
    if debug:
        err.print_exception()
    if isinstance(exc, AvsepError):
        message, code = str(exc), exc.exit_code
    else:
        message = f"unexpected {type(exc).__name__}: {exc} (please report it; --debug shows where)"
        code = EXIT_FAILED
    if subject is not None and str(subject) not in message:
        message = f"{subject}: {message}"
    err.print(f"[bold red]error:[/] {escape(one_line(message))}", soft_wrap=True)
    return code


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    """``warnings.showwarning`` replacement: ``warning: <message>``, no source location."""
    err.print(f"[yellow]warning:[/] {escape(one_line(str(message)))}", soft_wrap=True)


class _WarningLogHandler(logging.Handler):
    """avsep's logged warnings (a stream that ends early, ...) in the same one-line form."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)

    def emit(self, record: logging.LogRecord) -> None:
        _show_warning(record.getMessage(), UserWarning, record.pathname, record.lineno)


@contextmanager
def user_facing_warnings() -> Iterator[None]:
    """For one command: every Python warning and avsep log warning as one ``warning:`` line.

    Each distinct warning shows once per command ("default" action); resetting the filters
    also makes a warning seen by an earlier command in the same process show again.
    """
    log = logging.getLogger("avsep")
    handler = _WarningLogHandler()
    with warnings.catch_warnings():
        warnings.simplefilter("default")
        warnings.showwarning = _show_warning
        log.addHandler(handler)
        propagate, log.propagate = log.propagate, False
        try:
            yield
        finally:
            log.removeHandler(handler)
            log.propagate = propagate


class _FfmpegLogHandler(logging.Handler):
    """FFmpeg's own log lines (routed into Python's logging by :mod:`avsep.io.media`), for
    ``--debug``: ``ffmpeg: <line>``, so they never pass for avsep's messages."""

    def emit(self, record: logging.LogRecord) -> None:
        err.print(f"[dim]ffmpeg: {escape(one_line(record.getMessage()))}[/]", soft_wrap=True)


@contextmanager
def ffmpeg_log(debug: bool) -> Iterator[None]:
    """For one command: FFmpeg's log shown with ``--debug``, kept off the terminal otherwise
    (what goes wrong reaches the user as avsep's own error or warning line)."""
    log = logging.getLogger("libav")
    handler = _FfmpegLogHandler()
    if debug:
        from avsep.io.ffmpeg_log import route_ffmpeg_log  # only here: a plain command line loads no PyAV

        route_ffmpeg_log(True)
        log.addHandler(handler)
    try:
        yield
    finally:
        log.removeHandler(handler)
        if debug:
            route_ffmpeg_log(False)


@contextmanager
def one_line_errors(debug: bool) -> Iterator[None]:
    """Any failure inside -> one line on stderr and ``typer.Exit`` with its code; FFmpeg's log
    shown only with ``--debug`` (:func:`ffmpeg_log`)."""
    try:
        with ffmpeg_log(debug):
            yield
    except typer.Exit:
        raise
    except KeyboardInterrupt:
        err.print("interrupted")
        raise typer.Exit(EXIT_INTERRUPTED) from None
    except Exception as exc:  # broad on purpose, no traceback unless --debug
        raise typer.Exit(fail(exc, debug)) from None
