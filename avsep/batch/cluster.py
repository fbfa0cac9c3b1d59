"""``--ray auto|ADDRESS``: a batch spread over a Ray cluster (the optional ``[cluster]`` extra).

Ray does the distributing, the scheduling on CPUs or GPUs and the retrying of a task whose
worker or machine was lost; avsep only says what one task is: one video under the batch's rules
(:func:`avsep.batch.job.run_file`, the very function a local worker runs), so the outputs, their
names, the provenance records and the report are those of a local run. The loaded
:class:`~avsep.separation.separator.Separator` is put into Ray's object store once and shared by every task.
A retried task finds the claim of its lost predecessor stale and its temporary files
abandoned (:mod:`avsep.batch.claims`): it takes both over, so nothing is lost or written twice.

The outputs must go to a folder every node sees (a shared file system) and the inputs be
readable at the same paths. Ray is imported only here, only when ``--ray`` is given.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from avsep.batch.job import BatchJob, Outcome, run_file
from avsep.batch.streams import Streams
from avsep.errors import AvsepError, InputError

#: Times Ray re-runs a task whose worker process or node died.
RETRIES = 3


def import_ray():
    """The ``ray`` module, or a one-line error naming the extra that provides it."""
    try:
        import ray
    except ImportError:
        raise InputError(
            "--ray needs Ray, which the base install leaves out: pip install 'avsep[cluster]' "
            "(bash install.sh --train includes it)"
        ) from None
    return ray


def connect(address: str) -> None:
    """Join the cluster at ``address`` (``auto``: the one this machine belongs to, through
    ``RAY_ADDRESS`` or ``ray start``, else a local Ray on this machine's cores); nothing to do
    when this process is already connected (a test or a notebook that called ``ray.init``)."""
    ray = import_ray()
    if ray.is_initialized():
        return
    try:
        ray.init(address=None if address == "auto" else address, log_to_driver=False)
    except (ConnectionError, ValueError, RuntimeError) as exc:
        raise InputError(f"--ray {address}: cannot connect to the Ray cluster ({exc})") from None


def _task(job: BatchJob, separator: Streams, video, gpus: float, cwd: str) -> Outcome:
    """One video in a Ray worker (on a GPU when Ray gave it one), in the folder avsep was
    started in where this node has it, so relative inputs and -o mean what they meant there."""
    if os.path.isdir(cwd):
        os.chdir(cwd)
    if gpus > 0:
        _to_gpu(separator)
    return run_file(job, separator, video)


def _to_gpu(separator: Streams) -> None:
    """Move a separator loaded on the head node's device to this worker's GPU."""
    import torch

    if torch.cuda.is_available() and separator.device.type != "cuda":
        separator.device = torch.device("cuda")
        separator.model.to(separator.device)
        separator.trunk.to(separator.device)
        separator._finder = None  # rebuilt on the GPU when needed


def run_on_ray(
    job: BatchJob, separator: Streams, address: str, gpus_per_job: float = 0.0
) -> Iterator[tuple[int, Outcome]]:
    """Run ``job.videos`` as Ray tasks; yields ``(index, outcome)`` as they finish (any order).
    A task that lost its worker more than :data:`RETRIES` times fails its video, with the reason."""
    ray = import_ray()
    connect(address)
    task = ray.remote(_task).options(num_cpus=1, num_gpus=gpus_per_job, max_retries=RETRIES, retry_exceptions=False)
    shared = ray.put(separator)
    cwd = os.getcwd()
    pending = {task.remote(job, shared, video, gpus_per_job, cwd): i for i, video in enumerate(job.videos)}
    try:
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            index = pending.pop(ready[0])
            try:
                outcome = ray.get(ready[0])
            except ray.exceptions.RayError as exc:
                video = job.videos[index]
                reason = f"{video}: its Ray task failed after {RETRIES} retries ({type(exc).__name__})"
                outcome = Outcome(video, "failed", reason, 1, AvsepError(reason))
            yield index, outcome
    finally:
        for ref in pending:
            ray.cancel(ref, force=True)
