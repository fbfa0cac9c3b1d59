"""How the ``avsep`` process ends (:func:`avsep.__main__.exit_process`): once torch is loaded,
without Python's finalisation, but with the exit status, the atexit handlers and every byte
written to the standard streams kept."""

from __future__ import annotations

import os
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


def _end(imports: str, code: object, **run: object) -> subprocess.CompletedProcess:
    script = _SCRIPT.format(imports=imports, code=code)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # stdout stays buffered
    return subprocess.run([sys.executable, "-c", script], env=env, text=True, timeout=120, **run)


@pytest.mark.parametrize(("code", "status"), [(None, 0), (0, 0), (3, 3), ("a message", 1)])
def test_with_torch_loaded_the_process_skips_finalisation_and_keeps_its_status(code, status):
    done = _end("import torch", code, capture_output=True)
    assert done.returncode == status
    assert done.stdout == "all of it"
    assert "atexit ran" in done.stderr
    assert "finalised" not in done.stderr  # Python's finalisation (and torch's destructors) skipped
    assert ("a message" in done.stderr) == (code == "a message")


def test_without_torch_the_process_ends_as_usual():
    done = _end("", 4, capture_output=True)
    assert (done.returncode, done.stdout) == (4, "all of it")
    assert "atexit ran" in done.stderr and "finalised" in done.stderr


def test_a_running_thread_is_waited_for():
    """Another non-daemon thread still running: the usual ending, which waits for it."""
    late = "import torch, threading, time\nthreading.Thread(target=lambda: (time.sleep(0.5), print('joined'))).start()"
    done = _end(late, 0, capture_output=True)
    assert done.returncode == 0 and "joined" in done.stdout and "finalised" in done.stderr


def test_output_that_cannot_be_written_is_a_failure_not_a_success():
    """stdout on a full device: the last flush fails, and the process says so and exits 120
    (Python's own status for it), not 0."""
    with open("/dev/full", "w") as full:
        done = _end("import torch", 0, stdout=full, stderr=subprocess.PIPE)
    assert done.returncode == 120
    assert "could not write the output" in done.stderr


def test_a_reader_that_left_gives_the_broken_pipe_status():
    read, write = os.pipe()
    os.close(read)
    with os.fdopen(write, "w") as pipe:
        done = _end("import torch", 0, stdout=pipe, stderr=subprocess.PIPE)
    assert done.returncode == 141


_THREADS = """
import os, sys, torch
sys.stdout.write(os.environ.get("OMP_WAIT_POLICY", "unset"))
"""


@pytest.mark.parametrize(("given", "seen"), [(None, "PASSIVE"), ("ACTIVE", "ACTIVE")])
def test_the_command_sets_how_torch_threads_wait_before_torch_loads(given, seen, tmp_path):
    """After :func:`prepare_process` torch starts with sleeping OpenMP threads, unless the user
    chose otherwise (``main`` runs it first: the next test)."""
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    if given is not None:
        env["OMP_WAIT_POLICY"] = given
    runner = "import avsep.__main__ as m, runpy; m.prepare_process(); runpy.run_path(sys.argv[1])"
    (tmp_path / "child.py").write_text(_THREADS)
    done = subprocess.run(
        [sys.executable, "-c", f"import sys; {runner}", str(tmp_path / "child.py")],
        env=env, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    assert done.stdout == seen


def test_main_prepares_the_process_before_torch_and_the_cli_load():
    """The wait policy is read once, when torch loads: ``main`` must set it before anything
    imports torch (the CLI's modules do)."""
    script = (
        "import sys, avsep.__main__ as m\n"
        "m.prepare_process = lambda: print('torch' in sys.modules, 'avsep.cli.app' in sys.modules)\n"
        "sys.argv = ['avsep', '--version']\n"
        "m.main()\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.splitlines()[0] == "False False"
