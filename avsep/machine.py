"""What machine a number came from: one description for training summaries and benchmarks.

Speed figures are meaningless without the CPU, its core count, the load when they were taken
and the torch build; every benchmark and every training summary records the same fields, so
they are written once, here.
"""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path


def cpu_name() -> str:
    """The CPU model (``/proc/cpuinfo``), else what :mod:`platform` knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_info(repo: Path | None = None) -> dict:
    """CPU, logical CPUs, load average, Python, torch and its threads, and (with ``repo``) the
    git commit the code came from (``+dirty`` when ``avsep/`` has uncommitted changes)."""
    import torch

    info = {
        "cpu": cpu_name(),
        "logical_cpus": os.cpu_count(),
        "load_avg_at_start": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
    }
    if repo is not None:
        try:
            rev = _git(repo, "rev-parse", "--short", "HEAD").stdout.strip()
            dirty = bool(_git(repo, "status", "--porcelain", "avsep").stdout.strip())
            info["git"] = rev + ("+dirty" if dirty else "")
        except OSError:
            info["git"] = ""
    return info


def describe(device=None) -> str:
    """One line for a training summary: the GPU's name, or the CPU with cores and threads."""
    import torch

    if device is not None and getattr(device, "type", None) == "cuda":
        return f"{torch.cuda.get_device_name(device)} (torch {torch.__version__})"
    return (
        f"CPU {cpu_name()}, {os.cpu_count()} cores, {torch.get_num_threads()} torch threads (torch {torch.__version__})"
    )


def _git(repo: str | Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=False)
