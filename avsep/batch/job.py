"""The batch rules of ``avsep separate``, shared by the CLI and the Python API.

What a run over many videos promises, whoever starts it:

* **inputs**: files as given, folders searched recursively for video files
  (:func:`find_videos`); a folder without videos is one failed input, not a stop;
* **naming**: one output per box, named by a sidecar ``<video>.boxes.json``, the given names,
  the boxes' names (class guesses in automatic mode) or ``sourceN``, then ``residual``
  (:func:`output_names`), placed by a template under the output folder
  (:func:`~avsep.batch.checks.render_template`);
* **tree**: a video found in a folder keeps its place below that folder under the output
  folder (``concert/day1/x.mp4`` -> ``OUT/day1/x/...``), so equal file names never collide;
* **claims**: two videos of one batch may not write the same file, and each output is claimed
  on disk while it is written (:mod:`avsep.batch.claims`), so concurrent runs never both write one;
* **skip / overwrite**: existing outputs stop a video unless ``skip_existing`` (all of them
  exist and the record beside them says this video made them with these options,
  :mod:`avsep.batch.provenance`: the video is skipped) or ``overwrite`` (they are replaced);
* **atomic writes**: a video's files appear all together or not at all (an error or Ctrl-C
  removes every temporary file; those of a run killed harder are removed by the next run).

:class:`BatchJob` holds a checked invocation; :func:`run_file` runs one video of it, for every
engine: the CLI's loop (which adds progress bars, error lines and the summary), a ``--jobs``
worker, a Ray task and :func:`avsep.batch.run.separate_paths` (:meth:`avsep.Separator.separate_many`).
Each video is probed once; its boxes come from :func:`avsep.boxes.request.plan_boxes`. The separator
is any :class:`Streams` (as the Separator is): this module sits below it and never imports it.
"""

from __future__ import annotations

import pickle
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from avsep.batch import checks, claims, provenance
from avsep.batch.checks import check_options, find_videos, mirror_dirs, output_names, source_number
from avsep.batch.heard import warnings_heard
from avsep.batch.streams import Progress, SeparationStream, Silent, Streams, guide_note, output_channels
from avsep.boxes.players import BoxPlan
from avsep.boxes.request import FIND, BoxRequest
from avsep.errors import AvsepError, InputError
from avsep.io.media import MediaInfo, check_readable, check_separable, clip, probe
from avsep.io.output import (
    check_format,
    check_output_audio,
    extension,
    fixed_extension,
    output_frames,
    stem_tags,
    write_outputs,
    write_stdout,
    written_rate,
)
from avsep.io.soundtrack import check_soundtrack
from avsep.options import BatchOptions
from avsep.timerange import TimeRange

#: The template's name for a video's provenance record (``.avsep.json``: no output is a .json).
RECORD_NAME = ".avsep"


@dataclass
class Outcome:
    """What became of one input: ``status`` ok, skipped or failed; ``detail`` the outputs
    written (``stdout`` for a stream), why it was skipped, or the error message."""

    video: Path
    status: str  # ok, skipped, failed
    detail: str
    exit_code: int = 0
    #: the exception of a failed input (one that survives pickling: :func:`failure`)
    error: BaseException | None = None
    #: the files written (an ``ok`` input with an output folder)
    outputs: list[Path] = field(default_factory=list)
    #: where its boxes came from (:meth:`avsep.boxes.request.BoxRequest.describe`)
    boxes: str = ""
    #: what was written (or found written, when skipped), for the report: ``outputs`` (path,
    #: sample rate, duration), ``boxes``, ``names``; see :mod:`avsep.batch.report`
    written: dict = field(default_factory=dict)
    #: things done on the way that the user should hear of (stale files removed)
    notes: list[str] = field(default_factory=list)
    #: the warnings it gave, as shown (:mod:`avsep.batch.heard`), for its report line
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0  # spent on this input


#: ``announce(video, plan, names, quiet)``: told the players automatic mode found in a video
#: (a fallback to strips has already been a :class:`~avsep.boxes.players.AutoBoxesWarning`).
Announce = Callable[[Path, BoxPlan, "list[str] | None", bool], None]


@dataclass
class BatchJob:
    """A checked batch: what to read, which boxes, where and how to write."""

    videos: list[Path]
    problems: list[tuple[Path, str]]
    request: BoxRequest  # the boxes asked for every video (a sidecar may stand in)
    names: list[str] | None
    out_dir: Path | None  # None: stdout
    options: BatchOptions = field(default_factory=BatchOptions)
    #: the source written to stdout (``out_dir`` None): 1-based, or a found player's name
    source: int | str | None = None
    quiet: bool = False
    debug: bool = False
    announce: Announce | None = None
    #: video -> its folder below the input folder it was found in (:func:`mirror_dirs`)
    subdirs: dict[Path, Path] = field(default_factory=dict)
    #: this invocation, in the claims it makes (a retried task may take over its own claim)
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    #: the part of each video separated (``--start``/``--end``)
    span: TimeRange = field(default_factory=TimeRange)

    @classmethod
    def create(
        cls,
        inputs: Iterable[Path],
        request: BoxRequest,
        options: BatchOptions | None = None,
        *,
        quiet: bool = False,
        debug: bool = False,
        announce: Announce | None = None,
    ) -> BatchJob:
        """Check everything that does not need a video (:func:`avsep.batch.checks.check_options`,
        then ``--format``, then that no two videos share one place of outputs), so mistakes fail
        before the model loads."""
        options = options or BatchOptions()
        inputs = [Path(p) for p in inputs]
        source = check_options(inputs, request, options)
        check_format(options)
        names = list(options.names) if options.names else request.names
        videos, problems = find_videos(inputs)
        out_dir = None if options.to_stdout else Path(options.out_dir)
        job = cls(videos, problems, request, names, out_dir, options, source, quiet, debug, announce)
        job.subdirs = mirror_dirs(inputs, videos)
        job.span = TimeRange.parse(options.start, options.end, options.wording)
        if out_dir is not None:
            records = {video: job.record_path(video) for video in videos if video.is_file()}
            checks.check_shared_places(records, options.wording)
        return job

    def probe(self, video: Path, separator: Streams) -> MediaInfo:
        """The video probed (once per separation) with the chosen streams, seen over the range
        asked for (:func:`avsep.io.media.clip`); it must be separable, and give sound in the range
        and in the format (said or refused here, before any work)."""
        options = self.options
        media = probe(video, audio_stream=options.audio_stream, video_stream=options.video_stream)
        check_separable(media)
        media = clip(media, self.span)
        check_soundtrack(media, options.audio_stream, options.wording)
        check_output_audio(media, options, output_channels(media.audio, options.mono, separator.full_band))
        return media

    def find(self, separator: Streams, request: BoxRequest, media: MediaInfo, progress: Progress) -> BoxPlan:
        """The players of one video, found under a progress bar and announced (:attr:`announce`)."""
        progress.set_windows(0, f"{media.path.name}: finding players")
        plan = separator.plan(request, media, progress.window)
        if self.announce is not None and not plan.note:
            self.announce(media.path, plan, self.names or plan.names, self.quiet)
        return plan

    def box_plan(self, separator: Streams, video: Path, progress: Progress) -> tuple[MediaInfo, BoxPlan, list[str]]:
        """For a command that reads the video before naming its outputs (``avsep remix``): the video
        probed, its boxes (found players announced), one name per source (:meth:`separate_one`'s rules)."""
        request = self.request.for_video(video)
        media = self.probe(video, separator)
        if request.kind == FIND:
            plan = self.find(separator, request, media, progress)
        else:
            plan = separator.plan(request, media)
        names = self.names if request is self.request and self.names else plan.names
        return media, plan, output_names(len(plan.sources), names, residual=False)

    def folder(self, video: Path) -> Path:
        """Where the template places ``video``'s outputs: its input folder's tree mirrored under ``-o``."""
        return self.out_dir / self.subdirs.get(video, Path())

    def paths(self, video: Path, labels: list[str]) -> list[Path]:
        """Where each output of ``video`` goes (none for stdout)."""
        if self.out_dir is None:
            return []
        folder = self.folder(video)
        ext = extension(self.options.fmt)
        template, say = self.options.template, self.options.wording
        paths = [checks.render_template(template, folder, video, n, i + 1, ext, say) for i, n in enumerate(labels)]
        if len(set(paths)) != len(paths):
            said = say("template", template, quoted=True)
            raise InputError(f"{said} gives the same path to two outputs; use {{name}} or {{index}}")
        record = self.record_path(video)
        if record in paths:
            label = labels[paths.index(record)]
            raise InputError(
                f"output name {label!r} would be written as {record}, the outputs' record; give it another name"
            )
        return paths

    def record_path(self, video: Path) -> Path:
        """The record of ``video``'s outputs (:mod:`avsep.batch.provenance`): the template filled in for
        ``.avsep.json``, never for an output name, which may come from the players found. It is a
        ``.json`` whatever the template: an extension the template fixes (``{name}.flac``) is
        replaced, and one is added when the template has none."""
        options = self.options
        rel = checks.render_template(
            options.template, self.folder(video), video, RECORD_NAME, 0, "json", options.wording
        )
        fixed = fixed_extension(options.template)
        name = rel.name.removesuffix(f".{fixed}") if fixed else rel.name
        return rel.with_name(name if name.endswith(".json") else f"{name}.json")

    def labels(self, request: BoxRequest, plan: BoxPlan | None) -> list[str]:
        """One name per output: a sidecar's own, else ``names``, else the boxes' names (the class
        guesses of the players found, ``plan``), else ``sourceN``; then ``residual``."""
        residual, say = self.options.residual, self.options.wording
        if plan is not None:
            return output_names(len(plan.sources), self.names or plan.names, residual, say)
        return output_names(request.count, self.given_names(request), residual, say)

    def separate_one(self, separator: Streams, video: Path, progress: Progress, claimed: dict[Path, Path]) -> Outcome:
        """Separate ``video`` under the batch's rules; ``claimed``: each output path written so far
        in this batch -> its video (updated here). Raises on failure.

        ``--skip-existing`` (skip or fail) is decided from the video's record before the video is read. Players are
        found before naming (:meth:`labels`); given boxes and strips are named before reading."""
        request = self.request.for_video(video)
        check_readable(video)  # a missing or unreadable input says so before its record is looked up
        expected, skipped = self._record_first(separator, video, request)
        if skipped is not None:
            return skipped
        media = plan = None
        if request.kind == FIND:
            media = self.probe(video, separator)  # before the search: a file without sound fails at once
            plan = self.find(separator, request, media, progress)
        labels = self.labels(request, plan)
        paths = self.paths(video, labels)
        taken = next((p for p in paths if p in claimed), None)
        if taken is not None:
            say = self.options.wording
            raise InputError(
                f"{video}: output {taken} is also written by {claimed[taken]} in this batch (same file name); "
                f"put their folder in the path ({say('template', '{parent}/{stem}/{name}.{ext}', quoted=True)}) "
                f"or use another {say('out_dir')}"
            )
        if self.out_dir is None:
            index = source_number(self.source, labels, self.options.wording, video) - 1  # before any decoding
            media, plan, stream = self._stream(separator, request, video, media, plan, progress)
            frames = (output_frames(block[index]) for block in stream.blocks)
            fmt, bitrate = self.options.fmt, self.options.bitrate
            if not write_stdout(frames, stream.sample_rate, fmt, bitrate=bitrate, layout=stream.layout):
                raise BrokenPipeError  # the reader left early: stop quietly, nothing to report
            return Outcome(video, "ok", "stdout")
        record = self.record_path(video)
        with claims.claim(paths, str(video), self.run_id) as claim:
            earlier = provenance.check(record, expected, paths)
            replaced = provenance.check_existing(video, paths, earlier, self.options)
            overwrite = any(p.exists() for p in paths)
            media, plan, stream = self._stream(separator, request, video, media, plan, progress)
            written = self._write(stream, plan, paths, (record, expected), labels, claim, overwrite=overwrite)
            claim.notes += provenance.remove_replaced(replaced, earlier.made_from)
        claimed.update((p, video) for p in paths)
        note = guide_note(stream, request.kind == FIND, self.names, self.options, labels)
        said = request.describe(plan, video) + note
        detail = ", ".join(str(p) for p in paths)
        return Outcome(video, "ok", detail, outputs=paths, boxes=said, written=written, notes=claim.notes)

    def _record_first(self, separator: Streams, video: Path, request: BoxRequest) -> tuple[dict, Outcome | None]:
        """What ``video``'s record decides before the video is read (no probe, no search for
        players): the identity its outputs are recorded under, and the outcome of a video
        ``--skip-existing`` skips; raises when its place holds another input's outputs or, under
        ``--skip-existing``, outputs not its own (:func:`~avsep.batch.provenance.refuse_early`).
        Without an output folder no record is read or written, so the input's content is not
        read for a digest (an empty identity)."""
        if self.out_dir is None:
            return {}, None
        shaping = provenance.record_options(request, self.names, self.options, self.span)
        expected = provenance.identity(video, separator.checkpoint.sha256, shaping)
        known = None if request.kind == FIND else self.paths(video, self.labels(request, None))
        verdict = provenance.check(self.record_path(video), expected, known)
        if self.options.skip_existing and verdict.complete:
            note = provenance.skip_note(verdict, self.options)
            return expected, Outcome(video, "skipped", note, written=verdict.written)
        provenance.refuse_early(video, verdict, self.options)
        return expected, None

    def _stream(
        self,
        separator: Streams,
        request: BoxRequest,
        video: Path,
        media: MediaInfo | None,
        plan: BoxPlan | None,
        progress: Progress,
    ) -> tuple[MediaInfo, BoxPlan, SeparationStream]:
        """The separation of ``video`` under way (probed and its boxes planned unless done already)."""
        media = media or self.probe(video, separator)
        plan = plan or separator.plan(request, media)
        options = self.options
        stream = separator.stream(
            media,
            plan,
            sample_rate=options.sample_rate,
            residual=options.residual,
            on_window=progress.window,
            mono=options.mono,
            names=request.guiding(self.given_names(request)),
        )
        progress.set_windows(stream.num_windows, video.name)
        return media, plan, stream

    def given_names(self, request: BoxRequest) -> list[str] | None:
        """The names given to this video's boxes (its boxes file's, else ``--names``); they guide given boxes."""
        return self.names if request is self.request else request.names

    def _write(
        self,
        stream: SeparationStream,
        plan: BoxPlan,
        paths: list[Path],
        record: tuple[Path, dict],
        labels: list[str],
        claim: claims.Claim,
        overwrite: bool,
    ) -> dict:
        """All of one video's files, or none, keeping their claim fresh; the provenance record
        (``record``: its path and the video's identity) goes down just before the renames.
        Returns what was written (for the report)."""
        frames = 0
        written: dict = {}

        def counted() -> Iterator[np.ndarray]:
            nonlocal frames
            for block in stream.blocks:
                yield block
                frames += block.shape[-1]
                claim.refresh()

        def leave_record() -> None:
            seconds = round(frames / stream.sample_rate, 6)
            rate = written_rate(self.options.fmt, stream.sample_rate)  # MP3 and Opus may change it
            written["outputs"] = [{"path": str(p), "sample_rate": rate, "duration": seconds} for p in paths]
            written["boxes"] = plan.to_json()["boxes"]
            written["names"] = labels
            provenance.write(*record, paths, written)

        source = Path(record[1]["input"]["path"]).name
        write_outputs(
            paths,
            counted(),
            stream.sample_rate,
            self.options.fmt,
            channels=stream.channels,
            layout=stream.layout,
            overwrite=overwrite,
            before_rename=leave_record,
            bitrate=self.options.bitrate,
            tags=[stem_tags(label, source) for label in labels],
        )
        return written


def failure(video: Path, exc: BaseException) -> Outcome:
    """A failed outcome: its reason and the exception copied through pickle (its traceback held the plan)."""
    code = exc.exit_code if isinstance(exc, AvsepError) else 1
    try:
        exc = pickle.loads(pickle.dumps(exc))
    except Exception:  # an exception that cannot cross processes: keep its words
        exc = RuntimeError(f"{type(exc).__name__}: {exc}")
    return Outcome(video, "failed", " ".join(str(exc).split("\n")), code, exc)


def run_file(
    job: BatchJob,
    separator: Streams,
    video: Path,
    progress: Progress | None = None,
    claimed: dict[Path, Path] | None = None,
    on_error: Callable[[Exception], int] | None = None,
) -> Outcome:
    """One video under the batch's rules, timed, as every engine and the CLI run it; a failure
    becomes a ``failed`` outcome. ``claimed``: outputs this process wrote so far (``separate_one``).
    ``on_error(exc)`` runs inside the handler (a traceback can print) and gives the exit code;
    Ctrl-C and a closed pipe pass through, for the caller to stop on."""
    start = time.monotonic()
    with warnings_heard() as heard:
        try:
            outcome = job.separate_one(separator, video, progress or Silent(), {} if claimed is None else claimed)
        except (KeyboardInterrupt, BrokenPipeError):
            raise
        except Exception as exc:  # one bad file must not stop the batch
            outcome = failure(video, exc)
            if on_error is not None:
                outcome.exit_code = on_error(exc)
    outcome.seconds, outcome.warnings = round(time.monotonic() - start, 3), heard
    return outcome
