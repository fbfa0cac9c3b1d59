"""The warnings one input of a batch gave, kept for its report line.

An archive's operator reads the ``--report`` JSON, not the scrolled-away console: a video whose
audio ends early, whose boxes were guessed or whose players will come out alike must say so in
its own entry. :func:`warnings_heard` records what is shown while one input runs (Python's
warnings that pass the filters, and avsep's logged ones) and still lets it be shown, so the
console is unchanged; the same code runs in a ``--jobs`` worker and in a Ray task, whose
outcome carries the list home.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager


class _Heard(logging.Handler):
    """avsep's logged warnings, recorded."""

    def __init__(self, said: list[str]) -> None:
        super().__init__(logging.WARNING)
        self.said = said

    def emit(self, record: logging.LogRecord) -> None:
        self.said.append(record.getMessage())


@contextmanager
def warnings_heard() -> Iterator[list[str]]:
    """Record, as one-line texts in the order given, every warning shown in the block; each is
    still shown as it would be without this (the filters decide, as before, but what an earlier
    input or call showed does not hide it)."""
    said: list[str] = []
    shown = warnings.showwarning

    def show(message: Warning | str, category: type[Warning], *args: object, **kwargs: object) -> None:
        said.append(" ".join(str(message).split()))
        shown(message, category, *args, **kwargs)

    handler = _Heard(said)
    log = logging.getLogger("avsep")
    # catch_warnings forgets what was shown before (the "default" action shows a warning once per
    # place and text in a process): a second batch of the same videos gets its warnings again
    with warnings.catch_warnings():
        warnings.showwarning = show
        log.addHandler(handler)
        try:
            yield said
        finally:
            log.removeHandler(handler)
