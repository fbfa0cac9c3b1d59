"""The option declarations of the training-side commands (``avsep train``, ``evaluate``,
``evaluate-real``, ``features``, ``bundle``, ``train-guide``): their choices, panels and
``Annotated`` aliases, and the parsers of the comma lists, as :mod:`avsep.cli.options` is for
``separate``. Only typer and the light :mod:`avsep.train.config`."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from avsep.cli.reporting import DebugOption
from avsep.errors import InputError
from avsep.train.config import ARCHS, SCHEDULES

#: The choices of ``avsep train``, made from :mod:`avsep.train.config`'s tuples.
Arch = Enum("Arch", {name: name for name in ARCHS}, type=str)


Schedule = Enum("Schedule", {name: name for name in SCHEDULES}, type=str)


class Backbone(str, Enum):
    resnet18 = "resnet18"
    efficientnet_lite0 = "efficientnet_lite0"


class OracleGrid(str, Enum):
    linear = "linear"
    warped = "warped"


DEBUG = DebugOption


DEVICE = Annotated[str, typer.Option(help="auto, cpu or cuda[:N].", metavar="DEVICE", rich_help_panel="Machine")]


QUIET = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")]


def parse_counts(option: str, text: str, example: str = "2,3") -> tuple[int, ...]:
    """A comma list of positive integers (``""`` is the empty tuple)."""
    try:
        values = tuple(int(v) for v in text.replace(" ", "").split(",") if v)
    except ValueError:
        raise InputError(f"{option} {text!r}: give comma-separated integers, e.g. {example}") from None
    if values and min(values) < 1:
        raise InputError(f"{option} {text!r}: give positive comma-separated integers, e.g. {example}")
    return values


def parse_channels(text: str) -> tuple[int, ...]:
    values = parse_counts("--channels", text, "16,32,64,128,128,128,128")
    if len(values) != 7:
        raise InputError(f"--channels {text!r}: give 7 positive comma-separated integers")
    return values


def silence_warnings() -> None:
    """The untrained-trunk warning is part of the report; torch's UserWarnings are noise here."""
    import warnings

    warnings.filterwarnings("ignore", category=FutureWarning)


# The panels of ``avsep train --help`` (so that each option reads on its own line at 80 columns).
DATA, MODEL, OPTIMISER, RUN, MACHINE = "Data", "Model", "Optimisation", "Validation and checkpoints", "Machine"


FINETUNE = "Fine-tuning the trunk"


# The options of ``avsep train``: each named as the TrainConfig field it sets, with that field's
# default (DEFAULTS); the few that differ in form are converted by _config_from_options.
Index = Annotated[
    Optional[Path],
    typer.Option(
        "--index",
        help="Training index CSV, or a dataset folder with train.csv (and val.csv). Optional with --resume.",
        metavar="CSV|FOLDER",
        rich_help_panel=DATA,
    ),
]


RunOut = Annotated[
    Optional[Path],
    typer.Option(
        "--out",
        "-o",
        help="Run folder (last.pt, best.pt, log.jsonl). Default runs/avsep, or the resumed run's folder.",
        metavar="FOLDER",
        rich_help_panel=DATA,
    ),
]


ValIndex = Annotated[
    Optional[Path],
    typer.Option(
        "--val",
        help="Validation index CSV (default: val.csv beside train.csv), or real-stems: real ensembles, "
        "split by piece (with --guide label).",
        metavar="CSV",
        rich_help_panel=DATA,
    ),
]


ArchOption = Annotated[
    Arch, typer.Option(help="Mask network: the PCN or the Sound of Pixels baseline.", rich_help_panel=MODEL)
]


Channels = Annotated[
    str, typer.Option(help="PCN conv channels, 7 comma-separated.", metavar="C1,...,C7", rich_help_panel=MODEL)
]


FreezeVisual = Annotated[
    bool,
    typer.Option(
        "--freeze-visual/--finetune-visual",
        help="Keep the trunk frozen, or fine-tune it (runs it every step; GPU).",
        rich_help_panel=FINETUNE,
    ),
]


Guide = Annotated[
    str,
    typer.Option(
        help="Visual guide: features (pooled conv map), posterior (ImageNet music classes), both, label (each "
        "source's true class), or label-other (the 11 classes and 'other').",
        metavar="GUIDE",
        rich_help_panel=MODEL,
    ),
]


SharedLoss = Annotated[
    float,
    typer.Option(
        help="Weight of a second loss on the ratio shares (what --mask ratio uses); 0 = off.",
        metavar="NUMBER",
        rich_help_panel=OPTIMISER,
    ),
]


ClassWeights = Annotated[
    str,
    typer.Option(
        "--class-weight",
        help="Loss weight of the sources of some classes, e.g. saxophone=2,violin=2 (label guides; others 1).",
        metavar="NAME=W,...",
        rich_help_panel=OPTIMISER,
    ),
]


GuideSoften = Annotated[
    float,
    typer.Option(
        help="Share of training sources whose label guide is made soft, as the guide head's answers are (0..1).",
        metavar="SHARE",
        rich_help_panel=DATA,
    ),
]


Coherent = Annotated[
    float,
    typer.Option(
        help="Share of the items led by a clip of an ensemble (the index's group column: avsep data ensembles) "
        "that mix its parts as they were played together (0..1).",
        metavar="SHARE",
        rich_help_panel=DATA,
    ),
]


Outside = Annotated[
    float,
    typer.Option(
        help="Share of the items with one more part that is neither guided nor a target (an instrument "
        "nobody named: the named masks must leave it to the residual): a clip of a class the label guide "
        "cannot name (e.g. other) where the index has any, which then play only such parts; else the "
        "ensemble's next part or an unrelated clip (0..1).",
        metavar="SHARE",
        rich_help_panel=DATA,
    ),
]

Retune = Annotated[
    float,
    typer.Option(
        help="Play each training mixture's sources faster or slower together, by up to +- this many "
        "semitones (pitch and tempo move together, as a tape's): more players from few real recordings "
        "(0 = off).",
        metavar="SEMITONES",
        rich_help_panel=DATA,
    ),
]

Trunk = Annotated[
    Backbone,
    typer.Option(help="Visual trunk: resnet18 or efficientnet_lite0.", metavar="TRUNK", rich_help_panel=MODEL),
]


Augment = Annotated[
    str,
    typer.Option(
        help="Soundtrack chain on the mixtures: comma list of rooms,mic,noise,codec; all; none.",
        metavar="STEPS",
        rich_help_panel=DATA,
    ),
]


Amp = Annotated[
    bool,
    typer.Option(
        "--amp/--no-amp",
        help="bfloat16 autocast for the network (faster on bf16 CPUs and GPUs).",
        rich_help_panel=OPTIMISER,
    ),
]


Learn = Annotated[
    str,
    typer.Option(
        help="Which weights learn: all, or other (only the 'other' column of a --guide label-other "
        "network: the 11 classes stay exactly as --init made them).",
        metavar="all|other",
        rich_help_panel=OPTIMISER,
    ),
]


Init = Annotated[
    Optional[Path],
    typer.Option(
        help="Start from this model file's weights (e.g. the bundled model) with a fresh optimizer.",
        metavar="FILE",
        rich_help_panel=MODEL,
    ),
]


def opt(help: str, panel: str | None = None) -> typer.models.OptionInfo:
    """A ``typer.Option`` with its help and its panel of ``avsep train --help``."""
    return typer.Option(help=help, rich_help_panel=panel)
