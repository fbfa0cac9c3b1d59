"""The batch rules of ``avsep separate``, shared by the CLI and the Python API.

What a run over many videos promises, whoever starts it:

* **inputs**: files as given, folders searched recursively for video files
  (:func:`find_videos`); a folder without videos is one failed input, not a stop;
* **naming**: one output per box, named by a sidecar ``<video>.boxes.json``, the given names,
  the boxes' names (class guesses in automatic mode) or ``sourceN``, then ``residual``
  (:func:`output_names`), placed by a template under the output folder
  (:func:`render_template`);
* **tree**: a video found in a folder keeps its place below that folder under the output
  folder (``concert/day1/x.mp4`` -> ``OUT/day1/x/...``), so equal file names never collide;
* **claims**: two videos of one batch may not write the same file, and each output is claimed
  on disk while it is written (:mod:`avsep.claims`), so concurrent runs never both write one;
* **skip / overwrite**: existing outputs stop a video unless ``skip_existing`` (all of them
  exist and the record beside them says this video made them with these options,
  :mod:`avsep.provenance`: the video is skipped) or ``overwrite`` (they are replaced);
* **atomic writes**: a video's files appear all together or not at all (an error or Ctrl-C
  removes every temporary file; those of a run killed harder are removed by the next run).

:class:`BatchJob` holds a checked invocation; :func:`separate_paths` (also
:meth:`avsep.Separator.separate_many`) runs one from Python and returns an :class:`Outcome` per
input. The CLI (:mod:`avsep.cli`) adds progress bars, the error lines and the summary table.
Messages name the command-line options, which have the same names as the keyword arguments.
"""

from __future__ import annotations

import uuid
import warnings
from collections.abc import Callable, Iterable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from avsep.errors import InputError
from avsep.timing import stage

if TYPE_CHECKING:
    from avsep import claims
    from avsep.io.media import MediaInfo
    from avsep.players import BoxPlan
    from avsep.separate import SeparationStream, Separator

VIDEO_EXTENSIONS = {".mp4", ".mkv", ".webm", ".mov", ".avi", ".m4v", ".mpg", ".mpeg", ".flv", ".ts", ".wmv"}
DEFAULT_TEMPLATE = "{stem}/{name}.{ext}"

Box = tuple[int, int, int, int]


def find_videos(inputs: Iterable[Path]) -> tuple[list[Path], list[tuple[Path, str]]]:
    """Files as given plus video files found (recursively) in folders; missing paths are errors."""
    videos: list[Path] = []
    problems: list[tuple[Path, str]] = []
    for p in inputs:
        if p.is_dir() and p.suffix.lower() not in VIDEO_EXTENSIONS:
            found = sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in VIDEO_EXTENSIONS)
            if not found:
                extensions = " ".join(sorted(VIDEO_EXTENSIONS))
                problems.append(
                    (p, f"{p}: folder holds no video files ({extensions}); give a video or a folder of videos")
                )
            videos.extend(found)
        else:
            videos.append(p)  # missing files, directories named like videos: probe reports them
    return videos, problems


def mirror_dirs(inputs: Iterable[Path], videos: Iterable[Path]) -> dict[Path, Path]:
    """Each video found inside an input folder -> its folder relative to that input folder
    (videos given as files are not in it: their outputs go straight under the output folder)."""
    folders = [p for p in inputs if p.is_dir() and p.suffix.lower() not in VIDEO_EXTENSIONS]
    out: dict[Path, Path] = {}
    for video in videos:
        for folder in folders:
            if video.is_relative_to(folder):
                out[video] = video.parent.relative_to(folder)
                break
    return out


def output_names(count: int, names: list[str] | None, residual: bool) -> list[str]:
    """One file name per output row: the given names or ``sourceN``, then ``residual``."""
    if names and len(names) != count:
        raise InputError(f"--names gives {len(names)} names for {count} boxes; give one per box")
    out = list(names) if names else [f"source{i + 1}" for i in range(count)]
    bad = [n for n in out if not n or n in (".", "..") or any(c in "/\\" or ord(c) < 32 for c in n)]
    if bad:
        raise InputError(f"output name {bad[0]!r} is not usable as a file name; use letters, digits, - or _")
    if len(set(out)) != len(out):
        raise InputError(f"output names must differ: {out}")
    return out + (["residual"] if residual else [])


def render_template(template: str, out_dir: Path, video: Path, name: str, index: int) -> Path:
    """``--output-template`` filled in for one output, under ``out_dir``."""
    try:
        rel = template.format(stem=video.stem, name=name, index=index, ext="wav")
    except (KeyError, IndexError, ValueError, AttributeError) as exc:
        problem = f"unknown field {exc}" if isinstance(exc, KeyError) else str(exc)
        raise InputError(
            f"--output-template {template!r}: {problem}; the fields are {{stem}} {{name}} {{index}} {{ext}}"
        ) from None
    if not rel or rel.endswith(("/", "\\")):
        raise InputError(f"--output-template {template!r} gives no file name; end it with {{name}}.{{ext}}")
    return out_dir / rel


@dataclass
class Outcome:
    """What became of one input: ``status`` ok, skipped or failed; ``detail`` the outputs
    written (``stdout`` for a stream), why it was skipped, or the error message."""

    video: Path
    status: str  # ok, skipped, failed
    detail: str
    exit_code: int = 0
    #: the exception of a failed input (from :func:`separate_paths`; None in the CLI)
    error: BaseException | None = None
    #: what was written (or found written, when skipped): ``outputs`` (path, sample rate,
    #: duration), ``boxes``, ``names``; see :mod:`avsep.batch_report`
    written: dict = field(default_factory=dict)
    #: things done on the way that the user should hear of (stale files removed)
    notes: list[str] = field(default_factory=list)
    #: seconds spent on this input
    seconds: float = 0.0


class Progress(Protocol):
    """What a batch tells a progress display (:class:`avsep.progress.SeparationProgress`)."""

    def set_windows(self, total: int, description: str | None = None) -> None: ...

    def window(self, done: int, total: int) -> None: ...


class _Silent:
    def set_windows(self, total: int, description: str | None = None) -> None:
        pass

    def window(self, done: int, total: int) -> None:
        pass


#: ``announce(video, plan, names, quiet)``: told the boxes automatic mode chose for a video.
Announce = Callable[[Path, "BoxPlan", "list[str] | None", bool], None]


def warn_fallback(video: Path, plan: BoxPlan, names: list[str] | None, quiet: bool) -> None:
    """The default :data:`Announce`: an :class:`~avsep.separate.AutoBoxesWarning` when automatic
    mode fell back to strips, nothing otherwise."""
    from avsep.separate import AutoBoxesWarning

    if plan.note:
        warnings.warn(f"{video}: {plan.note}", AutoBoxesWarning, stacklevel=3)


@dataclass
class BatchJob:
    """A checked batch: what to read, which boxes, where and how to write."""

    videos: list[Path]
    problems: list[tuple[Path, str]]
    plan: BoxPlan | None  # boxes given for every video (None: auto or strips)
    strips: bool  # --boxes strips: the old default, no player finding
    names: list[str] | None
    sources: int | None
    out_dir: Path | None  # None: stdout
    template: str = DEFAULT_TEMPLATE
    source: int | None = None
    fmt: str = "pcm16"
    sample_rate: int | None = None
    residual: bool = False
    skip_existing: bool = False
    overwrite: bool = False
    audio_stream: int | None = None
    video_stream: int | None = None
    quiet: bool = False
    debug: bool = False
    announce: Announce = warn_fallback
    #: video -> its folder below the input folder it was found in (:func:`mirror_dirs`)
    subdirs: dict[Path, Path] = field(default_factory=dict)
    #: this invocation, in the claims it makes (a retried task may take over its own claim)
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex)

    @classmethod
    def create(
        cls,
        inputs: Iterable[Path],
        plan: BoxPlan | None,
        strips: bool,
        *,
        names: list[str] | None = None,
        sources: int | None = None,
        out: str | Path = "separated",
        template: str = DEFAULT_TEMPLATE,
        source: int | None = None,
        **options,
    ) -> BatchJob:
        """Check everything that does not need a video, so mistakes fail before the model loads.

        ``out`` ``"-"`` writes one source (``source``, 1-based) of one video to stdout.
        ``options`` are the remaining fields (``fmt``, ``sample_rate``, ``residual``, ...).
        """
        from avsep.boxes import check_count

        residual = options.get("residual", False)
        sample_rate = options.get("sample_rate")
        if sources is not None and sources < 1:
            raise InputError(f"--sources {sources}: give at least 1")
        if plan is not None and not names:
            names = plan.names
        if plan is None and not strips and sources is None and names:
            sources = len(names)  # --names violin flute: two players
        count = len(plan.sources) if plan is not None else (2 if strips and sources is None else sources)
        if count is not None:
            check_count(count)
            output_names(count, names, residual)
        if sample_rate is not None and not 1000 <= sample_rate <= 384000:
            raise InputError(f"--sample-rate {sample_rate}: use a rate between 1000 and 384000 Hz")
        if options.get("skip_existing") and options.get("overwrite"):
            raise InputError("--skip-existing and --overwrite contradict each other; pick one")
        inputs = [Path(p) for p in inputs]
        videos, problems = find_videos(inputs)
        to_stdout = str(out) == "-"
        if to_stdout:
            if len(videos) + len(problems) != 1:
                raise InputError("-o - writes one source of one video; give exactly one input")
            if residual:
                raise InputError("-o - writes a single source; --residual needs an output folder")
            source = 1 if source is None and count == 1 else source
            if source is None or source < 1 or (count is not None and source > count):
                raise InputError(f"-o - needs --source N with N between 1 and {count or 'the number of sources'}")
        elif source is not None:
            raise InputError("--source only applies with -o - (stdout)")
        out_dir = None if to_stdout else Path(out)
        job = cls(videos, problems, plan, strips, names, sources, out_dir, template, source, **options)
        job.subdirs = mirror_dirs(inputs, videos)
        return job

    def box_plan(
        self, separator: Separator, video: Path, progress: Progress
    ) -> tuple[BoxPlan | str, MediaInfo | None, list[str]]:
        """This video's boxes (its sidecar, the given ones, ``"strips"``, or the players found
        in it, announced through :attr:`announce`), the probe result if it took one, and the
        output names: a sidecar's own, else ``names``, else the boxes' names (the class guesses
        in automatic mode), else ``sourceN``."""
        from avsep.boxes import load_boxes_file, sidecar_for
        from avsep.players import TimedBoxes

        sidecar = sidecar_for(video)
        if sidecar.is_file():
            plan = TimedBoxes.from_named(load_boxes_file(sidecar), str(sidecar))
            return plan, None, output_names(len(plan.sources), plan.names, self.residual)
        if self.plan is not None:
            return self.plan, None, output_names(len(self.plan.sources), self.names, self.residual)
        if self.strips:
            return "strips", None, output_names(self.sources or 2, self.names, self.residual)
        from avsep.io.media import probe
        from avsep.separate import check_separable

        media = probe(video, audio_stream=self.audio_stream, video_stream=self.video_stream)
        check_separable(media)  # before the search: a file without sound fails at once
        progress.set_windows(0, f"{video.name}: finding players")
        plan = separator.find_players(
            video, sources=self.sources, video_stream=self.video_stream, media=media, on_frame=progress.window
        )
        names = self.names or plan.names
        if self.source is not None and self.source > len(plan.sources):
            raise InputError(f"--source {self.source}: only {len(plan.sources)} source(s) were found in {video}")
        self.announce(video, plan, names, self.quiet)
        return plan, media, output_names(len(plan.sources), names, self.residual)

    def paths(self, video: Path, labels: list[str]) -> list[Path]:
        """Where each output of ``video`` goes (none for stdout)."""
        if self.out_dir is None:
            return []
        folder = self.out_dir / self.subdirs.get(video, Path())
        paths = [render_template(self.template, folder, video, n, i + 1) for i, n in enumerate(labels)]
        if len(set(paths)) != len(paths):
            raise InputError(
                f"--output-template {self.template!r} gives the same path to two outputs; use {{name}} or {{index}}"
            )
        return paths

    def separate_one(self, separator: Separator, video: Path, progress: Progress, claimed: dict[Path, Path]) -> Outcome:
        """Separate ``video`` under the batch's rules; ``claimed`` maps each output path written
        so far in this batch to its video (updated here). Raises on failure."""
        plan, media, labels = self.box_plan(separator, video, progress)
        paths = self.paths(video, labels)
        taken = next((p for p in paths if p in claimed), None)
        if taken is not None:
            raise InputError(
                f"{video}: output {taken} is also written by {claimed[taken]} in this batch "
                "(same file name); rename one of them or run them with different -o folders"
            )
        if self.out_dir is None:
            stream = self._stream(separator, video, plan, media, progress)
            from avsep.io.wav import write_wav_stdout

            row = self.source - 1
            if not write_wav_stdout((block[row] for block in stream.blocks), stream.sample_rate, self.fmt):
                raise BrokenPipeError  # the reader left early: stop quietly, nothing to report
            return Outcome(video, "ok", "stdout")
        from avsep import claims, provenance

        expected = provenance.identity(video, separator.checkpoint.sha256, self._identity_options(video), paths)
        with claims.claim(paths, str(video), self.run_id) as claim:
            own = provenance.check(paths, expected) if self.skip_existing else None
            if own is not None and own.own and all(p.exists() for p in paths):
                return Outcome(video, "skipped", "its outputs exist (--skip-existing)", written=own.written)
            existing = [p for p in paths if p.exists()]
            if own is not None and existing and not own.own and not self.overwrite:
                raise InputError(
                    f"{video}: its outputs exist but {own.reason}; --skip-existing skips a video only for "
                    "outputs it made: pass --overwrite to replace them, or choose another -o"
                )
            if existing and not self.overwrite and not (own is not None and own.own):
                raise InputError(
                    f"{existing[0]} already exists; pass --overwrite to replace it"
                    + ("" if self.skip_existing else " or --skip-existing to skip this video")
                )
            stream = self._stream(separator, video, plan, media, progress)
            written = self._write(stream, paths, expected, labels, claim, overwrite=bool(existing))
        claimed.update((p, video) for p in paths)
        return Outcome(video, "ok", ", ".join(str(p) for p in paths), written=written, notes=claim.notes)

    def _identity_options(self, video: Path) -> dict:
        """The options that shape a video's outputs, as its provenance record names them: the
        boxes asked for (a sidecar's, the given ones, strips or auto), names, counts, format."""
        from avsep.boxes import sidecar_for

        sidecar = sidecar_for(video)
        if sidecar.is_file():
            boxes: object = {"sidecar": sidecar.read_text()}
        elif self.plan is not None:
            boxes = self.plan.to_json()["boxes"]
        else:
            boxes = "strips" if self.strips else "auto"
        return {
            "boxes": boxes,
            "names": self.names,
            "sources": self.sources,
            "format": self.fmt,
            "sample_rate": self.sample_rate,
            "residual": self.residual,
            "audio_stream": self.audio_stream,
            "video_stream": self.video_stream,
        }

    def _stream(
        self, separator: Separator, video: Path, plan: BoxPlan | str, media: MediaInfo | None, progress: Progress
    ) -> SeparationStream:
        stream = separator.stream_file(
            video,
            plan,
            sources=self.sources,
            sample_rate=self.sample_rate,
            residual=self.residual,
            audio_stream=self.audio_stream,
            video_stream=self.video_stream,
            on_window=progress.window,
            media=media,
        )
        progress.set_windows(stream.num_windows, video.name)
        return stream

    def _write(
        self,
        stream: SeparationStream,
        paths: list[Path],
        expected: dict,
        labels: list[str],
        claim: claims.Claim,
        overwrite: bool,
    ) -> dict:
        """All of one video's files, or none: an error or Ctrl-C drops every temporary file.
        The provenance record goes down just before the renames. Returns what was written."""
        from avsep import provenance
        from avsep.io.wav import AtomicWavWriter

        frames = 0
        with ExitStack() as stack:
            with stage("write"):
                writers = [
                    stack.enter_context(AtomicWavWriter(p, stream.sample_rate, 1, self.fmt, overwrite=overwrite))
                    for p in paths
                ]
            for block in stream.blocks:
                with stage("write"):
                    for writer, row in zip(writers, block):
                        writer.write(row)
                    frames += block.shape[-1]
                claim.refresh()
            seconds = round(frames / stream.sample_rate, 6)
            written = {
                "outputs": [{"path": str(p), "sample_rate": stream.sample_rate, "duration": seconds} for p in paths],
                "boxes": stream.plan.to_json()["boxes"] if stream.plan is not None else [list(b) for b in stream.boxes],
                "names": labels,
            }
            with stage("write"):
                provenance.write(paths, expected, written)
                for writer in reversed(writers):  # the order of leaving the stack; closing twice is a no-op
                    writer.close()
        return written


def plan_from_boxes(boxes: Sequence[Box] | BoxPlan | str | None) -> tuple[BoxPlan | None, bool]:
    """The Python API's ``boxes`` as (a plan for every video, whether to cut strips): boxes
    ``(x0, y0, x1, y1)`` or a :class:`~avsep.players.BoxPlan`; ``None``/``"auto"`` finds the
    players in each video, ``"strips"`` cuts equal vertical strips."""
    from avsep.players import BoxPlan

    if boxes is None or isinstance(boxes, BoxPlan):
        return boxes, False
    if isinstance(boxes, str):
        if boxes not in ("auto", "strips"):
            raise InputError(f"boxes={boxes!r}: give boxes, 'auto' or 'strips'")
        return None, boxes == "strips"
    return BoxPlan.fixed([tuple(int(v) for v in b) for b in boxes]), False


def separate_paths(
    separator: Separator,
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
    names come from the video's ``<video>.boxes.json`` sidecar, else ``names``, else the boxes'
    names, else ``sourceN`` (then ``residual``). Existing outputs make a video fail unless
    ``skip_existing`` or ``overwrite``; a video's files appear all together or not at all.

    Bad arguments raise :class:`~avsep.errors.InputError` before any video is read. A video
    that fails does not stop the batch: its :class:`Outcome` is ``failed``, with the message in
    ``detail`` and the exception in ``error``. Returns one outcome per input, in order (folders
    without videos first). A fallback of automatic boxes to strips is an
    :class:`~avsep.separate.AutoBoxesWarning`.

    ``jobs`` > 1 runs the videos on that many worker processes, ``ray`` (``"auto"`` or an
    address) as tasks of a Ray cluster, ``gpus_per_job`` GPUs each (:mod:`avsep.workers`,
    :mod:`avsep.cluster`); ``report`` writes the JSON report (:mod:`avsep.batch_report`).
    """
    if isinstance(inputs, (str, Path)):
        inputs = [inputs]
    plan, strips = plan_from_boxes(boxes)
    job = BatchJob.create(
        [Path(p) for p in inputs],
        plan,
        strips,
        names=list(names) if names else None,
        sources=sources,
        out=Path(out_dir),
        template=template,
        fmt=fmt,
        sample_rate=sample_rate,
        residual=residual,
        skip_existing=skip_existing,
        overwrite=overwrite,
        audio_stream=audio_stream,
        video_stream=video_stream,
    )
    from avsep.workers import run_file, spread

    if jobs < 1:
        raise InputError(f"--jobs {jobs}: give 1 or more")
    outcomes = [Outcome(p, "failed", msg, InputError.exit_code, InputError(msg)) for p, msg in job.problems]
    if jobs > 1 or ray is not None:
        finished = sorted(spread(job, separator, None, jobs, ray, gpus_per_job), key=lambda r: r[0])
        outcomes += [o for _, o in finished]
    else:
        claimed: dict[Path, Path] = {}
        outcomes += [run_file(job, separator, video, claimed=claimed) for video in job.videos]
    if report is not None:
        from avsep.batch_report import write_report

        write_report(Path(report), outcomes, len(outcomes))
    return outcomes
