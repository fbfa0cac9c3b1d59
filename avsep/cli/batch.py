"""How ``avsep separate`` runs a batch: on this process, on ``--jobs`` workers or on ``--ray``,
and what it tells the user and the ``--report`` file about each finished input.

The per-file rules live in :mod:`avsep.batch.job`, the engines in :mod:`avsep.batch.workers` and
:mod:`avsep.batch.cluster`, their options (checked before anything heavy loads) in
:class:`avsep.options.BatchOptions`; this module is the CLI's side of them: the progress display,
the error and note lines, the summary and the report.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from rich.markup import escape

from avsep.batch.job import BatchJob, Outcome
from avsep.batch.report import clear_leftovers, write_report
from avsep.batch.workers import spread
from avsep.cli.reporting import err, fail
from avsep.cli.views import batch_summary
from avsep.errors import EXIT_INTERRUPTED, AvsepError, InputError
from avsep.progress import WorkersProgress

if TYPE_CHECKING:
    from avsep.separation.separator import Separator


def wrote(paths: list[Path]) -> str:
    """``separated/duet/violin.wav, flute.wav``: the first path whole, the rest by name when
    they sit beside it."""
    return ", ".join(str(p) if i == 0 or p.parent != paths[0].parent else p.name for i, p in enumerate(paths))


class Finished:
    """The inputs finished so far: says what happened to each (skips, notes), keeps the report
    file up to date, and at the end prints the summary and gives the exit code."""

    def __init__(self, job: BatchJob) -> None:
        report = job.options.report
        self.job, self.report = job, None if report is None else Path(report)
        for note in clear_leftovers(self.report) if self.report is not None else []:
            err.print(f"note: {escape(note)}", soft_wrap=True)
        self.outcomes = [Outcome(p, "failed", msg, fail(InputError(msg), False)) for p, msg in job.problems]
        self._order = {v: i for i, v in enumerate(job.videos)}
        self._write_report()  # now: a report that cannot be written stops the batch before any work

    def __iter__(self) -> Iterator[Outcome]:
        return iter(self.outcomes)

    def append(self, outcome: Outcome) -> None:
        for note in outcome.notes:
            err.print(f"note: {escape(note)}", soft_wrap=True)
        if outcome.status == "skipped" and not self.job.quiet:
            err.print(f"skipped {escape(str(outcome.video))}: {outcome.detail}", soft_wrap=True)
        if outcome.outputs and not self.job.quiet:
            err.print(f"wrote {escape(wrote(outcome.outputs))} ({escape(outcome.boxes)})", soft_wrap=True)
        self.outcomes.append(outcome)
        self._write_report()

    def kept(self) -> str:
        """What an interrupted batch keeps, counted in files and in videos (each writes several)."""
        done = [o for o in self.outcomes if o.status == "ok"]
        return f"the {sum(len(o.outputs) for o in done)} file(s) of the {len(done)} finished video(s) were kept"

    def _write_report(self) -> None:
        if self.report is not None:
            self.outcomes.sort(key=lambda o: self._order.get(o.video, -1))
            write_report(self.report, self.outcomes, len(self.job.problems) + len(self.job.videos))

    def close(self) -> int:
        """The summary (one line per input) and the exit code."""
        self._write_report()
        self.outcomes.sort(key=lambda o: self._order.get(o.video, -1))
        if not self.job.quiet and self.job.out_dir is not None and len(self.outcomes) > 1:
            batch_summary(self.outcomes)
        return max((o.exit_code for o in self.outcomes), default=0)


def run_spread(job: BatchJob, separator: Separator) -> int:
    """The batch on local workers or a Ray cluster; the same lines, report and exit code as a
    run in this process. Returns the exit code."""
    finished = Finished(job)
    slots = 0 if job.options.ray is not None else min(job.options.jobs, len(job.videos))
    with WorkersProgress(len(job.videos), slots, enabled=not job.quiet, console=err) as progress:
        try:
            for _, outcome in spread(job, separator, progress):
                if outcome.status == "failed":
                    fail(outcome.error or AvsepError(outcome.detail), False, outcome.video)
                finished.append(outcome)
                progress.finish_file()
        except KeyboardInterrupt:
            progress.stop()
            err.print(
                f"interrupted: the partial outputs of the videos in progress were removed; {finished.kept()}",
                soft_wrap=True,
            )
            return EXIT_INTERRUPTED
    return finished.close()
