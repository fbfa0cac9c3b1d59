"""Freed heap memory given back to the system while a long loop runs (glibc's ``malloc_trim``).

The player finder allocates and frees frame-sized temporaries (a 1080p frame is 6 MB, a float
copy of a large box's crop up to 44 MB) between small allocations that live on (the kept crops'
bookkeeping). After the first such frees glibc raises its mmap threshold, so later ones come
from the heap, which it gives back only from its top: in about one 1080p automatic run in four
the finder's resident memory grew by 20-30 MB a frame, to 1.5-2.5 GB on a 2-minute video,
where the other runs stayed near 1.1 GB. A fixed mmap threshold (``MALLOC_MMAP_THRESHOLD_``)
keeps it flat but the finder took 7.3-9.7 s instead of 4.3-4.8 s (every large temporary mapped
and faulted in afresh); ``malloc_trim(0)`` whenever the resident size has grown by
:data:`STEP_MB` since the last trim kept 8 of 8 finder runs at 1049-1103 MB in 4.4-5.4 s
(docs/experiments/2026-12-06-speed-round-2.md); in the separation's window loop it took a
10-minute automatic run from 1.3-1.5 to 1.2 GB. On the ground, beside timing.py, because both
the finder (boxes/) and the separation use it. Elsewhere than glibc-based Linux it does nothing.
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Callable

#: Growth of the resident size (MB) since the last trim that triggers the next one.
STEP_MB = 64


def resident_mb() -> float | None:
    """This process's resident size in MB (from /proc; None where there is none)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return None


def _find_malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim`` in this process, or None where the C library has none (musl,
    macOS, Windows)."""
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError, TypeError):
        return None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return trim


#: the C library's ``malloc_trim``, looked up once (None where there is none)
_MALLOC_TRIM = _find_malloc_trim()


class HeapWatch:
    """Call once per round of a long loop: gives the free heap back when the resident size has
    grown by more than ``step_mb`` since the last time it did (or since the watch began)."""

    def __init__(self, step_mb: float = STEP_MB) -> None:
        self.step_mb = step_mb
        self.trims = 0
        self._trim = _MALLOC_TRIM
        self._base = resident_mb()

    def __call__(self) -> None:
        if self._trim is None or self._base is None:
            return
        now = resident_mb()
        if now is not None and now > self._base + self.step_mb:
            self._trim(0)
            self.trims += 1
            self._base = resident_mb() or now
