"""``avsep.Separator.separate_many`` / :func:`separate_paths`: a batch run from Python, in this
process, on ``jobs`` local worker processes (:mod:`avsep.batch.workers`) or on a Ray cluster
(:mod:`avsep.batch.cluster`), with an optional JSON report (:mod:`avsep.batch.report`).

The rules of each video are :mod:`avsep.batch.job`'s (:func:`avsep.batch.job.run_file`); this module
sits above the engines, which sit above the rules, so none of them imports another in a circle.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from avsep.batch.job import BatchJob, Outcome, run_file
from avsep.batch.report import LeftoverRemovedWarning, clear_leftovers, write_report
from avsep.batch.streams import Streams
from avsep.batch.workers import spread
from avsep.boxes.box import Box
from avsep.boxes.players import BoxPlan
from avsep.boxes.request import BoxRequest
from avsep.errors import InputError
from avsep.options import DEFAULT_OUT, BatchOptions


def separate_paths(
    separator: Streams,
    inputs: str | Path | Iterable[str | Path],
    out_dir: str | Path = DEFAULT_OUT,
    boxes: Sequence[Box] | BoxPlan | str | None = None,
    *,
    sources: int | None = None,
    options: BatchOptions | None = None,
    **fields: Any,
) -> list[Outcome]:
    """Separate videos and folders of videos into WAV files, as ``avsep separate`` does.

    ``inputs``: video files and folders (searched recursively). ``fields`` are those of
    :class:`~avsep.options.BatchOptions` (``names``, ``template``, ``fmt``, ``sample_rate``,
    ``residual``, ``mono``, ``skip_existing``, ``overwrite``, ``audio_stream``, ``video_stream``,
    ``jobs``, ``ray``, ``gpus_per_job``, ``report``), over ``options`` when given. Each video's
    outputs go to ``template`` under ``out_dir``; the names come from the video's
    ``<video>.boxes.json`` sidecar (used when ``boxes`` is None or ``"auto"``: given boxes win
    over it), else ``names``, else the boxes' names, else ``sourceN`` (then ``residual``). A
    video's files appear all together or not at all.

    Bad arguments raise :class:`~avsep.errors.InputError` before any video is read. A video
    that fails does not stop the batch: its :class:`Outcome` is ``failed``, with the message in
    ``detail`` and the exception in ``error``. Returns one outcome per input, in order (folders
    without videos first; a file given twice is separated once, with a
    :class:`~avsep.batch.checks.DuplicateInputWarning`). A fallback of automatic boxes to strips is an
    :class:`~avsep.boxes.players.AutoBoxesWarning`.

    ``jobs`` > 1 and ``ray`` run on worker processes or a Ray cluster (:mod:`avsep.batch.workers`,
    :mod:`avsep.batch.cluster`); ``report`` writes the JSON report (:mod:`avsep.batch.report`; the
    temporary file of a report rewrite a killed run left is removed, with a
    :class:`~avsep.batch.report.LeftoverRemovedWarning` saying so, as the CLI prints a note).
    """
    if isinstance(inputs, (str, Path)):
        inputs = [inputs]
    options = replace(options or BatchOptions(), out_dir=out_dir, **fields)
    request = BoxRequest.from_api(boxes, sources=sources, names=options.names, sidecars=True)
    job = BatchJob.create([Path(p) for p in inputs], request, options)
    if options.report is not None:
        for note in clear_leftovers(Path(options.report)):
            warnings.warn(note, LeftoverRemovedWarning, stacklevel=2)
    outcomes = [Outcome(p, "failed", msg, InputError.exit_code, InputError(msg)) for p, msg in job.problems]
    if options.spread:
        finished = sorted(spread(job, separator, None), key=lambda r: r[0])
        outcomes += [o for _, o in finished]
    else:
        claimed: dict[Path, Path] = {}
        outcomes += [run_file(job, separator, video, claimed=claimed) for video in job.videos]
    if options.report is not None:
        write_report(Path(options.report), outcomes, len(outcomes))
    return outcomes
