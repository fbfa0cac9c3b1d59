"""The ``avsep`` command line: a thin layer over :mod:`avsep.separate` and :mod:`avsep.train`.

Heavy imports (torch, PyAV) happen inside the commands so that ``avsep --help`` is instant.
Every :class:`~avsep.errors.AvsepError` becomes one line on stderr and its exit code; other
exceptions too, unless ``--debug`` asks for the traceback. Progress goes to stderr, so
``-o -`` can stream a WAV on stdout.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import click
import typer
from rich.console import Console
from typer.core import TyperCommand

from avsep import __version__
from avsep.errors import AvsepError, InputError

VIDEO_EXTENSIONS = {".mp4", ".mkv", ".webm", ".mov", ".avi", ".m4v", ".mpg", ".mpeg", ".flv", ".ts", ".wmv"}
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141

err = Console(stderr=True, highlight=False)
app = typer.Typer(
    name="avsep",
    help="Separate the sound of each instrument in a video, guided by boxes around the players.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
data_app = typer.Typer(help="Build training data.", no_args_is_help=True)
app.add_typer(data_app, name="data")


class MaskKind(str, Enum):
    binary = "binary"
    soft = "soft"


class SampleFormat(str, Enum):
    pcm16 = "pcm16"
    pcm24 = "pcm24"
    float = "float"


_BOXLIKE = re.compile(r"^[^,\s]*,[^,\s]*,[^,\s]*,[^,\s]*(,.*)?$|^[^/\\]*,[^/\\]*$")


class GreedyCommand(TyperCommand):
    """Lets ``--boxes`` and ``--names`` take several values, as users type them.

    click gives an option one value per occurrence, so ``--boxes A B`` would make ``B`` an
    input file. Before parsing, values following these options are rewritten to
    ``--boxes A --boxes B``: a box is anything with a comma that is not an existing path, a
    name anything that does not start with ``-`` and is not an existing path.
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        out: list[str] = []
        mode: str | None = None
        for arg in args:
            if arg in ("--boxes", "--names"):
                mode = arg
                continue
            if mode and not arg.startswith("-") and not Path(arg).exists():
                if mode == "--names" or "," in arg:
                    out += [mode, arg]
                    continue
            mode = None
            out.append(arg)
        return super().parse_args(ctx, out)


def fail(exc: BaseException, debug: bool) -> int:
    """Report ``exc`` as one line (plus the traceback with ``--debug``); returns the exit code."""
    if debug:
        err.print_exception()
    if isinstance(exc, AvsepError):
        err.print(f"[bold red]error:[/] {exc}", markup=True, soft_wrap=True)
        return exc.exit_code
    err.print(
        f"[bold red]error:[/] unexpected {type(exc).__name__}: {exc} (run with --debug for details)",
        markup=True,
        soft_wrap=True,
    )
    return 1


def _version(value: bool) -> None:
    if value:
        typer.echo(f"avsep {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """avsep: audio-visual instrument separation."""


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
                problems.append((p, f"{p}: folder holds no video files ({', '.join(sorted(VIDEO_EXTENSIONS))})"))
            videos.extend(found)
        else:
            videos.append(p)  # missing files, directories named like videos: probe reports them
    return videos, problems


@dataclass
class OutputPlan:
    """Where one video's outputs go: one path per output row (boxes, then residual)."""

    video: Path
    names: list[str]
    paths: list[Path] = field(default_factory=list)


def output_names(count: int, names: list[str] | None, residual: bool) -> list[str]:
    if names and len(names) != count:
        raise InputError(f"--names gives {len(names)} names for {count} boxes; give one per box")
    out = list(names) if names else [f"source{i + 1}" for i in range(count)]
    bad = [n for n in out if not n or "/" in n or "\\" in n or n in (".", "..")]
    if bad:
        raise InputError(f"output name {bad[0]!r} is not usable as a file name")
    if len(set(out)) != len(out):
        raise InputError(f"output names must differ: {out}")
    return out + (["residual"] if residual else [])


def render_template(template: str, out_dir: Path, video: Path, name: str, index: int) -> Path:
    try:
        rel = template.format(stem=video.stem, name=name, index=index, ext="wav")
    except (KeyError, IndexError, ValueError) as exc:
        raise InputError(
            f"--output-template {template!r}: {exc}; fields are {{stem}} {{name}} {{index}} {{ext}}"
        ) from None
    return out_dir / rel


@app.command(cls=GreedyCommand)
def separate(
    inputs: Annotated[list[Path], typer.Argument(help="Video files or folders (searched recursively).", show_default=False)],
    boxes: Annotated[
        Optional[list[str]],
        typer.Option(
            "--boxes",
            "-b",
            help="One box per instrument, x0,y0,x1,y1 in pixels of the displayed video frame "
            "(top-left origin, after rotation). Several may follow one --boxes.",
            show_default=False,
        ),
    ] = None,
    boxes_file: Annotated[
        Optional[Path],
        typer.Option(help='JSON: a list of boxes, or of {"name": ..., "box": [x0,y0,x1,y1]}.'),
    ] = None,
    names: Annotated[Optional[list[str]], typer.Option("--names", help="Output name per box.")] = None,
    sources: Annotated[int, typer.Option(help="With no boxes: split the frame into N vertical strips.")] = 2,
    out: Annotated[str, typer.Option("--out", "-o", help="Output folder, or - for a WAV on stdout.")] = "separated",
    output_template: Annotated[str, typer.Option(help="Output path under --out; fields {stem} {name} {index} {ext}.")] = "{stem}/{name}.{ext}",
    source: Annotated[Optional[int], typer.Option(help="With -o -: which box (1-based) goes to stdout.")] = None,
    fmt: Annotated[SampleFormat, typer.Option("--format", help="Sample format of the WAV files.")] = SampleFormat.pcm16,
    sample_rate: Annotated[Optional[int], typer.Option(help="Output rate in Hz (default: the input's; 11025 keeps the model's).")] = None,
    residual: Annotated[bool, typer.Option(help="Also write the mixture minus the sum of the sources.")] = False,
    mask: Annotated[MaskKind, typer.Option(help="binary thresholds the mask at 0.5; soft keeps the ratio.")] = MaskKind.binary,
    overlap: Annotated[float, typer.Option(help="Overlap of consecutive model windows (0 to 0.9).")] = 0.25,
    model: Annotated[Optional[str], typer.Option(help="Bundled model name or checkpoint path.")] = None,
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
    try:
        job = _SeparateJob.from_options(
            inputs, boxes, boxes_file, names, sources, out, output_template, source, fmt.value,
            sample_rate, residual, skip_existing, overwrite,
        )
    except AvsepError as exc:
        raise typer.Exit(fail(exc, debug)) from None
    from avsep.separate import Separator

    try:
        separator = Separator(
            model, device=device, mask=mask.value, overlap=overlap, batch_size=batch_size,
            backbone_weights=backbone_weights,
        )
    except AvsepError as exc:
        raise typer.Exit(fail(exc, debug)) from None
    code = job.run(separator, audio_stream, video_stream, quiet, debug)
    raise typer.Exit(code)


@dataclass
class _SeparateJob:
    """A validated ``avsep separate`` invocation: what to read, where to write."""

    videos: list[Path]
    problems: list[tuple[Path, str]]
    boxes: list[tuple[int, int, int, int]] | None
    names: list[str] | None
    sources: int
    out_dir: Path | None  # None: stdout
    template: str
    source: int | None
    fmt: str
    sample_rate: int | None
    residual: bool
    skip_existing: bool
    overwrite: bool

    @classmethod
    def from_options(
        cls, inputs, boxes, boxes_file, names, sources, out, template, source, fmt,
        sample_rate, residual, skip_existing, overwrite,
    ) -> "_SeparateJob":
        from avsep.boxes import load_boxes_file, parse_box, check_count

        if boxes and boxes_file:
            raise InputError("give boxes with --boxes or --boxes-file, not both")
        parsed = [parse_box(b) for b in boxes] if boxes else None
        if boxes_file:
            named = load_boxes_file(boxes_file)
            parsed = [nb.box for nb in named]
            if not names and all(nb.name for nb in named):
                names = [nb.name for nb in named]
        if parsed:
            check_count(len(parsed))
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
            count = len(parsed) if parsed else sources
            source = 1 if source is None and count == 1 else source
            if source is None or not 1 <= source <= count:
                raise InputError(f"-o - needs --source N with N between 1 and {count}")
        elif source is not None:
            raise InputError("--source only applies with -o - (stdout)")
        return cls(
            videos, problems, parsed, names, sources, None if to_stdout else Path(out), template,
            source, fmt, sample_rate, residual, skip_existing, overwrite,
        )

    def plan(self, video: Path) -> tuple[list[tuple[int, int, int, int]] | None, OutputPlan]:
        """Boxes (a sidecar overrides the command line) and output paths for one video."""
        from avsep.boxes import load_boxes_file, sidecar_for

        boxes, names = self.boxes, self.names
        sidecar = sidecar_for(video)
        if sidecar.is_file():
            named = load_boxes_file(sidecar)
            boxes = [nb.box for nb in named]
            names = [nb.name for nb in named] if all(nb.name for nb in named) else None
        count = len(boxes) if boxes else self.sources
        plan = OutputPlan(video, output_names(count, names, self.residual))
        if self.out_dir is not None:
            plan.paths = [
                render_template(self.template, self.out_dir, video, n, i + 1)
                for i, n in enumerate(plan.names)
            ]
            if len(set(plan.paths)) != len(plan.paths):
                raise InputError(f"--output-template {self.template!r} gives the same path to two outputs; use {{name}} or {{index}}")
        return boxes, plan

    def run(self, separator, audio_stream, video_stream, quiet: bool, debug: bool) -> int:
        from avsep.progress import SeparationProgress

        results: list[tuple[Path, str, str]] = [(p, "failed", msg) for p, msg in self.problems]
        for _, msg in self.problems:
            fail(InputError(msg), False)
        with SeparationProgress(len(self.videos), enabled=not quiet) as progress:
            for video in self.videos:
                progress.start_file(video)
                try:
                    status = self._one(separator, video, audio_stream, video_stream, progress)
                    results.append((video, status[0], status[1]))
                except KeyboardInterrupt:
                    progress.stop()
                    err.print(f"interrupted while separating {video}; finished outputs were kept")
                    return EXIT_INTERRUPTED
                except BrokenPipeError:
                    return EXIT_BROKEN_PIPE
                except Exception as exc:  # one bad file must not stop the batch
                    fail(exc, debug)
                    results.append((video, "failed", str(exc)))
                progress.finish_file()
        if not quiet and self.out_dir is not None and len(results) > 1:
            _summary(results)
        return 1 if any(r[1] == "failed" for r in results) else 0

    def _one(self, separator, video: Path, audio_stream, video_stream, progress) -> tuple[str, str]:
        from avsep.io.wav import AtomicWavWriter, write_wav_stdout

        boxes, plan = self.plan(video)
        if self.skip_existing and plan.paths and all(p.exists() for p in plan.paths):
            return "skipped", "outputs exist"
        if not self.overwrite:
            existing = [p for p in plan.paths if p.exists()]
            if existing:
                raise InputError(
                    f"{existing[0]} already exists; pass --overwrite to replace it or --skip-existing to skip"
                )
        stream = separator.stream_file(
            video, boxes, sources=self.sources, sample_rate=self.sample_rate,
            residual=self.residual, audio_stream=audio_stream, video_stream=video_stream,
            on_window=progress.window,
        )
        progress.set_windows(stream.num_windows)
        peak = 0.0
        if self.out_dir is None:
            row = self.source - 1

            def picked() -> Iterator:
                nonlocal peak
                for block in stream.blocks:
                    peak = max(peak, float(abs(block).max(initial=0.0)))
                    yield block[row]

            if not write_wav_stdout(picked(), stream.sample_rate, self.fmt):
                raise BrokenPipeError  # the reader left early: stop quietly, nothing to report
            outputs = "stdout"
        else:
            from contextlib import ExitStack

            with ExitStack() as stack:
                writers = [
                    stack.enter_context(AtomicWavWriter(p, stream.sample_rate, 1, self.fmt, overwrite=self.overwrite))
                    for p in plan.paths
                ]
                for block in stream.blocks:
                    peak = max(peak, float(abs(block).max(initial=0.0)))
                    for w, row in zip(writers, block):
                        w.write(row)
            outputs = ", ".join(str(p) for p in plan.paths)
        if peak == 0.0:
            err.print(f"[yellow]warning:[/] {video}: the audio is silent; the outputs are silent too")
        return "ok", outputs


def _summary(results: list[tuple[Path, str, str]]) -> None:
    from rich.table import Table

    table = Table(title="avsep separate")
    table.add_column("input")
    table.add_column("status")
    table.add_column("outputs / error", overflow="fold")
    colours = {"ok": "green", "skipped": "yellow", "failed": "red"}
    for path, status, detail in results:
        table.add_row(str(path), f"[{colours[status]}]{status}[/]", detail)
    err.print(table)


# ------------------------------------------------------------------------------------------------
# info, models
# ------------------------------------------------------------------------------------------------


@app.command(cls=GreedyCommand)
def info(
    video: Annotated[Path, typer.Argument(help="A video file.")],
    boxes: Annotated[Optional[list[str]], typer.Option("--boxes", "-b", help="Boxes to draw, x0,y0,x1,y1 in displayed-frame pixels.")] = None,
    boxes_file: Annotated[Optional[Path], typer.Option(help="JSON boxes file to draw.")] = None,
    sources: Annotated[int, typer.Option(help="With no boxes: show N vertical strips.")] = 2,
    preview: Annotated[Optional[Path], typer.Option(help="Write a PNG of a frame with the boxes drawn.")] = None,
    time: Annotated[Optional[float], typer.Option(help="Time (s) of the preview frame (default: the middle).")] = None,
    debug: Annotated[bool, typer.Option(help="Show tracebacks.")] = False,
) -> None:
    """Print a video's streams, duration and size; draw boxes on a frame to check them."""
    try:
        _info(video, boxes, boxes_file, sources, preview, time)
    except AvsepError as exc:
        raise typer.Exit(fail(exc, debug)) from None


def _info(video, boxes, boxes_file, sources, preview, time) -> None:
    from rich.table import Table

    from avsep.boxes import load_boxes_file, parse_box, validate_boxes
    from avsep.io.media import probe

    media = probe(video)
    out = Console()
    out.print(f"[bold]{media.path}[/]  {media.format}, {media.duration:.2f} s, {media.size_bytes / 1e6:.2f} MB")
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
        return
    w, h = media.video.width, media.video.height
    if boxes_file:
        parsed = [nb.box for nb in load_boxes_file(boxes_file)]
    elif boxes:
        parsed = [parse_box(b) for b in boxes]
    else:
        from avsep.separate import strip_boxes

        parsed = strip_boxes(w, h, sources)
    parsed = validate_boxes(parsed, w, h)
    for i, b in enumerate(parsed):
        out.print(f"box {i + 1}: {b[0]},{b[1]},{b[2]},{b[3]}")
    if preview:
        from avsep.preview import draw_preview

        at = media.duration / 2 if time is None else time
        draw_preview(video, parsed, at, preview)
        out.print(f"preview written to {preview}")


@app.command()
def models() -> None:
    """List the bundled models with their hash and model card."""
    from rich.table import Table

    from avsep.weights import DEFAULT_MODEL, bundled_models, weights_dir

    found = bundled_models()
    if not found:
        err.print(f"no bundled models in {weights_dir()}")
        raise typer.Exit(1)
    table = Table("name", "sha256", "file", "card")
    for m in found:
        card = m.card
        summary = ", ".join(
            f"{k}: {card[k]}" for k in ("architecture", "backbone", "parameters") if k in card
        )
        default = " (default)" if m.name == DEFAULT_MODEL else ""
        table.add_row(m.name + default, m.short_hash, m.path.name, summary)
    Console().print(table)


def _register_subcommands() -> None:
    """Training-side commands live in avsep.train; mounted here, imported lazily by them."""
    try:
        from avsep.train.build.cli import app as build_app
        from avsep.train.commands import register
    except ImportError:  # training extras are part of the package; this guards partial installs
        return
    data_app.registered_commands.extend(build_app.registered_commands)
    register(app)


_register_subcommands()


def run() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(EXIT_INTERRUPTED)
