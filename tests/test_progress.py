"""The batch progress display also makes one Ctrl-C stop a file for sure."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from avsep.progress import SeparationProgress


def _swallowed_ctrl_c() -> None:
    """A Ctrl-C whose KeyboardInterrupt lands where it is swallowed (as in a C callback that
    ignores exceptions)."""
    try:
        os.kill(os.getpid(), signal.SIGINT)
        for _ in range(1000):  # the handler runs at one of the next bytecodes
            pass
    except KeyboardInterrupt:
        pass


def test_a_swallowed_ctrl_c_stops_the_file_at_the_next_window():
    with SeparationProgress(1, enabled=False) as progress:
        progress.start_file(Path("v.mp4"))
        progress.window(1, 3)
        _swallowed_ctrl_c()
        with pytest.raises(KeyboardInterrupt):
            progress.window(2, 3)


def test_the_previous_handler_comes_back():
    before = signal.getsignal(signal.SIGINT)
    with SeparationProgress(1, enabled=False):
        assert signal.getsignal(signal.SIGINT) is not before
    assert signal.getsignal(signal.SIGINT) is before
