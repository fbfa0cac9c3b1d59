"""The ``avsep`` command line: a thin layer over :mod:`avsep.separation.separator` and :mod:`avsep.train`.

Heavy imports (torch, PyAV) happen inside the commands so that ``avsep --help`` stays cheap.
The options are declared in :mod:`avsep.cli.options`; the batch rules of ``separate`` (inputs,
output names, skip/overwrite, atomic writes) live in :mod:`avsep.batch.job`, shared with the Python
API. Every failure becomes one line on stderr and an exit code (see ``docs/errors.md``): an
:class:`~avsep.errors.AvsepError` says what to do; anything else is a bug, reported in one line
too, with the traceback only under ``--debug``. Warnings (Python's and avsep's log) become
``warning: ...`` lines. Progress goes to stderr, so ``-o -`` can stream a WAV on stdout.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.markup import escape

from avsep.cli import options as opt
from avsep.cli.help_text import TRAINING_PANEL, USER_PANEL, AvsepCommand, AvsepGroup
from avsep.cli.options import GreedyCommand, SampleFormat
from avsep.cli.paths import check_can_write, check_inputs_exist, check_output_folder, check_picture_file
from avsep.cli.pick import pick_command
from avsep.cli.reporting import err, fail, one_line_errors, user_facing_warnings
from avsep.cli.views import announce_plan, finding_players, frame_time, list_models, show_info
from avsep.errors import EXIT_BROKEN_PIPE, EXIT_INTERRUPTED, InputError
from avsep.options import (
    COMMAND_LINE,
    DEFAULT_BATCH_SIZE,
    DEFAULT_DEVICE,
    DEFAULT_FORMAT,
    DEFAULT_GUIDE,
    DEFAULT_MASK,
    DEFAULT_OUT,
    DEFAULT_OVERLAP,
    DEFAULT_SAME_INSTRUMENT,
    DEFAULT_TEMPLATE,
    BatchOptions,
    SeparationOptions,
)

if TYPE_CHECKING:
    from avsep.batch.job import BatchJob
    from avsep.separation.separator import Separator
    from avsep.timerange import TimeRange

app = typer.Typer(
    name="avsep",
    help="Separate the sound of each instrument in a video, guided by boxes around the players.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    cls=AvsepGroup,
)
data_app = typer.Typer(help="Build training data.", no_args_is_help=True, cls=AvsepGroup)
app.add_typer(data_app, name="data", rich_help_panel=TRAINING_PANEL)


@app.callback()
def main(ctx: typer.Context, version: opt.Version = False) -> None:
    """avsep: audio-visual instrument separation."""
    ctx.with_resource(user_facing_warnings())


# ------------------------------------------------------------------------------------------------
# separate
# ------------------------------------------------------------------------------------------------


@app.command(cls=GreedyCommand, rich_help_panel=USER_PANEL)
def separate(
    inputs: opt.Inputs,
    boxes: opt.SeparateBoxes = None,
    boxes_file: opt.SeparateBoxesFile = None,
    names: opt.Names = None,
    sources: opt.Sources = None,
    out: opt.Out = DEFAULT_OUT,
    output_template: opt.OutputTemplate = DEFAULT_TEMPLATE,
    source: opt.Source = None,
    fmt: opt.Format = SampleFormat(DEFAULT_FORMAT),
    bitrate: opt.Bitrate = None,
    sample_rate: opt.SampleRate = None,
    residual: opt.Residual = False,
    mono: opt.Mono = False,
    mask: opt.MaskOption = DEFAULT_MASK,
    same_instrument: opt.SameInstrumentOption = DEFAULT_SAME_INSTRUMENT,
    guide: opt.GuideOption = DEFAULT_GUIDE,
    overlap: opt.Overlap = DEFAULT_OVERLAP,
    model: opt.Model = None,
    backbone_weights: opt.BackboneWeights = None,
    device: opt.Device = DEFAULT_DEVICE,
    batch_size: opt.BatchSize = DEFAULT_BATCH_SIZE,
    audio_stream: opt.AudioStream = None,
    video_stream: opt.VideoStream = None,
    start: opt.Start = None,
    end: opt.End = None,
    skip_existing: opt.SkipExisting = False,
    overwrite: opt.Overwrite = False,
    jobs: opt.Jobs = 1,
    ray: opt.Ray = None,
    gpus_per_job: opt.GpusPerJob = 0.0,
    report: opt.Report = None,
    quiet: opt.QuietSummary = False,
    debug: opt.Debug = False,
) -> None:
    """Write one WAV, FLAC, MP3, M4A or Opus file per box: the sound of the instrument in it, full band."""
    with one_line_errors(debug):
        check_output_folder(out)  # before any import or work: these answer at once
        check_inputs_exist(inputs)
        options = BatchOptions(
            names=names,
            out_dir=out,
            template=output_template,
            source=source,
            fmt=fmt.value,
            bitrate=bitrate,
            sample_rate=sample_rate,
            residual=residual,
            mono=mono,
            skip_existing=skip_existing,
            overwrite=overwrite,
            audio_stream=audio_stream,
            video_stream=video_stream,
            **time_range(start, end).fields(),
            jobs=jobs,
            ray=ray,
            gpus_per_job=gpus_per_job,
            report=report,
            wording=COMMAND_LINE,
        )
        if ray is not None:
            from avsep.batch.cluster import import_ray  # a missing Ray fails at once (it loads the batch)

            import_ray()
        from avsep.batch.checks import check_options
        from avsep.boxes.request import BoxRequest

        request = BoxRequest.from_options(boxes, boxes_file, sources=sources, names=names, sidecars=True)
        check_options(inputs, request, options)  # still before torch and PyAV load
        settings = _separation_options(locals())
        from avsep.batch.job import BatchJob
        from avsep.cli.batch import run_spread

        job = BatchJob.create(inputs, request, options, quiet=quiet, debug=debug, announce=announce_plan)
        from avsep.separation.separator import Separator

        separator = Separator.from_options(settings)
        code = run_spread(job, separator) if options.spread else _run_batch(job, separator)
    raise typer.Exit(code)


def _separation_options(flags: dict) -> SeparationOptions:
    """How ``separate`` and ``remix`` separate, from their (same) processing flags; checked here,
    before the model loads, with the messages naming the flags."""
    return SeparationOptions(
        flags["model"],
        flags["device"],
        flags["mask"].value,
        flags["same_instrument"].value,
        flags["overlap"],
        flags["batch_size"],
        flags["backbone_weights"],
        flags["guide"].value,
        COMMAND_LINE,
    )


def _run_batch(job: BatchJob, separator: Separator) -> int:
    """Separate every video in this process (:func:`avsep.batch.job.run_file`), with progress
    bars and each failure reported as it happens; the batch goes on. Returns the exit code."""
    from avsep.batch.job import run_file
    from avsep.cli.batch import Finished
    from avsep.progress import SeparationProgress

    outcomes = Finished(job)
    claimed: dict[Path, Path] = {}  # output path -> the video of this batch that writes it
    with SeparationProgress(len(job.videos), enabled=not job.quiet, console=err) as progress:
        for video in job.videos:
            try:
                progress.start_file(video)  # inside the try: Ctrl-C may land here too
                outcome = run_file(job, separator, video, progress, claimed, lambda exc: fail(exc, job.debug, video))
            except KeyboardInterrupt:
                progress.stop()
                err.print(
                    f"interrupted while separating {escape(str(video))}: its partial outputs were "
                    f"removed; {outcomes.kept()}",
                    soft_wrap=True,
                )
                return EXIT_INTERRUPTED
            except BrokenPipeError:
                return EXIT_BROKEN_PIPE  # the reader of -o - left: nothing more to say
            outcomes.append(outcome)
            progress.finish_file()
    return outcomes.close()


# ------------------------------------------------------------------------------------------------
# remix
# ------------------------------------------------------------------------------------------------


@app.command(cls=GreedyCommand, rich_help_panel=USER_PANEL)
def remix(
    video: opt.VideoArgument,
    boxes: opt.SeparateBoxes = None,
    boxes_file: opt.SeparateBoxesFile = None,
    names: opt.Names = None,
    sources: opt.Sources = None,
    out: opt.RemixOut = None,
    gain: opt.Gain = None,
    solo: opt.Solo = None,
    mute: opt.Mute = None,
    stems: opt.Stems = False,
    mask: opt.MaskOption = DEFAULT_MASK,
    same_instrument: opt.SameInstrumentOption = DEFAULT_SAME_INSTRUMENT,
    guide: opt.GuideOption = DEFAULT_GUIDE,
    overlap: opt.Overlap = DEFAULT_OVERLAP,
    model: opt.Model = None,
    backbone_weights: opt.BackboneWeights = None,
    device: opt.Device = DEFAULT_DEVICE,
    batch_size: opt.BatchSize = DEFAULT_BATCH_SIZE,
    audio_stream: opt.AudioStream = None,
    video_stream: opt.VideoStream = None,
    start: opt.Start = None,
    end: opt.End = None,
    overwrite: opt.Overwrite = False,
    quiet: opt.QuietSummary = False,
    debug: opt.Debug = False,
) -> None:
    """Write the video with a rebalanced soundtrack (--gain, --solo, --mute; the residual stays),
    its picture copied untouched; or, with --stems, one track per source."""
    with one_line_errors(debug):
        check_inputs_exist([video])
        from avsep.batch.checks import check_options
        from avsep.boxes.request import BoxRequest
        from avsep.remix.balance import Balance

        balance = Balance.parse(gain or [], solo or [], mute or [])
        request = BoxRequest.from_options(boxes, boxes_file, sources=sources, names=names, sidecars=True)
        options = BatchOptions(
            names=names,
            out_dir=".",
            audio_stream=audio_stream,
            video_stream=video_stream,
            **time_range(start, end).fields(),
            overwrite=overwrite,
            wording=COMMAND_LINE,
        )
        check_options([video], request, options)  # before torch and PyAV load
        settings = _separation_options(locals())
        from avsep.batch.job import BatchJob
        from avsep.remix.mixer import default_output, remix_video

        dest = out or default_output(video, stems)
        check_can_write(dest)  # before the video is read and its players searched for
        job = BatchJob.create([video], request, options, quiet=quiet, debug=debug, announce=announce_plan)
        if job.problems:
            raise InputError(job.problems[0][1])
        from avsep.progress import SeparationProgress
        from avsep.separation.separator import Separator

        separator = Separator.from_options(settings)
        with SeparationProgress(1, enabled=not quiet, console=err) as progress:
            progress.start_file(video)
            written = remix_video(separator, job, video, dest, balance, progress, with_stems=stems)
            progress.finish_file()
        typer.echo(str(written))


# ------------------------------------------------------------------------------------------------
# info, models
# ------------------------------------------------------------------------------------------------


@app.command(cls=GreedyCommand, rich_help_panel=USER_PANEL)
def info(
    video: opt.VideoArgument,
    boxes: opt.InfoBoxes = None,
    boxes_file: opt.InfoBoxesFile = None,
    sources: opt.Sources = None,
    preview: opt.Preview = None,
    time: opt.PreviewTime = None,
    start: opt.Start = None,
    end: opt.End = None,
    json_out: opt.Json = False,
    overwrite: opt.Overwrite = False,
    quiet: opt.QuietBar = False,
    debug: opt.Debug = False,
) -> None:
    """Print a video's streams, duration and size, and the boxes separate would use (found
    automatically unless given; with --start/--end, those of that range); draw them on a frame
    to check them."""
    with one_line_errors(debug):
        check_inputs_exist([video])
        check_picture_file(preview, "--preview", overwrite)
        show_info(video, boxes, boxes_file, sources, preview, time, time_range(start, end), json_out, quiet)


@app.command(cls=GreedyCommand, rich_help_panel=USER_PANEL)
def locate(
    video: opt.VideoArgument,
    boxes: opt.LocateBoxes = None,
    boxes_file: opt.LocateBoxesFile = None,
    names: opt.LocateNames = None,
    sources: opt.Sources = None,
    time: opt.FrameTime = None,
    start: opt.Start = None,
    end: opt.End = None,
    out: opt.LocateOut = Path("located"),
    overwrite: opt.Overwrite = False,
    model: opt.Model = None,
    device: opt.Device = "auto",
    quiet: opt.QuietBar = False,
    debug: opt.Debug = False,
) -> None:
    """Write one picture per source: a frame with a heat map of where that source's guide (what
    steers its separation) matches the picture, so you see which region each output belongs to."""
    with one_line_errors(debug):
        check_output_folder(out)
        check_inputs_exist([video])
        span = time_range(start, end)
        from avsep.batch.checks import output_names
        from avsep.boxes.request import BoxRequest

        request = BoxRequest.from_options(boxes, boxes_file, sources=sources, names=names)
        from avsep.boxes.locate import locate as draw_heat_maps
        from avsep.io.media import clip, probe
        from avsep.separation.separator import Separator

        media = clip(probe(video), span)  # the players found, and the frame shown, in the range
        if media.video is None:
            raise InputError(f"{video}: no video stream, so there is nothing to locate")
        at = frame_time(time, media)
        separator = Separator(model, device=device)
        plan = finding_players(media, request, separator.player_finder, separator.overlap, quiet)
        if plan.method == "auto" and not plan.note:
            announce_plan(video, plan, names or plan.names, quiet)
        labels = output_names(len(plan.sources), names or plan.names, residual=False)
        folder = out / video.stem
        for path in draw_heat_maps(media, plan, separator.trunk, at, folder, labels, separator.device, overwrite):
            typer.echo(str(path))


app.command("pick", cls=AvsepCommand, rich_help_panel=USER_PANEL)(pick_command)


@app.command(cls=AvsepCommand, rich_help_panel=USER_PANEL)
def models(debug: opt.Debug = False) -> None:
    """List the bundled models with their hash and model card."""
    with one_line_errors(debug):
        list_models()


def time_range(start: str | None, end: str | None) -> TimeRange:
    """``--start``/``--end`` parsed (seconds or M:SS) and checked before anything heavy loads."""
    from avsep.timerange import TimeRange

    return TimeRange.parse(start, end, COMMAND_LINE)


def _register_subcommands() -> None:
    """Training-side commands live in avsep.train (which never imports this module); their
    heavy imports happen inside the command functions, so mounting them here costs nothing."""
    from avsep.cli.data import app as build_app
    from avsep.cli.train import register

    data_app.registered_commands.extend(build_app.registered_commands)
    register(app)


_register_subcommands()


def run() -> None:
    """Console-script entry point.

    Ctrl-C is handled inside the commands (exit 130, see :func:`one_line_errors` and the batch
    loop); typer itself reports one that lands while it parses the command line.
    """
    app()
