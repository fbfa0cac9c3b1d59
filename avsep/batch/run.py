"""``avsep.Separator.separate_many`` / :func:`separate_paths`: a batch run from Python, in this
process, on ``jobs`` local worker processes (:mod:`avsep.batch.workers`) or on a Ray cluster
(:mod:`avsep.batch.cluster`), with an optional JSON report (:mod:`avsep.batch.report`).

The rules of each video are :mod:`avsep.batch.job`'s (:func:`avsep.batch.job.run_file`); this module
sits above the engines, which sit above the rules, so none of them imports another in a circle.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path

from avsep.batch.job import DEFAULT_TEMPLATE, BatchJob, Outcome, Streams, run_file
from avsep.batch.report import LeftoverRemovedWarning, clear_leftovers, write_report
from avsep.batch.workers import spread
from avsep.boxes.box import Box
from avsep.boxes.players import BoxPlan
from avsep.boxes.request import BoxRequest
from avsep.errors import InputError


def separate_paths(
    separator: Streams,
    inputs: str | Path | Iterable[str | Path],
    out_dir: str | Path = "separated",
    boxes: Sequence[Box] | BoxPlan | str | None = None,
    *,
    names: Sequence[str] | None = None,
    sources: int | None = None,
    template: str = DEFAULT_TEMPLATE,
    fmt: str = "pcm16",
    sample_rate: int | None = None,
    residual: bool = False,
    mono: bool = False,
    skip_existing: bool = False,
    overwrite: bool = False,
    audio_stream: int | None = None,
    video_stream: int | None = None,
    jobs: int = 1,
    ray: str | None = None,
    gpus_per_job: float = 0.0,
    report: str | Path | None = None,
) -> list[Outcome]:
    """Separate videos and folders of videos into WAV files, as ``avsep separate`` does.

    ``inputs``: video files and folders (searched recursively). Each video's outputs go to
    ``template`` under ``out_dir`` (fields ``{stem}`` ``{name}`` ``{index}`` ``{ext}``); the
    names come from the video's ``<video>.boxes.json`` sidecar (used when ``boxes`` is None or
    ``"auto"``: given boxes win over it), else ``names``, else the boxes'
    names, else ``sourceN`` (then ``residual``); ``fmt`` is a WAV (pcm16, pcm24, float) or FLAC
    (flac, flac24) format; the outputs keep the video's channels unless ``mono``. Existing
    outputs make a video fail unless ``skip_existing`` or ``overwrite``; a video's files appear
    all together or not at all.

    Bad arguments raise :class:`~avsep.errors.InputError` before any video is read. A video
    that fails does not stop the batch: its :class:`Outcome` is ``failed``, with the message in
    ``detail`` and the exception in ``error``. Returns one outcome per input, in order (folders
    without videos first). A fallback of automatic boxes to strips is an
    :class:`~avsep.boxes.players.AutoBoxesWarning`.

    ``jobs`` > 1 runs the videos on that many worker processes, ``ray`` (``"auto"`` or an
    address) as tasks of a Ray cluster, ``gpus_per_job`` GPUs each (:mod:`avsep.batch.workers`,
    :mod:`avsep.batch.cluster`); ``report`` writes the JSON report (:mod:`avsep.batch.report`; the
    temporary file of a report rewrite a killed run left is removed, with a
    :class:`~avsep.batch.report.LeftoverRemovedWarning` saying so, as the CLI prints a note).
    """
    if isinstance(inputs, (str, Path)):
        inputs = [inputs]
    request = BoxRequest.from_api(boxes, sources=sources, names=names, sidecars=True)
    job = BatchJob.create(
        [Path(p) for p in inputs],
        request,
        names=list(names) if names else None,
        out=Path(out_dir),
        template=template,
        fmt=fmt,
        sample_rate=sample_rate,
        residual=residual,
        mono=mono,
        skip_existing=skip_existing,
        overwrite=overwrite,
        audio_stream=audio_stream,
        video_stream=video_stream,
    )
    if jobs < 1:
        raise InputError(f"--jobs {jobs}: give 1 or more")
    if report is not None:
        for note in clear_leftovers(Path(report)):
            warnings.warn(note, LeftoverRemovedWarning, stacklevel=2)
    outcomes = [Outcome(p, "failed", msg, InputError.exit_code, InputError(msg)) for p, msg in job.problems]
    if jobs > 1 or ray is not None:
        finished = sorted(spread(job, separator, None, jobs, ray, gpus_per_job), key=lambda r: r[0])
        outcomes += [o for _, o in finished]
    else:
        claimed: dict[Path, Path] = {}
        outcomes += [run_file(job, separator, video, claimed=claimed) for video in job.videos]
    if report is not None:
        write_report(Path(report), outcomes, len(outcomes))
    return outcomes
