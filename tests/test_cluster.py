"""``--ray``: the batch as Ray tasks on a local Ray started here (2 CPUs), with the same outputs
as a local run, and a worker killed mid-batch retried without losing or doubling anything."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from avsep import Separator
from avsep.batch.run import separate_paths
from avsep.errors import InputError
from tests.cli_support import SMALL, wavs

pytestmark = pytest.mark.usefixtures("fast_model")

BOXES = [(0, 0, 32, 48), (32, 0, 64, 48)]
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def local_ray():
    import ray

    # A loaded CI machine can take minutes to start the raylet (Ray's default wait is 10 s).
    os.environ.setdefault("RAY_raylet_start_wait_time_s", "300")
    # The workers unpickle the tests' stand-in trunk, so they need the repository on their path.
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        runtime_env={"env_vars": {"PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}},
    )
    yield ray
    ray.shutdown()


@pytest.fixture
def videos(shared_video, tmp_path):
    folder = tmp_path / "in"
    for i, tones in enumerate(((440.0, 660.0), (300.0, 900.0), (500.0, 700.0))):
        (folder / f"set{i}").mkdir(parents=True)
        duration = 20.0 if i == 0 else SMALL["duration"]  # long enough to be caught mid-write
        shutil.copy(shared_video(f"c{i}.mp4", tones=tones, width=64, height=48, duration=duration), folder / f"set{i}")
    return folder


def _same_files(a: Path, b: Path) -> list[str]:
    files = sorted(wavs(a))
    assert files == sorted(wavs(b))
    assert all((a / f).read_bytes() == (b / f).read_bytes() for f in files)
    return files


def test_ray_writes_what_a_local_run_writes_and_survives_a_killed_worker(local_ray, videos, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # relative paths, as typed: the tasks must resolve them here too
    videos = videos.relative_to(tmp_path)
    separator = Separator(device="cpu")
    local = separate_paths(separator, videos, "local", BOXES, report="local.json")
    assert [o.status for o in local] == ["ok"] * 3

    out = Path("ray")
    killed: list[int] = []

    def kill_a_worker() -> None:
        """SIGKILL the Ray worker writing the long video, found by its claim marker."""
        deadline = time.monotonic() + 120
        while not killed and time.monotonic() < deadline:
            for mark in out.rglob(".*.claim"):
                try:
                    pid = json.loads(mark.read_text())["pid"]
                except (OSError, ValueError, KeyError):
                    continue
                if "set0" in str(mark) and pid != os.getpid():
                    os.kill(pid, signal.SIGKILL)
                    killed.append(pid)
                    return
            time.sleep(0.02)

    killer = threading.Thread(target=kill_a_worker)
    killer.start()
    remote = separate_paths(separator, videos, out, BOXES, ray="auto", report="ray.json")
    killer.join()
    assert killed, "no worker was caught writing"
    assert [(o.video, o.status) for o in remote] == [(o.video, "ok") for o in local]
    assert any("took over the claim" in note for note in remote[0].notes)  # the retry, after the kill
    assert len(_same_files(tmp_path / "local", out)) == 6  # nothing lost, no temporary file or marker left
    report = json.loads((tmp_path / "ray.json").read_text())
    assert [e["input"] for e in report["files"]] == [str(o.video) for o in local]  # each once
    assert [e["status"] for e in report["files"]] == ["written"] * 3


def test_a_missing_ray_is_one_line_naming_the_extra(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_ray(name, *args, **kwargs):
        if name == "ray":
            raise ImportError("No module named 'ray'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_ray)
    from avsep.batch.cluster import import_ray

    with pytest.raises(InputError, match=r"pip install 'avsep\[cluster\]'"):
        import_ray()


def test_ray_stays_out_of_the_base_install_and_of_a_run_without_ray():
    from tests.test_packaging import PYPROJECT, names

    assert "ray" not in names(PYPROJECT["project"]["dependencies"])
    assert "ray" in names(PYPROJECT["project"]["optional-dependencies"]["cluster"])
    code = (
        "import sys, avsep.cli.app, avsep.batch.workers, avsep.cli.batch; "
        "assert 'ray' not in sys.modules, 'ray imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
