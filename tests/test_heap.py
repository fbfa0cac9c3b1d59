"""HeapWatch (avsep/heap.py): the free heap is given back when the resident size has grown by a
step since the last trim, and only then."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

import avsep.heap as heap


def test_trims_only_after_growing_by_a_step(monkeypatch):
    sizes = iter([1000.0, 1010.0, 1070.0, 1020.0, 1050.0, 1090.0, 1030.0])
    monkeypatch.setattr(heap, "resident_mb", lambda: next(sizes))
    trimmed: list[int] = []
    monkeypatch.setattr(heap, "_MALLOC_TRIM", lambda pad: trimmed.append(pad) or 1)
    watch = heap.HeapWatch(step_mb=50)  # base 1000
    watch()  # 1010: no
    watch()  # 1070 > 1050: trim, base 1020 (after the trim)
    watch()  # 1050: no
    watch()  # 1090 > 1070: trim, base 1030
    assert trimmed == [0, 0] and watch.trims == 2


@pytest.mark.parametrize("missing", ["malloc_trim", "proc"])
def test_without_glibc_or_proc_it_does_nothing(monkeypatch, missing):
    trimmed: list[int] = []
    if missing == "malloc_trim":
        monkeypatch.setattr(heap, "_MALLOC_TRIM", None)
    else:
        monkeypatch.setattr(heap, "_MALLOC_TRIM", lambda pad: trimmed.append(pad) or 1)
        monkeypatch.setattr(heap, "resident_mb", lambda: None)
    watch = heap.HeapWatch(step_mb=0)
    watch()
    assert watch.trims == 0 and not trimmed


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="/proc and malloc_trim are glibc-based Linux's")
def test_this_machine_has_both_hooks():
    """On Linux the resident size is read (and grows with an allocation touched), and glibc's
    malloc_trim is found and runs. In a fresh process: this one's heap may hold free memory that
    is resident already, which a new allocation would reuse without growing."""
    code = (
        "import numpy as np, avsep.heap as h\n"
        "before = h.resident_mb(); block = np.ones(50_000_000 // 8); after = h.resident_mb()\n"
        "trim = h._MALLOC_TRIM\n"
        "print(after - before > 40, block[-1] == 1, trim is not None and trim(0) in (0, 1))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["True", "True", "True"]
