"""Where ``avsep separate`` runs its batch (``--jobs``, ``--ray``, ``--gpus-per-job``) and where
its ``--report`` goes, checked before anything heavy loads.

The engines themselves live in :mod:`avsep.batch.workers` and :mod:`avsep.batch.cluster`, and the CLI's
side of them in :mod:`avsep.cli.batch`; this module imports only the standard library and
:mod:`avsep.errors`, so a wrong ``--jobs`` answers at once (a missing Ray is found by importing
it, which loads the batch).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from avsep.errors import InputError


@dataclass
class Engine:
    """Where a batch runs (``--jobs``, ``--ray``, ``--gpus-per-job``) and where its report goes."""

    jobs: int = 1
    ray: str | None = None
    gpus_per_job: float = 0.0
    report: Path | None = None

    @classmethod
    def create(cls, jobs: int, ray: str | None, gpus_per_job: float, report: Path | None, out: str) -> Engine:
        """Check the options before the model loads (a missing Ray fails at once, in one line)."""
        if jobs < 1:
            raise InputError(f"--jobs {jobs}: give 1 or more")
        if gpus_per_job < 0 or (gpus_per_job and ray is None):
            raise InputError(f"--gpus-per-job {gpus_per_job}: give 0 or more, with --ray (local runs use --device)")
        if (jobs > 1 or ray is not None) and str(out) == "-":
            raise InputError("-o - streams one video; --jobs and --ray need an output folder")
        if ray is not None:
            from avsep.batch.cluster import import_ray  # deferred: the batch under it loads torch

            import_ray()
        return cls(jobs, ray, gpus_per_job, report)

    @property
    def spread(self) -> bool:
        """Whether the videos run elsewhere than in this process."""
        return self.jobs > 1 or self.ray is not None
