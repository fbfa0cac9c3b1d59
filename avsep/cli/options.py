"""The options of the ``avsep`` commands, declared apart from the command bodies.

Each option is an ``Annotated`` alias (its type and its ``typer.Option``), so a command's
signature in :mod:`avsep.cli.app` reads as a list of what it takes; options several commands share
are declared once. :class:`GreedyCommand` lets ``--boxes`` and ``--names`` take several values.
Only typer and the standard library are imported here (``avsep --help`` stays cheap).
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from avsep._version import __version__
from avsep.cli.help_text import AvsepCommand
from avsep.options import GUIDE_HELP, MASK_HELP, SAME_INSTRUMENT_HELP, VIDEO_EXTENSIONS, GuideFrom, Mask, SameInstrument


class SampleFormat(str, Enum):
    pcm16 = "pcm16"
    pcm24 = "pcm24"
    float = "float"
    flac = "flac"
    flac24 = "flac24"
    mp3 = "mp3"
    m4a = "m4a"
    opus = "opus"


class GreedyCommand(AvsepCommand):
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


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"avsep {__version__}")
        raise typer.Exit()


# -- shared ----------------------------------------------------------------------------------

# The panels of --help, so that at 80 columns each option reads on its own line.
BOXES, OUTPUT, EXISTING, MODEL, INPUT, PERFORMANCE, BALANCE = (
    "Boxes",
    "Output",
    "Existing outputs",
    "Model",
    "Input",
    "Performance",
    "Balance",
)


# --debug/--no-debug here; the training side's DebugOption has no --no-debug (both kept as they were).
Debug = Annotated[bool, typer.Option(help="Show tracebacks.")]
QuietBar = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")]
Sources = Annotated[
    Optional[int],
    typer.Option(
        help="With no boxes: keep the N clearest players found (default: all found), or N strips.",
        show_default=False,
        metavar="N",
        rich_help_panel=BOXES,
    ),
]
VideoArgument = Annotated[Path, typer.Argument(help="A video file.", readable=False, metavar="VIDEO")]
Model = Annotated[
    Optional[str],
    typer.Option(
        help="Bundled model name or checkpoint path (default: the bundled model).",
        metavar="NAME|FILE",
        rich_help_panel=MODEL,
    ),
]
Device = Annotated[str, typer.Option(help="auto, cpu, cuda or cuda:N.", metavar="DEVICE", rich_help_panel=PERFORMANCE)]
Version = Annotated[bool, typer.Option("--version", callback=_print_version, is_eager=True, help="Print the version.")]

# -- separate --------------------------------------------------------------------------------

# readable=False: an unreadable input is reported by the pipeline as one line, and the rest
# of the batch still runs; click would stop everything with a usage error.
Inputs = Annotated[
    list[Path],
    typer.Argument(
        help="Video files or folders (searched recursively).", show_default=False, readable=False, metavar="VIDEO"
    ),
]
SeparateBoxes = Annotated[
    Optional[list[str]],
    typer.Option(
        "--boxes",
        "-b",
        help="One box per instrument, x0,y0,x1,y1 in pixels of the displayed video frame "
        "(top-left origin, after rotation). Several may follow one --boxes. 'auto' (the "
        "default) finds the players; 'strips' cuts the frame into --sources vertical strips.",
        show_default=False,
        metavar="X0,Y0,X1,Y1",
        rich_help_panel=BOXES,
    ),
]
SeparateBoxesFile = Annotated[
    Optional[Path],
    # "\[": the help is rich markup, where [x0,...] would be read as a style tag and vanish.
    typer.Option(
        help=r'JSON: a list of boxes, or of {"name": ..., "box": \[x0,y0,x1,y1]} with optional '
        r'"start"/"end" seconds (several entries of one name: a box that changes over time).',
        readable=False,
        metavar="FILE",
        rich_help_panel=BOXES,
    ),
]
Names = Annotated[
    Optional[list[str]],
    typer.Option(
        "--names", help="Output name per box; several may follow one --names.", metavar="NAME", rich_help_panel=BOXES
    ),
]
Out = Annotated[
    str,
    typer.Option(
        "--out", "-o", help="Output folder, or - for a WAV on stdout.", metavar="FOLDER", rich_help_panel=OUTPUT
    ),
]
OutputTemplate = Annotated[
    str,
    typer.Option(
        help="Path in --out from {stem} {name} {index} {ext} {parent}.", metavar="TEMPLATE", rich_help_panel=OUTPUT
    ),
]
Source = Annotated[
    Optional[str],
    typer.Option(
        help="With -o -: which source goes to stdout: its number (1-based, left to right) or its name.",
        metavar="N|NAME",
        rich_help_panel=OUTPUT,
    ),
]
Format = Annotated[
    SampleFormat,
    typer.Option(
        "--format",
        help="Output format: WAV (pcm16, pcm24, float), FLAC (flac: 16 bit, flac24: 24 bit; lossless, "
        "about half the size), or compressed: mp3, m4a (AAC), opus (at --bitrate; tagged with the source's name).",
        metavar="FORMAT",
        rich_help_panel=OUTPUT,
    ),
]
Bitrate = Annotated[
    Optional[str],
    typer.Option(
        help="Bit rate of mp3, m4a and opus outputs, e.g. 192k or 128000 (default: 192k for mp3 and m4a, "
        "128k for opus).",
        metavar="RATE",
        rich_help_panel=OUTPUT,
    ),
]
SampleRate = Annotated[
    Optional[int],
    typer.Option(
        help="Output rate in Hz (default: the input's; 11025 keeps the model's).", metavar="HZ", rich_help_panel=OUTPUT
    ),
]
Residual = Annotated[
    bool, typer.Option(help="Also write the mixture minus the sum of the sources.", rich_help_panel=OUTPUT)
]
Mono = Annotated[
    bool,
    typer.Option(help="Downmix the outputs to one channel (default: the video's channels).", rich_help_panel=OUTPUT),
]
MaskOption = Annotated[Mask, typer.Option(help=MASK_HELP, metavar="MASK", rich_help_panel=MODEL)]
SameInstrumentOption = Annotated[
    SameInstrument, typer.Option(help=SAME_INSTRUMENT_HELP, metavar="HOW", rich_help_panel=MODEL)
]
GuideOption = Annotated[GuideFrom, typer.Option(help=GUIDE_HELP, metavar="FROM", rich_help_panel=MODEL)]
Overlap = Annotated[
    float, typer.Option(help="Overlap of consecutive model windows (0 to 0.9).", metavar="SHARE", rich_help_panel=MODEL)
]
BackboneWeights = Annotated[
    Optional[Path],
    typer.Option(help="ImageNet weights file for a resnet18 trunk.", metavar="FILE", rich_help_panel=MODEL),
]
BatchSize = Annotated[int, typer.Option(help="Windows per network batch.", metavar="N", rich_help_panel=PERFORMANCE)]
AudioStream = Annotated[
    Optional[int],
    typer.Option(help="Audio stream to use (0-based, among audio streams).", metavar="N", rich_help_panel=INPUT),
]
Start = Annotated[
    Optional[str],
    typer.Option(
        help="Work on the video from this time on: seconds (80.5) or minutes:seconds (1:20); outputs cover "
        "the range, a boxes file's times stay the video's.",
        metavar="TIME",
        rich_help_panel=INPUT,
    ),
]
End = Annotated[
    Optional[str],
    typer.Option(
        help="Work on the video up to this time (default: its end); e.g. 2:05.", metavar="TIME", rich_help_panel=INPUT
    ),
]
VideoStream = Annotated[
    Optional[int],
    typer.Option(help="Video stream to use (0-based, among video streams).", metavar="N", rich_help_panel=INPUT),
]
SkipExisting = Annotated[
    bool, typer.Option(help="Skip a video whose outputs all exist and were made from it.", rich_help_panel=EXISTING)
]
Overwrite = Annotated[bool, typer.Option(help="Replace existing output files.", rich_help_panel=EXISTING)]
Jobs = Annotated[
    int,
    typer.Option(
        help="Worker processes, each with the model once (they share the cores).",
        metavar="N",
        rich_help_panel=PERFORMANCE,
    ),
]
Ray = Annotated[
    Optional[str],
    typer.Option(
        help="Run on a Ray cluster: auto (this machine's cluster, else a local one) or its address; "
        "needs the \\[cluster] extra.",
        show_default=False,
        metavar="auto|ADDRESS",
        rich_help_panel=PERFORMANCE,
    ),
]
GpusPerJob = Annotated[
    float,
    typer.Option(
        help="With --ray: GPUs for each video's task (0: CPUs only).", metavar="GPUS", rich_help_panel=PERFORMANCE
    ),
]
Report = Annotated[
    Optional[Path],
    typer.Option(
        help="Write a JSON report of every input (status, outputs, time).", metavar="FILE", rich_help_panel=OUTPUT
    ),
]
QuietSummary = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars or summary.")]

# -- remix -----------------------------------------------------------------------------------

RemixOut = Annotated[
    Optional[Path],
    typer.Option(
        "--out",
        "-o",
        help="Output video (default: VIDEO.remix.<ext> beside it, .mkv when avsep cannot write <ext>; "
        "with --stems VIDEO.stems.mkv, or .mp4/.mov).",
        show_default=False,
        metavar="FILE",
        rich_help_panel=OUTPUT,
    ),
]


def _balance(help: str, metavar: str) -> typer.models.OptionInfo:
    """A repeatable ``remix`` option naming sources: they share one panel and one shape."""
    return typer.Option(help=help, show_default=False, metavar=metavar, rich_help_panel=BALANCE)


Gain = Annotated[
    Optional[list[str]], _balance("Raise (+) or lower (-) one source by DB decibels; repeat for more.", "NAME=DB")
]
Solo = Annotated[
    Optional[list[str]], _balance("Keep only this source (and the residual); repeat to keep several.", "NAME")
]
Mute = Annotated[Optional[list[str]], _balance("Remove this source; repeat for more.", "NAME")]
Stems = Annotated[
    bool,
    typer.Option(
        help="Instead of a remix, write the video with the original soundtrack plus one titled audio track "
        "per source (MP4/MKV), for a video editor.",
        rich_help_panel=OUTPUT,
    ),
]

# -- info ------------------------------------------------------------------------------------

InfoBoxes = Annotated[
    Optional[list[str]],
    typer.Option(
        "--boxes",
        "-b",
        help="Boxes to draw, x0,y0,x1,y1 in displayed-frame pixels; 'auto' (default) finds the players, "
        "'strips' shows --sources strips.",
        metavar="X0,Y0,X1,Y1",
        rich_help_panel=BOXES,
    ),
]
InfoBoxesFile = Annotated[
    Optional[Path], typer.Option(help="JSON boxes file to draw.", readable=False, metavar="FILE", rich_help_panel=BOXES)
]
Preview = Annotated[
    Optional[Path],
    typer.Option(
        help="Write a picture (.png, .jpg) of a frame with the boxes drawn.", metavar="FILE", rich_help_panel=OUTPUT
    ),
]
PreviewTime = Annotated[
    Optional[float],
    typer.Option(
        help="Time (s) of the preview frame (default: the middle).", metavar="SECONDS", rich_help_panel=OUTPUT
    ),
]
Json = Annotated[
    bool, typer.Option("--json", help="Print the boxes as JSON (--boxes-file reads it back).", rich_help_panel=OUTPUT)
]

# -- locate ----------------------------------------------------------------------------------

LocateBoxes = Annotated[
    Optional[list[str]],
    typer.Option(
        "--boxes",
        "-b",
        help="One box per source, x0,y0,x1,y1; 'auto' (default) finds the players, 'strips' uses --sources strips.",
        metavar="X0,Y0,X1,Y1",
        rich_help_panel=BOXES,
    ),
]
LocateBoxesFile = Annotated[
    Optional[Path],
    typer.Option(help="JSON boxes file (as for separate).", readable=False, metavar="FILE", rich_help_panel=BOXES),
]
LocateNames = Annotated[
    Optional[list[str]],
    typer.Option(
        "--names",
        help="Picture name per source; several may follow one --names.",
        metavar="NAME",
        rich_help_panel=BOXES,
    ),
]
FrameTime = Annotated[
    Optional[float],
    typer.Option(help="Time (s) of the frame (default: the middle).", metavar="SECONDS", rich_help_panel=OUTPUT),
]
PickOut = Annotated[
    str,
    typer.Option(
        "--out",
        "-o",
        help="Output folder of the page's separations, as separate's.",
        metavar="FOLDER",
        rich_help_panel=OUTPUT,
    ),
]
NoBrowser = Annotated[bool, typer.Option("--no-browser", help="Only print the page's URL; open no browser.")]
LocateOut = Annotated[
    Path,
    typer.Option(
        "--out",
        "-o",
        help="Output folder; pictures go to OUT/<video stem>/<name>.png.",
        metavar="FOLDER",
        rich_help_panel=OUTPUT,
    ),
]
