"""Progress bars for long jobs, on stderr so stdout stays free for piped audio."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from types import FrameType, TracebackType
from typing import Self

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


def make_progress(
    enabled: bool = True,
    console: Console | None = None,
    *extra: ProgressColumn,
    transient: bool = False,
) -> Progress:
    """The project's one bar layout (description, bar, n/total, extra columns, times), on stderr.

    Every long step (separation, data build, feature cache, training, evaluation) uses it, so
    they look alike and none of them writes to stdout.
    """
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        *extra,
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console or Console(stderr=True),
        disable=not enabled,
        transient=transient,
    )


class _LiveBars:
    """The live part both batch displays share: bars drawn while the ``with`` block runs."""

    progress: Progress

    def __enter__(self) -> Self:
        self.progress.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def stop(self) -> None:
        """Stop redrawing (idempotent): before the last messages of an interrupted run."""
        self.progress.stop()


class SeparationProgress(_LiveBars):
    """Two bars: files of the batch, windows of the current file. A no-op when disabled.

    Pass the console the CLI prints errors and warnings with, so that those lines appear above
    the live bars instead of tearing through them.
    """

    def __init__(self, files: int, enabled: bool = True, console: Console | None = None) -> None:
        self.enabled = enabled
        self.console = console or Console(stderr=True)
        self.progress = make_progress(enabled, self.console)
        self.files: TaskID = self.progress.add_task("files", total=files, visible=files > 1)
        self.windows: TaskID | None = None
        self.interrupted = False
        self._installed = False
        self._previous_handler: object = signal.default_int_handler

    def __enter__(self) -> Self:
        """Also watch for Ctrl-C. Python raises KeyboardInterrupt at the next bytecode of the main
        thread, and when that bytecode runs inside a C callback that swallows exceptions (a
        decoder's log hook) the interrupt is lost; the flag set here makes the next window's
        callback raise it again, so one Ctrl-C always stops the file."""
        if threading.current_thread() is threading.main_thread():
            previous = signal.signal(signal.SIGINT, self._on_sigint)
            self._previous_handler = signal.default_int_handler if previous is None else previous
            self._installed = True
        return super().__enter__()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._installed:
            signal.signal(signal.SIGINT, self._previous_handler)  # type: ignore[arg-type]
            self._installed = False
        super().__exit__(exc_type, exc, tb)

    def _on_sigint(self, signum: int, frame: FrameType | None) -> None:
        self.interrupted = True
        raise KeyboardInterrupt

    def start_file(self, path: Path) -> None:
        """A bar for ``path``'s windows, replacing the previous file's.

        It stays hidden until :meth:`set_windows` (the file opened and was probed), so a file
        that fails at once leaves its error line and no empty bar.
        """
        if self.windows is not None:
            self.progress.remove_task(self.windows)
        self.windows = self.progress.add_task(f"{path.name}", total=None, visible=False)

    def set_windows(self, total: int, description: str | None = None) -> None:
        """The current file's window count, known once it is probed, and what the bar counts:
        finding the players first (``total`` 0: set by the first callback), then separating."""
        if self.windows is not None:
            extra = {} if description is None else {"description": description}
            self.progress.update(self.windows, total=total or None, completed=0, visible=True, **extra)

    def window(self, done: int, total: int) -> None:
        """Progress callback for :meth:`avsep.separation.separator.Separator.stream_file`; raises the
        KeyboardInterrupt of a Ctrl-C that was swallowed on its way (see :meth:`__enter__`)."""
        if self.interrupted:
            raise KeyboardInterrupt
        if self.windows is not None:
            self.progress.update(self.windows, completed=done, total=total)

    def finish_file(self) -> None:
        """One more file of the batch done (separated, skipped or failed)."""
        self.progress.advance(self.files)


class WorkersProgress(_LiveBars):
    """A batch on several workers: files done / total, and one bar per worker naming its file
    (none for a cluster, whose workers report only their results). A no-op when disabled."""

    def __init__(self, files: int, workers: int, enabled: bool = True, console: Console | None = None) -> None:
        self.progress = make_progress(enabled, console or Console(stderr=True))
        self.files: TaskID = self.progress.add_task("files", total=files)
        self.slots = [
            self.progress.add_task(f"worker {i + 1}: waiting", total=None, visible=False) for i in range(workers)
        ]

    def start_file(self, slot: int, path: Path) -> None:
        """Worker ``slot`` took ``path``."""
        self.progress.update(self.slots[slot], description=f"worker {slot + 1}: {path.name}", total=None, completed=0)

    def set_windows(self, slot: int, total: int, description: str | None = None) -> None:
        """Worker ``slot``'s file has ``total`` windows (0: not known yet)."""
        extra = {} if description is None else {"description": f"worker {slot + 1}: {description}"}
        self.progress.update(self.slots[slot], total=total or None, completed=0, visible=True, **extra)

    def window(self, slot: int, done: int, total: int) -> None:
        """Worker ``slot`` finished ``done`` of ``total`` windows."""
        self.progress.update(self.slots[slot], completed=done, total=total)

    def finish_file(self) -> None:
        """One more file of the batch done (separated, skipped or failed)."""
        self.progress.advance(self.files)
