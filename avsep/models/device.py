"""Choosing the torch device from a ``--device`` string, with one-line errors."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import torch

from avsep.errors import InputError


def select_device(device: str) -> torch.device:
    """``auto`` picks CUDA when present; ``cuda`` without a GPU is a clear error."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise InputError(f"--device {device}: no CUDA GPU is available; use --device cpu")
    try:
        chosen = torch.device(device)
    except RuntimeError as exc:
        raise InputError(f"--device {device!r} is not a device (use auto, cpu or cuda[:N])") from exc
    if chosen.type == "cuda" and chosen.index is not None and chosen.index >= torch.cuda.device_count():
        raise InputError(f"--device {device}: there are {torch.cuda.device_count()} CUDA GPU(s), numbered from 0")
    return chosen


#: Intra-op threads of a separation's network math on the CPU (visual trunk, mask net, masks
#: applied), whatever the process has. oneDNN picks its kernels and splits its sums by the thread
#: count (a 1-image batch on 2 threads sums in another order than on 1), so the guides, the masks
#: and through them every output sample changed with it: ``--jobs 2`` (each worker on half the
#: cores) did not write the bytes ``--jobs 1`` writes. One thread gives the same sums in every
#: process; the cores are used by ``--jobs`` (processes), which scales better than threads
#: within one separation (on 2 cores shared with other work, one thread was also the faster),
#: and by a separation's two halves running side by side, each on this many threads
#: (:func:`spare_core`, :mod:`avsep.separation.pipeline`).
INFERENCE_THREADS = 1

_Method = TypeVar("_Method", bound=Callable[..., Any])

#: CPU flags (``/proc/cpuinfo``) of native bfloat16 arithmetic: without them an autocast to
#: bfloat16 is emulated, and slower than float32
BF16_FLAGS = ("avx512_bf16", "amx_bf16")


def native_bf16(device: torch.device, cpuinfo: str = "/proc/cpuinfo") -> bool:
    """Whether ``device`` is a CPU with native bfloat16 arithmetic (Linux: the flags of
    ``cpuinfo``), where the mask network runs 1.5x faster under a bfloat16 autocast with the
    same real-set SDR (docs/experiments/2026-12-06-speed-round-2.md). GPUs keep float32 (not
    measured)."""
    if device.type != "cpu":
        return False
    try:
        with open(cpuinfo) as f:
            for line in f:
                if line.startswith("flags"):
                    return any(flag in line.split() for flag in BF16_FLAGS)
    except OSError:
        pass
    return False


def spare_core(device: torch.device) -> bool:
    """Whether a separation on ``device`` may run its two halves on two threads at once
    (:mod:`avsep.separation.pipeline`): a CPU whose process has a torch thread budget of 2 or
    more. A ``--jobs`` worker gets the cores divided among the jobs
    (:func:`avsep.batch.workers.threads_per_job`), so with one worker per core the cores are
    used by the workers and no separation adds a thread. Read when a separation starts: a
    worker sets its budget after the separator is built."""
    return device.type == "cpu" and torch.get_num_threads() >= 2


@contextmanager
def inference_threads(device: torch.device) -> Iterator[None]:
    """Run the enclosed torch work on :data:`INFERENCE_THREADS` CPU threads (nothing changes on
    a GPU), restoring the count after. Worker threads use it too (the finder's look, the trunk's
    work ahead): torch keeps the count per thread for OpenMP, but a thread started later may
    inherit a worker's, so all torch work of a separation runs under this."""
    if device.type != "cpu":
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(INFERENCE_THREADS)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def on_inference_threads(method: _Method) -> _Method:
    """Decorate a method of an object with a ``device`` to run under :func:`inference_threads`."""

    @functools.wraps(method)
    def wrapped(self: Any, *args: Any, **kwargs: Any) -> Any:
        with inference_threads(self.device):
            return method(self, *args, **kwargs)

    return wrapped  # type: ignore[return-value]
