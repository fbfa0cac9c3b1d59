"""The ``avsep`` command line: a thin layer over :mod:`avsep.separate` and :mod:`avsep.train`.

Heavy imports (torch, PyAV) happen inside the commands so that ``avsep --help`` stays cheap.
Every failure becomes one line on stderr and an exit code (see ``docs/errors.md``): an
:class:`~avsep.errors.AvsepError` says what to do; anything else is a bug, reported in one line
too, with the traceback only under ``--debug``. Warnings (Python's and avsep's log) become
``warning: ...`` lines. Progress goes to stderr, so ``-o -`` can stream a WAV on stdout.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperCommand

from avsep._version import __version__
from avsep.errors import AvsepError, InputError
from avsep.options import DEFAULT_MASK, Mask
from avsep.reporting import EXIT_INTERRUPTED, err, fail, one_line, one_line_errors, user_facing_warnings

if TYPE_CHECKING:
    from avsep.io.media import MediaInfo
    from avsep.players import BoxPlan
    from avsep.progress import SeparationProgress
    from avsep.separate import SeparationStream, Separator

VIDEO_EXTENSIONS = {".mp4", ".mkv", ".webm", ".mov", ".avi", ".m4v", ".mpg", ".mpeg", ".flv", ".ts", ".wmv"}
EXIT_BROKEN_PIPE = 141

app = typer.Typer(
    name="avsep",
    help="Separate the sound of each instrument in a video, guided by boxes around the players.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
data_app = typer.Typer(help="Build training data.", no_args_is_help=True)
app.add_typer(data_app, name="data")


#: Options several commands share, declared once.
SourcesOption = Annotated[
    Optional[int],
    typer.Option(help="With no boxes: keep the N clearest players found (default: all found), or N strips.", show_default=False),
]
VideoArgument = Annotated[Path, typer.Argument(help="A video file.", readable=False)]


class SampleFormat(str, Enum):
    pcm16 = "pcm16"
    pcm24 = "pcm24"
    float = "float"


class GreedyCommand(TyperCommand):
    """Lets ``--boxes`` and ``--names`` take several values, as users type them.

    click gives an option one value per occurrence, so ``--boxes A B`` would make ``B`` an
    input file. Before parsing, values following these options are rewritten to
    ``--boxes A --boxes B``. The first value always goes to the option (click then reports a
    missing or bad one); later ones continue the list while they look like values: for
    ``--boxes`` something with a comma (a negative coordinate may start it with ``-``), for
    ``--names`` a word that is not an option and not named like a video; an existing path
    always ends the list.
    """

    GREEDY = {"--boxes": "--boxes", "-b": "--boxes", "--names": "--names"}

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:
        out: list[str] = []
        mode: str | None = None
        first = False  # the previous argument was the option itself
        for arg in args:
            if first:
                out.append(arg)
                first = False
                continue
            if mode and self._continues(mode, arg):
                out += [mode, arg]
                continue
            mode = self.GREEDY.get(arg)
            first = mode is not None
            out.append(arg)
        return super().parse_args(ctx, out)

    @staticmethod
    def _continues(mode: str, arg: str) -> bool:
        if arg == "--" or Path(arg).exists():
            return False
        if mode == "--boxes":
            return "," in arg and (not arg.startswith("-") or arg[1:2].isdigit() or arg[1:2] == ".")
        return not arg.startswith("-") and Path(arg).suffix.lower() not in VIDEO_EXTENSIONS


def _version(value: bool) -> None:
    if value:
        typer.echo(f"avsep {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    ctx: typer.Context,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """avsep: audio-visual instrument separation."""
    ctx.with_resource(user_facing_warnings())


# ------------------------------------------------------------------------------------------------
# separate
# ------------------------------------------------------------------------------------------------


def find_videos(inputs: list[Path]) -> tuple[list[Path], list[tuple[Path, str]]]:
    """Files as given plus video files found (recursively) in folders; missing paths are errors."""
    videos: list[Path] = []
    problems: list[tuple[Path, str]] = []
    for p in inputs:
        if p.is_dir() and p.suffix.lower() not in VIDEO_EXTENSIONS:
            found = sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in VIDEO_EXTENSIONS)
            if not found:
                extensions = " ".join(sorted(VIDEO_EXTENSIONS))
                problems.append((p, f"{p}: folder holds no video files ({extensions}); give a video or a folder of videos"))
            videos.extend(found)
        else:
            videos.append(p)  # missing files, directories named like videos: probe reports them
    return videos, problems


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


@app.command(cls=GreedyCommand)
def separate(
    # readable=False: an unreadable input is reported by the pipeline as one line, and the rest
    # of the batch still runs; click would stop everything with a usage error.
    inputs: Annotated[list[Path], typer.Argument(help="Video files or folders (searched recursively).", show_default=False, readable=False)],
    boxes: Annotated[
        Optional[list[str]],
        typer.Option(
            "--boxes",
            "-b",
            help="One box per instrument, x0,y0,x1,y1 in pixels of the displayed video frame "
            "(top-left origin, after rotation). Several may follow one --boxes. 'auto' (the "
            "default) finds the players; 'strips' cuts the frame into --sources vertical strips.",
            show_default=False,
        ),
    ] = None,
    boxes_file: Annotated[
        Optional[Path],
        # "\[": the help is rich markup, where [x0,...] would be read as a style tag and vanish.
        typer.Option(
            help=r'JSON: a list of boxes, or of {"name": ..., "box": \[x0,y0,x1,y1]} with optional '
            r'"start"/"end" seconds (several entries of one name: a box that changes over time).',
            readable=False,
        ),
    ] = None,
    names: Annotated[Optional[list[str]], typer.Option("--names", help="Output name per box; several may follow one --names.")] = None,
    sources: SourcesOption = None,
    out: Annotated[str, typer.Option("--out", "-o", help="Output folder, or - for a WAV on stdout.")] = "separated",
    output_template: Annotated[str, typer.Option(help="Output path under --out; fields {stem} {name} {index} {ext}.")] = "{stem}/{name}.{ext}",
    source: Annotated[Optional[int], typer.Option(help="With -o -: which box (1-based) goes to stdout.")] = None,
    fmt: Annotated[SampleFormat, typer.Option("--format", help="Sample format of the WAV files.")] = SampleFormat.pcm16,
    sample_rate: Annotated[Optional[int], typer.Option(help="Output rate in Hz (default: the input's; 11025 keeps the model's).")] = None,
    residual: Annotated[bool, typer.Option(help="Also write the mixture minus the sum of the sources.")] = False,
    mask: Annotated[Mask, typer.Option(help="binary thresholds the mask at 0.5; soft keeps the ratio.")] = DEFAULT_MASK,
    overlap: Annotated[float, typer.Option(help="Overlap of consecutive model windows (0 to 0.9).")] = 0.25,
    model: Annotated[Optional[str], typer.Option(help="Bundled model name or checkpoint path (default: the bundled model).")] = None,
    backbone_weights: Annotated[Optional[Path], typer.Option(help="ImageNet weights file for a resnet18 trunk.")] = None,
    device: Annotated[str, typer.Option(help="auto, cpu, cuda or cuda:N.")] = "auto",
    batch_size: Annotated[int, typer.Option(help="Windows per network batch.")] = 4,
    audio_stream: Annotated[Optional[int], typer.Option(help="Audio stream to use (0-based, among audio streams).")] = None,
    video_stream: Annotated[Optional[int], typer.Option(help="Video stream to use (0-based, among video streams).")] = None,
    skip_existing: Annotated[bool, typer.Option(help="Skip a video whose outputs all exist.")] = False,
    overwrite: Annotated[bool, typer.Option(help="Replace existing output files.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars or summary.")] = False,
    debug: Annotated[bool, typer.Option(help="Show tracebacks.")] = False,
) -> None:
    """Write one WAV per box: the sound of the instrument inside that box."""
    with one_line_errors(debug):
        job = _SeparateJob.from_options(
            inputs, boxes, boxes_file, names, sources, out, output_template, source, fmt.value,
            sample_rate, residual, skip_existing, overwrite, audio_stream, video_stream, quiet, debug,
        )
        from avsep.separate import Separator

        separator = Separator(
            model, device=device, mask=mask.value, overlap=overlap, batch_size=batch_size,
            backbone_weights=backbone_weights,
        )
        code = job.run(separator)
    raise typer.Exit(code)


@dataclass
class _Outcome:
    """One row of the batch summary."""

    video: Path
    status: str  # ok, skipped, failed
    detail: str
    exit_code: int = 0


@dataclass
class _SeparateJob:
    """A validated ``avsep separate`` invocation: what to read, where to write."""

    videos: list[Path]
    problems: list[tuple[Path, str]]
    plan: BoxPlan | None  # boxes given on the command line (None: auto or strips)
    strips: bool  # --boxes strips: the old default, no player finding
    names: list[str] | None
    sources: int | None
    out_dir: Path | None  # None: stdout
    template: str
    source: int | None
    fmt: str
    sample_rate: int | None
    residual: bool
    skip_existing: bool
    overwrite: bool
    audio_stream: int | None
    video_stream: int | None
    quiet: bool
    debug: bool

    @classmethod
    def from_options(
        cls,
        inputs: list[Path],
        boxes: list[str] | None,
        boxes_file: Path | None,
        names: list[str] | None,
        sources: int | None,
        out: str,
        template: str,
        source: int | None,
        fmt: str,
        sample_rate: int | None,
        residual: bool,
        skip_existing: bool,
        overwrite: bool,
        audio_stream: int | None,
        video_stream: int | None,
        quiet: bool,
        debug: bool,
    ) -> _SeparateJob:
        """Check everything that does not need a video, so mistakes fail before the model loads."""
        from avsep.boxes import check_count

        if sources is not None and sources < 1:
            raise InputError(f"--sources {sources}: give at least 1")
        plan, strips = _box_options(boxes, boxes_file)
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
        if skip_existing and overwrite:
            raise InputError("--skip-existing and --overwrite contradict each other; pick one")
        videos, problems = find_videos(list(inputs))
        to_stdout = out == "-"
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
        return cls(
            videos, problems, plan, strips, names, sources, None if to_stdout else Path(out), template,
            source, fmt, sample_rate, residual, skip_existing, overwrite, audio_stream,
            video_stream, quiet, debug,
        )

    def box_plan(
        self, separator: Separator, video: Path, progress: SeparationProgress
    ) -> tuple[BoxPlan | str, MediaInfo | None, list[str]]:
        """This video's boxes (its sidecar, the command line's, ``"strips"``, or the players found
        in it, announced as a ready ``--boxes`` line), the probe result if it took one, and the
        output names: a sidecar's own, else ``--names``, else the boxes' names (the class
        guesses in automatic mode), else ``sourceN``."""
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
        announce_plan(video, plan, names, self.quiet)
        return plan, media, output_names(len(plan.sources), names, self.residual)

    def paths(self, video: Path, labels: list[str]) -> list[Path]:
        """Where each output of ``video`` goes (none for stdout)."""
        if self.out_dir is None:
            return []
        paths = [render_template(self.template, self.out_dir, video, n, i + 1) for i, n in enumerate(labels)]
        if len(set(paths)) != len(paths):
            raise InputError(
                f"--output-template {self.template!r} gives the same path to two outputs; use {{name}} or {{index}}"
            )
        return paths

    def run(self, separator: Separator) -> int:
        """Separate every video; a failure is reported and the batch goes on. Returns the exit code."""
        from avsep.progress import SeparationProgress

        outcomes = [_Outcome(p, "failed", msg, fail(InputError(msg), False)) for p, msg in self.problems]
        claimed: dict[Path, Path] = {}  # output path -> the video of this batch that writes it
        with SeparationProgress(len(self.videos), enabled=not self.quiet, console=err) as progress:
            for video in self.videos:
                try:
                    progress.start_file(video)  # inside the try: Ctrl-C may land here too
                    outcome = self._one(separator, video, progress, claimed)
                    outcomes.append(outcome)
                    if outcome.status == "skipped" and not self.quiet:
                        err.print(f"skipped {escape(str(video))}: {outcome.detail}", soft_wrap=True)
                except KeyboardInterrupt:
                    progress.stop()
                    done = sum(o.status == "ok" for o in outcomes)
                    err.print(
                        f"interrupted while separating {escape(str(video))}: its partial outputs were "
                        f"removed; the {done} finished file(s) were kept",
                        soft_wrap=True,
                    )
                    return EXIT_INTERRUPTED
                except BrokenPipeError:
                    return EXIT_BROKEN_PIPE  # the reader of -o - left: nothing more to say
                except Exception as exc:  # noqa: BLE001 - one bad file must not stop the batch
                    outcomes.append(_Outcome(video, "failed", one_line(str(exc)), fail(exc, self.debug, video)))
                progress.finish_file()
        if not self.quiet and self.out_dir is not None and len(outcomes) > 1:
            _summary(outcomes)
        return max((o.exit_code for o in outcomes), default=0)

    def _one(
        self, separator: Separator, video: Path, progress: SeparationProgress, claimed: dict[Path, Path]
    ) -> _Outcome:
        plan, media, labels = self.box_plan(separator, video, progress)
        paths = self.paths(video, labels)
        taken = next((p for p in paths if p in claimed), None)
        if taken is not None:
            raise InputError(
                f"{video}: output {taken} is also written by {claimed[taken]} in this batch "
                "(same file name); rename one of them or run them with different -o folders"
            )
        if self.skip_existing and paths and all(p.exists() for p in paths):
            return _Outcome(video, "skipped", "its outputs exist (--skip-existing)")
        existing = [p for p in paths if p.exists()]
        if existing and not self.overwrite:
            raise InputError(
                f"{existing[0]} already exists; pass --overwrite to replace it"
                + ("" if self.skip_existing else " or --skip-existing to skip this video")
            )
        stream = separator.stream_file(
            video, plan, sources=self.sources, sample_rate=self.sample_rate,
            residual=self.residual, audio_stream=self.audio_stream, video_stream=self.video_stream,
            on_window=progress.window, media=media,
        )
        progress.set_windows(stream.num_windows, video.name)
        if self.out_dir is None:
            from avsep.io.wav import write_wav_stdout

            row = self.source - 1
            if not write_wav_stdout((block[row] for block in stream.blocks), stream.sample_rate, self.fmt):
                raise BrokenPipeError  # the reader left early: stop quietly, nothing to report
            return _Outcome(video, "ok", "stdout")
        self._write(stream, paths)
        claimed.update((p, video) for p in paths)
        return _Outcome(video, "ok", ", ".join(str(p) for p in paths))

    def _write(self, stream: SeparationStream, paths: list[Path]) -> None:
        """All of one video's files, or none: an error or Ctrl-C drops every temporary file."""
        from avsep.io.wav import AtomicWavWriter

        with ExitStack() as stack:
            writers = [
                stack.enter_context(AtomicWavWriter(p, stream.sample_rate, 1, self.fmt, overwrite=self.overwrite))
                for p in paths
            ]
            for block in stream.blocks:
                for writer, row in zip(writers, block):
                    writer.write(row)


def _box_options(boxes: list[str] | None, boxes_file: Path | None) -> tuple[BoxPlan | None, bool]:
    """``--boxes``/``--boxes-file`` as a plan (None: find the players), and whether ``--boxes
    strips`` asked for the old equal strips instead."""
    from avsep.boxes import boxes_from_options
    from avsep.players import TimedBoxes

    words = [b.strip().lower() for b in boxes or []]
    if words and words[0] in ("auto", "strips"):
        if len(words) > 1 or boxes_file:
            raise InputError(f"--boxes {words[0]} stands alone; give it without other boxes or --boxes-file")
        return None, words[0] == "strips"
    named = boxes_from_options(boxes, boxes_file)
    if not named:
        return None, False
    return TimedBoxes.from_named(named, str(boxes_file) if boxes_file else "--boxes"), False


def announce_plan(video: Path, plan: BoxPlan, names: list[str] | None, quiet: bool) -> None:
    """Say which boxes automatic mode used: a ``warning:`` line when it fell back to strips
    (shown even with ``-q``), else the players found, with class guess and confidence, and a
    ``--boxes ... --names ...`` line ready to paste (or to edit) for the next run."""
    import warnings

    from avsep.separate import AutoBoxesWarning

    if plan.note:
        warnings.warn(f"{video}: {plan.note}", AutoBoxesWarning, stacklevel=2)
        return
    if quiet:
        return
    found = ", ".join(f"{s.label} {s.confidence:.2f}" for s in plan.sources)
    err.print(
        f"{escape(str(video))}: found {len(plan.sources)} player(s): {escape(found)}"
        + (" (the boxes follow them; 'avsep info VIDEO --json' lists every box)" if plan.moves() else ""),
        soft_wrap=True,
    )
    err.print(f"  {plan.boxes_line(names)}", soft_wrap=True, markup=False)


def _summary(outcomes: list[_Outcome]) -> None:
    from rich.table import Table

    table = Table(title="avsep separate")
    table.add_column("input", overflow="fold")
    table.add_column("status")
    table.add_column("outputs / error", overflow="fold")
    colours = {"ok": "green", "skipped": "yellow", "failed": "red"}
    for o in outcomes:
        table.add_row(escape(str(o.video)), f"[{colours[o.status]}]{o.status}[/]", escape(o.detail))
    err.print(table)


# ------------------------------------------------------------------------------------------------
# info, models
# ------------------------------------------------------------------------------------------------


@app.command(cls=GreedyCommand)
def info(
    video: VideoArgument,
    boxes: Annotated[
        Optional[list[str]],
        typer.Option("--boxes", "-b", help="Boxes to draw, x0,y0,x1,y1 in displayed-frame pixels; 'auto' (default) finds the players, 'strips' shows --sources strips."),
    ] = None,
    boxes_file: Annotated[Optional[Path], typer.Option(help="JSON boxes file to draw.", readable=False)] = None,
    sources: SourcesOption = None,
    preview: Annotated[Optional[Path], typer.Option(help="Write a PNG of a frame with the boxes drawn.")] = None,
    time: Annotated[Optional[float], typer.Option(help="Time (s) of the preview frame (default: the middle).")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print the boxes as JSON (--boxes-file reads it back).")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    debug: Annotated[bool, typer.Option(help="Show tracebacks.")] = False,
) -> None:
    """Print a video's streams, duration and size, and the boxes separate would use (found
    automatically unless given); draw them on a frame to check them."""
    with one_line_errors(debug):
        _info(video, boxes, boxes_file, sources, preview, time, json_out, quiet)


def _info(
    video: Path, boxes: list[str] | None, boxes_file: Path | None, sources: int | None,
    preview: Path | None, time: float | None, json_out: bool, quiet: bool,
) -> None:
    import json

    from rich.table import Table

    from avsep.io.media import probe

    if sources is not None and sources < 1:
        raise InputError(f"--sources {sources}: give at least 1")
    given, strips = _box_options(boxes, boxes_file)
    media = probe(video)
    out = Console(highlight=False)
    if not json_out:
        out.print(
            f"[bold]{escape(str(media.path))}[/]  {media.format}, {media.duration:.2f} s, "
            f"{media.size_bytes / 1e6:.2f} MB ({media.size_bytes} bytes)",
            soft_wrap=True,
        )
        table = Table("stream", "codec", "details")
        for i, v in enumerate(media.videos):
            rot = f", rotated {v.rotation}°" if v.rotation else ""
            table.add_row(f"video {i}", v.codec, f"{v.width}x{v.height} (displayed), {v.fps:.3g} fps{rot}")
        for i, a in enumerate(media.audios):
            table.add_row(f"audio {i}", a.codec, f"{a.sample_rate} Hz, {a.channels} ch")
        out.print(table)
    if media.video is None:
        if preview:
            raise InputError(f"{video}: no video stream to preview")
        if json_out:
            typer.echo(json.dumps({"video": str(media.path), "duration": media.duration, "boxes": []}, indent=2))
        return
    plan = _plan_for_info(video, media, given, strips, sources, quiet)
    if json_out:
        w, h = media.video.width, media.video.height
        report = {"video": str(media.path), "width": w, "height": h, "duration": round(media.duration, 3), **plan.to_json()}
        typer.echo(json.dumps(report, indent=2))
    else:
        for i, s in enumerate(plan.sources):
            guess = f"  {s.label} {s.confidence:.2f}" if s.label else ""
            out.print(f"box {i + 1}: {s.box[0]},{s.box[1]},{s.box[2]},{s.box[3]}{escape(guess)}", soft_wrap=True)
        announce_plan(video, plan, None, quiet=True)  # a fallback's warning only
        if plan.method == "auto":
            out.print(plan.boxes_line(plan.names), soft_wrap=True, markup=False)
    if preview:
        from avsep.preview import draw_preview

        at = media.duration / 2 if time is None else time
        labels = [s.label or s.name or "" for s in plan.sources]
        draw_preview(video, plan.boxes_at(at), at, preview, labels)
        if not json_out:
            out.print(f"preview written to {escape(str(preview))}", soft_wrap=True)


def _plan_for_info(
    video: Path, media: MediaInfo, given: BoxPlan | None, strips: bool, sources: int | None, quiet: bool
) -> BoxPlan:
    """The boxes ``avsep separate`` would use on ``video`` (sidecars aside)."""
    from avsep.players import strips_plan

    w, h = media.video.width, media.video.height
    if given is not None:
        return given.validated(w, h)
    if strips:
        return strips_plan(w, h, sources or 2)
    from avsep.detect import default_finder
    from avsep.players import find_players

    return _finding_players(
        video, quiet, lambda report: find_players(video, default_finder(), sources=sources, media=media, on_frame=report)
    )


def _finding_players(video: Path, quiet: bool, find: Callable[[Callable[[int, int], None]], BoxPlan]) -> BoxPlan:
    """``find(report)`` under a progress bar on stderr (``report(done, total)`` moves it)."""
    from avsep.progress import make_progress

    with make_progress(not quiet, err, transient=True) as bar:
        task = bar.add_task(f"{video.name}: finding players", total=None)
        return find(lambda done, total: bar.update(task, completed=done, total=total))


@app.command(cls=GreedyCommand)
def locate(
    video: VideoArgument,
    boxes: Annotated[
        Optional[list[str]],
        typer.Option("--boxes", "-b", help="One box per source, x0,y0,x1,y1; 'auto' (default) finds the players, 'strips' uses --sources strips."),
    ] = None,
    boxes_file: Annotated[Optional[Path], typer.Option(help="JSON boxes file (as for separate).", readable=False)] = None,
    names: Annotated[Optional[list[str]], typer.Option("--names", help="Picture name per source; several may follow one --names.")] = None,
    sources: SourcesOption = None,
    time: Annotated[Optional[float], typer.Option(help="Time (s) of the frame (default: the middle).")] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder; pictures go to OUT/<video stem>/<name>.png.")] = Path("located"),
    model: Annotated[Optional[str], typer.Option(help="Bundled model name or checkpoint path (default: the bundled model).")] = None,
    device: Annotated[str, typer.Option(help="auto, cpu, cuda or cuda:N.")] = "auto",
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    debug: Annotated[bool, typer.Option(help="Show tracebacks.")] = False,
) -> None:
    """Write one picture per source: a frame with a heat map of where that source's guide (what
    steers its separation) matches the picture, so you see which region each output belongs to."""
    with one_line_errors(debug):
        from avsep.io.media import probe
        from avsep.locate import locate as draw_heat_maps
        from avsep.separate import Separator

        if sources is not None and sources < 1:
            raise InputError(f"--sources {sources}: give at least 1")
        given, strips = _box_options(boxes, boxes_file)
        media = probe(video)
        if media.video is None:
            raise InputError(f"{video}: no video stream, so there is nothing to locate")
        if given is None and not strips and sources is None and names:
            sources = len(names)
        separator = Separator(model, device=device)
        if given is not None or strips:
            plan = _plan_for_info(video, media, given, strips, sources, quiet)
        else:
            plan = _finding_players(
                video, quiet, lambda report: separator.find_players(video, sources=sources, media=media, on_frame=report)
            )
            announce_plan(video, plan, names or plan.names, quiet)
        labels = output_names(len(plan.sources), names or plan.names, residual=False)
        at = media.duration / 2 if time is None else time
        folder = out / video.stem
        for path in draw_heat_maps(video, plan, separator.trunk, at, folder, labels, separator.device):
            typer.echo(str(path))


@app.command()
def models(
    debug: Annotated[bool, typer.Option(help="Show tracebacks.")] = False,
) -> None:
    """List the bundled models with their hash and model card."""
    with one_line_errors(debug):
        _models()


#: Card fields worth a line in ``avsep models``; the rest is in the card file. The sizes are
#: measured, not read from the card.
CARD_SUMMARY = ("architecture", "backbone", "intended_use")


def _models() -> None:
    """One block per model; each file is loaded, so a damaged or altered one shows as refused.

    The hash shown is the file's sha256, the one ``sha256sum`` prints, so a user can check a
    copy without avsep; the sizes are the file's bytes and the network's parameter count.
    """
    from avsep.errors import ModelError
    from avsep.models.serialize import load_checkpoint
    from avsep.weights import DEFAULT_MODEL, bundled_models, weights_dir

    found = bundled_models()
    if not found:
        raise AvsepError(
            f"no bundled models in {weights_dir()}: reinstall avsep, or set AVSEP_WEIGHTS_DIR "
            "to a folder of <name>-<hash>.pt files"
        )
    out = Console(highlight=False)
    for m in found:
        nbytes = m.path.stat().st_size
        size = f"{nbytes / 1e6:.1f} MB file ({nbytes:,} bytes)"
        try:
            ck = load_checkpoint(m.path)
            digest = f"{ck.sha256} (verified; sha256sum prints the same)"
            size += f", {ck.parameters:,} parameters"
        except ModelError as exc:
            digest = f"[red]refused:[/] {escape(str(exc))}"
        default = " (default)" if m.name == DEFAULT_MODEL else ""
        card = ", ".join(f"{k}: {m.card[k]}" for k in CARD_SUMMARY if k in m.card)
        out.print(f"[bold]{escape(m.name)}[/]{default}  {escape(str(m.path))}", soft_wrap=True)
        out.print(f"  sha256  {digest}", soft_wrap=True)
        out.print(f"  size    {size}", soft_wrap=True)
        out.print(f"  card    {escape(card) or '(none)'}", soft_wrap=True)
        if m.card:
            out.print(f"          full card: {escape(str(m.path.with_name(m.name + '.json')))}", soft_wrap=True)


def _register_subcommands() -> None:
    """Training-side commands live in avsep.train (which never imports this module); their
    heavy imports happen inside the command functions, so mounting them here costs nothing."""
    from avsep.train.build.cli import app as build_app
    from avsep.train.commands import register

    data_app.registered_commands.extend(build_app.registered_commands)
    register(app)


_register_subcommands()


def run() -> None:
    """Console-script entry point.

    Ctrl-C is handled inside the commands (exit 130, see :func:`one_line_errors` and the batch
    loop); typer itself reports one that lands while it parses the command line.
    """
    app()
