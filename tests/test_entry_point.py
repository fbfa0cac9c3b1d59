"""How the ``avsep`` process ends (:func:`avsep.__main__.exit_process`): once torch is loaded,
without Python's finalisation, but with the exit status, the atexit handlers and every byte
written to the standard streams kept."""

from __future__ import annotations

import subprocess
import sys

import pytest

#: A module-level object whose ``__del__`` speaks only when Python's finalisation runs.
_SCRIPT = """
import atexit, sys
{imports}
import avsep.__main__ as entry

class Finalised:
    def __del__(self):
        sys.stderr.write("finalised\\n")

keep = Finalised()
atexit.register(lambda: sys.stderr.write("atexit ran\\n"))
sys.stdout.write("all of it")  # buffered: lost unless flushed before the process ends
entry.exit_process({code!r})
"""


def _end(imports: str, code: object) -> subprocess.CompletedProcess:
    script = _SCRIPT.format(imports=imports, code=code)
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(("code", "status"), [(None, 0), (0, 0), (3, 3), ("a message", 1)])
def test_with_torch_loaded_the_process_skips_finalisation_and_keeps_its_status(code, status):
    done = _end("import torch", code)
    assert done.returncode == status
    assert done.stdout == "all of it"
    assert "atexit ran" in done.stderr
    assert "finalised" not in done.stderr  # Python's finalisation (and torch's destructors) skipped
    assert ("a message" in done.stderr) == (code == "a message")


def test_without_torch_the_process_ends_as_usual():
    done = _end("", 4)
    assert (done.returncode, done.stdout) == (4, "all of it")
    assert "atexit ran" in done.stderr and "finalised" in done.stderr


def test_a_running_thread_is_waited_for():
    """Another non-daemon thread still running: the usual ending, which waits for it."""
    late = "import torch, threading, time\nthreading.Thread(target=lambda: (time.sleep(0.5), print('joined'))).start()"
    done = _end(late, 0)
    assert done.returncode == 0 and "joined" in done.stdout and "finalised" in done.stderr
