"""``--report PATH.json``: what became of each input of a batch, for machines and re-runs.

One entry per input, in input order: ``input``, ``status`` (``written``, ``skipped`` or
``failed``), ``reason`` (the one-line error of a failure, why a video was skipped), ``outputs``
(path, sample rate, duration in seconds), the ``boxes`` and ``names`` used, the ``seconds``
taken, ``notes`` (what was done on the way: stale files removed) and ``warnings`` (each warning
the input gave, as shown on the console). The file is rewritten (atomically) after every
finished input, so a batch killed half-way leaves the report of what it finished (a ``kill -9``
in the middle of a rewrite leaves its temporary file, which the next batch with this report
removes: :func:`clear_leftovers`); re-running it with ``--skip-existing`` resumes, skipping the
videos whose outputs are provably theirs (:mod:`avsep.batch.provenance`).
"""

from __future__ import annotations

import json
from pathlib import Path

from avsep.batch.claims import remove_stale_temporaries
from avsep.batch.job import Outcome
from avsep.io.atomic import atomic_write


class LeftoverRemovedWarning(UserWarning):
    """A temporary file a killed run left beside the report was removed (the API's counterpart
    of the CLI's ``note: removed ...``): the caller learns that the last run did not end."""


STATUS = {"ok": "written", "skipped": "skipped", "failed": "failed"}


def entry(outcome: Outcome) -> dict:
    """One input's line of the report."""
    written = outcome.written
    return {
        "input": str(outcome.video),
        "status": STATUS[outcome.status],
        "reason": None if outcome.status == "ok" else outcome.detail,
        "outputs": written.get("outputs", []),
        "boxes": written.get("boxes"),
        "names": written.get("names"),
        "seconds": outcome.seconds,
        "notes": outcome.notes,
        "warnings": outcome.warnings,
    }


def summary(outcomes: list[Outcome]) -> dict:
    """Counts per status, as the report's head."""
    counts = {s: 0 for s in STATUS.values()}
    for o in outcomes:
        counts[STATUS[o.status]] += 1
    return counts


def write_report(path: Path, outcomes: list[Outcome], total: int) -> None:
    """(Re)write the report of ``outcomes`` (of ``total`` inputs) at ``path``."""
    body = {"inputs": total, "finished": len(outcomes), **summary(outcomes), "files": [entry(o) for o in outcomes]}
    data = json.dumps(body, indent=1, ensure_ascii=False).encode()
    atomic_write(path, lambda f: f.write(data))


def clear_leftovers(path: Path) -> list[str]:
    """Before a batch writes its report at ``path``: remove the temporary files of a rewrite a
    killed run left there; one note per file removed."""
    return remove_stale_temporaries(path)
