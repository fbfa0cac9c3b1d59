"""Typer commands for training and evaluation, mounted on the main CLI by ``register(app)``.

Heavy imports (torch, mir_eval, the pipeline) happen inside the commands, so registering them
costs nothing at ``avsep --help``. Every :class:`~avsep.errors.AvsepError` is printed as one
line on stderr with its exit code (``--debug`` adds the traceback); this module does not
import :mod:`avsep.cli.app` (training code never does).
"""

from __future__ import annotations

import dataclasses
import json
import shlex
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from avsep.cli.help_text import TRAINING_PANEL, AvsepCommand
from avsep.cli.reporting import DebugOption, one_line_errors
from avsep.errors import InputError
from avsep.options import (
    DEFAULT_MASK,
    DEFAULT_SAME_INSTRUMENT,
    MASK_HELP,
    REAL_SETS,
    SAME_INSTRUMENT_HELP,
    Mask,
    SameInstrument,
)
from avsep.train.config import ARCHS, DEFAULTS, SCHEDULES, TrainConfig
from avsep.train.extra import training_extra

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


def _parse_counts(option: str, text: str, example: str = "2,3") -> tuple[int, ...]:
    """A comma list of positive integers (``""`` is the empty tuple)."""
    try:
        values = tuple(int(v) for v in text.replace(" ", "").split(",") if v)
    except ValueError:
        raise InputError(f"{option} {text!r}: give comma-separated integers, e.g. {example}") from None
    if values and min(values) < 1:
        raise InputError(f"{option} {text!r}: give positive comma-separated integers, e.g. {example}")
    return values


def _parse_channels(text: str) -> tuple[int, ...]:
    values = _parse_counts("--channels", text, "16,32,64,128,128,128,128")
    if len(values) != 7:
        raise InputError(f"--channels {text!r}: give 7 positive comma-separated integers")
    return values


def _silence_warnings() -> None:
    """The untrained-trunk warning is part of the report; torch's UserWarnings are noise here."""
    import warnings

    warnings.filterwarnings("ignore", category=FutureWarning)


# -- train ---------------------------------------------------------------------------------

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
        "--val", help="Validation index CSV (default: val.csv beside train.csv).", metavar="CSV", rich_help_panel=DATA
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
        help="Visual guide: features (pooled conv map), posterior (ImageNet music classes), both, or label (oracle).",
        metavar="GUIDE",
        rich_help_panel=MODEL,
    ),
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
Init = Annotated[
    Optional[Path],
    typer.Option(
        help="Start from this model file's weights (e.g. the bundled model) with a fresh optimizer.",
        metavar="FILE",
        rich_help_panel=MODEL,
    ),
]


def _opt(help: str, panel: str | None = None) -> typer.models.OptionInfo:
    return typer.Option(help=help, rich_help_panel=panel)


def train_command(
    index: Index = None,
    out: RunOut = None,
    val_index: ValIndex = None,
    arch: ArchOption = Arch(DEFAULTS.arch),
    channels: Channels = ",".join(map(str, DEFAULTS.channels)),
    cycles: Annotated[int, _opt("PCN recurrent cycles.", MODEL)] = DEFAULTS.cycles,
    ngf: Annotated[int, _opt("SoP U-Net base width.", MODEL)] = DEFAULTS.ngf,
    backbone: Annotated[
        Backbone,
        typer.Option(help="Visual trunk: resnet18 or efficientnet_lite0.", metavar="TRUNK", rich_help_panel=MODEL),
    ] = Backbone(DEFAULTS.backbone),
    backbone_weights: Annotated[
        Optional[Path], _opt("Trunk weights file (resnet18: torchvision's ImageNet file).", MODEL)
    ] = DEFAULTS.backbone_weights,
    features: Annotated[Optional[Path], _opt("Feature cache from 'avsep features' (fast CPU training).", DATA)] = None,
    freeze_visual: FreezeVisual = not DEFAULTS.finetune_visual,
    visual_lr_scale: Annotated[
        float, _opt("Trunk learning rate as a fraction of --lr when fine-tuning.", FINETUNE)
    ] = DEFAULTS.visual_lr_scale,
    batch_size: Annotated[int, _opt("Mixtures per step.", OPTIMISER)] = DEFAULTS.batch_size,
    steps: Annotated[Optional[int], _opt("Training steps (or give --epochs).", OPTIMISER)] = DEFAULTS.steps,
    epochs: Annotated[Optional[int], _opt("Epochs over the index (or give --steps).", OPTIMISER)] = DEFAULTS.epochs,
    lr: Annotated[float, _opt("AdamW learning rate.", OPTIMISER)] = DEFAULTS.lr,
    weight_decay: Annotated[float, _opt("AdamW weight decay.", OPTIMISER)] = DEFAULTS.weight_decay,
    schedule: Annotated[Schedule, _opt("LR schedule after warm-up.", OPTIMISER)] = Schedule(DEFAULTS.schedule),
    warmup: Annotated[Optional[int], _opt("Warm-up steps (default min(500, 5%)).", OPTIMISER)] = DEFAULTS.warmup,
    grad_clip: Annotated[float, _opt("Gradient norm clip (0 = off).", OPTIMISER)] = DEFAULTS.grad_clip or 0.0,
    num_mix: Annotated[int, _opt("Sources per training and validation mixture.", DATA)] = DEFAULTS.num_mix,
    mix_sizes: Annotated[
        str, _opt("Sources per training mixture, drawn per step from these (e.g. 2,3); default --num-mix.", DATA)
    ] = ",".join(map(str, DEFAULTS.mix_sizes)),
    gain_db: Annotated[float, _opt("Random source gain range, +- dB.", DATA)] = DEFAULTS.gain_db,
    guide: Guide = DEFAULTS.guide,
    augment: Augment = ",".join(DEFAULTS.augment) or "none",
    crop_samples: Annotated[
        int, _opt("Samples per training item (32767..65535; validation uses 65535).", DATA)
    ] = DEFAULTS.crop_samples,
    amp: Amp = DEFAULTS.amp,
    fps: Annotated[
        Optional[float], _opt("Frame rate of the index's frames (default: meta.json, else 8).", DATA)
    ] = DEFAULTS.fps,
    seed: Annotated[int, _opt("Seed of the initialisation and the data.", OPTIMISER)] = DEFAULTS.seed,
    val_mixtures: Annotated[int, _opt("Fixed validation mixtures.", RUN)] = DEFAULTS.val_mixtures,
    val_every: Annotated[
        Optional[int], _opt("Validate every K steps (default: every epoch).", RUN)
    ] = DEFAULTS.val_every,
    checkpoint_every: Annotated[int, _opt("Write last.pt every K steps.", RUN)] = DEFAULTS.checkpoint_every,
    keep_every: Annotated[
        Optional[int], _opt("Also keep stepN.pt every K steps (to choose or average later).", RUN)
    ] = DEFAULTS.keep_every,
    log_every: Annotated[int, _opt("Log the mean loss every K steps.", RUN)] = DEFAULTS.log_every,
    stop_after: Annotated[
        Optional[int], _opt("Stop this invocation after K steps (resume later).", RUN)
    ] = DEFAULTS.stop_after,
    resume: Annotated[Optional[Path], _opt("Continue a run exactly from its last.pt.", RUN)] = None,
    init: Init = None,
    device: DEVICE = DEFAULTS.device,
    workers: Annotated[int, _opt("Data-loading worker processes.", MACHINE)] = DEFAULTS.workers,
    threads: Annotated[Optional[int], _opt("Torch CPU threads (default: torch's choice).", MACHINE)] = DEFAULTS.threads,
    quiet: QUIET = not DEFAULTS.progress,
    debug: DEBUG = False,
) -> None:
    """Train a mask network by mix-and-separate on a MUSIC-layout index."""
    with one_line_errors(debug), training_extra("avsep train"):
        _silence_warnings()
        from avsep.train.loop import train

        summary = train(_config_from_options(locals()))
        best = summary.get("best_val_sdr")
        best_txt = f", best val SDR {best:.2f} dB at step {summary['best_step']}" if best is not None else ""
        typer.echo(
            f"trained {summary['steps']} steps ({summary['steps_per_s']} steps/s){best_txt}; "
            f"checkpoints: {summary['last']}" + (f", {summary['best']}" if summary.get("best") else "")
        )


def _config_from_options(options: dict[str, object]) -> TrainConfig:
    """The command line over :data:`~avsep.train.config.DEFAULTS`: every option named as a
    config field sets it (paths as text, choices as their value); the few whose form differs
    (a comma list, a flag that says the opposite, 0 for off) are converted here."""
    from avsep.train.augment import parse_steps

    fields = {f.name for f in dataclasses.fields(TrainConfig)}
    values = {name: _plain(value) for name, value in options.items() if name in fields}
    values.update(
        channels=_parse_channels(options["channels"]),
        mix_sizes=_parse_counts("--mix-sizes", options["mix_sizes"]),
        finetune_visual=not options["freeze_visual"],
        grad_clip=options["grad_clip"] or None,
        augment=parse_steps(options["augment"]),
        progress=not options["quiet"],
        command="avsep " + " ".join(shlex.quote(a) for a in sys.argv[1:]),
    )
    return dataclasses.replace(DEFAULTS, **values)


def _plain(value: object) -> object:
    """An option's value as the config stores it: paths as text, choices as their value."""
    if isinstance(value, Path):
        return str(value)
    return value.value if isinstance(value, Enum) else value


# -- evaluate ------------------------------------------------------------------------------


def evaluate_command(
    model: Annotated[str, typer.Argument(help="Checkpoint path or bundled model name.")],
    index: Annotated[Path, typer.Option(help="Test index CSV (or a dataset folder: its test.csv).")],
    num_mixtures: Annotated[int, typer.Option(help="Test mixtures (fixed by --seed).")] = 250,
    num_mix: Annotated[int, typer.Option(help="Sources per mixture.")] = 2,
    seed: Annotated[int, typer.Option(help="Seed of the test mixtures (same for every model).")] = 0,
    mask: Annotated[Mask, typer.Option(help=MASK_HELP)] = DEFAULT_MASK,
    oracle_labels: Annotated[
        bool,
        typer.Option("--oracle-labels", help="Give a --guide label model the true classes, not what the pictures say."),
    ] = False,
    json_path: Annotated[Optional[Path], typer.Option("--json", help="Write the full report here.")] = None,
    oracle_grid: Annotated[
        OracleGrid, typer.Option(help="Oracle IBM on the linear STFT or the model's warped grid.")
    ] = OracleGrid.linear,
    backbone_weights: Annotated[Optional[Path], typer.Option(help="Trunk weights file (as for separate).")] = None,
    fps: Annotated[Optional[float], typer.Option(help="Frame rate of the index's frames.")] = None,
    batch_size: Annotated[int, typer.Option(help="Mixtures per forward pass.")] = 4,
    device: DEVICE = "auto",
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    debug: DEBUG = False,
) -> None:
    """SDR/SIR/SAR of a model on fixed test mixtures, with the oracle IBM and the mixture."""
    with one_line_errors(debug), training_extra("avsep evaluate"):
        _silence_warnings()
        from avsep.train.evaluate import evaluate

        evaluate(
            model,
            index,
            num_mixtures=num_mixtures,
            num_mix=num_mix,
            seed=seed,
            mask=mask.value,
            oracle=oracle_labels,
            device=device,
            batch_size=batch_size,
            backbone_weights=backbone_weights,
            fps=fps,
            oracle_grid=oracle_grid.value,
            json_path=json_path,
            progress=not quiet,
        )


def evaluate_real_command(
    model: Annotated[str, typer.Argument(help="Checkpoint path or bundled model name.")],
    realclips: Annotated[Optional[Path], typer.Option(help="Real clips folder (default ../shared/realclips).")] = None,
    sets: Annotated[
        str,
        typer.Option(
            help="Comma-separated, of " + ", ".join(REAL_SETS) + " (default: all).", metavar="SETS", show_default=False
        ),
    ] = ",".join(REAL_SETS),
    pairs: Annotated[int, typer.Option(help="music-solo duets to make.")] = 20,
    seconds: Annotated[float, typer.Option(help="Duet segment length.")] = 6.0,
    seed: Annotated[int, typer.Option(help="Seed of the duets.")] = 0,
    mask: Annotated[Mask, typer.Option(help=MASK_HELP)] = DEFAULT_MASK,
    same_instrument: Annotated[SameInstrument, typer.Option(help=SAME_INSTRUMENT_HELP)] = DEFAULT_SAME_INSTRUMENT,
    oracle_labels: Annotated[
        bool,
        typer.Option(
            "--oracle-labels",
            help="Give a --guide label model the true classes (duets, clipsep-demo; FCSN is skipped).",
        ),
    ] = False,
    json_path: Annotated[Optional[Path], typer.Option("--json", help="Write the full report here.")] = None,
    backbone_weights: Annotated[Optional[Path], typer.Option(help="Trunk weights file.")] = None,
    batch_size: Annotated[int, typer.Option(help="Windows per forward pass.")] = 4,
    device: DEVICE = "auto",
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    debug: DEBUG = False,
) -> None:
    """Score a model on real recordings: FCSN mixtures, CLIPSep demos, music-solo duets."""
    with one_line_errors(debug), training_extra("avsep evaluate-real"):
        _silence_warnings()
        from avsep.train.evaluate import evaluate_real

        if pairs < 1 or seconds <= 0:
            raise InputError("--pairs must be at least 1 and --seconds positive")
        evaluate_real(
            model,
            realclips,
            sets=[s.strip() for s in sets.split(",") if s.strip()],
            num_pairs=pairs,
            segment_seconds=seconds,
            seed=seed,
            mask=mask.value,
            same_instrument=same_instrument.value,
            oracle=oracle_labels,
            device=device,
            batch_size=batch_size,
            backbone_weights=backbone_weights,
            json_path=json_path,
            progress=not quiet,
        )


# -- features ------------------------------------------------------------------------------


def features_command(
    index: Annotated[list[Path], typer.Argument(help="Index CSVs, or a dataset folder (its train/val/test.csv).")],
    out: Annotated[
        Optional[Path],
        typer.Option(
            "--out", "-o", help="Cache file (default: features-TRUNK.pt beside the first CSV).", metavar="FILE"
        ),
    ] = None,
    backbone: Annotated[
        Backbone, typer.Option(help="Visual trunk: resnet18 or efficientnet_lite0.", metavar="TRUNK")
    ] = Backbone.efficientnet_lite0,
    backbone_weights: Annotated[Optional[Path], typer.Option(help="Trunk weights file.")] = None,
    batch_size: Annotated[int, typer.Option(help="Frames per trunk forward.")] = 32,
    fps: Annotated[Optional[float], typer.Option(help="Frame rate (only checked for consistency).")] = None,
    device: DEVICE = "auto",
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    debug: DEBUG = False,
) -> None:
    """Precompute the frozen trunk's per-frame features (makes CPU training feasible)."""
    with one_line_errors(debug), training_extra("avsep features"):
        _silence_warnings()
        from avsep.train.features import build_feature_cache

        csvs: list[Path] = []
        for p in index:
            if p.is_dir():
                found = [p / f"{s}.csv" for s in ("train", "val", "test") if (p / f"{s}.csv").is_file()]
                if not found:
                    raise InputError(f"{p}: no train.csv, val.csv or test.csv in this folder")
                csvs.extend(found)
            else:
                csvs.append(p)
        if batch_size < 1:
            raise InputError(f"--batch-size must be at least 1, got {batch_size}")
        target = out or (csvs[0].parent / f"features-{backbone.value}.pt")
        result = build_feature_cache(
            csvs,
            backbone.value,
            target,
            weights=backbone_weights,
            device=device,
            batch_size=batch_size,
            fps=fps,
            progress=not quiet,
        )
        typer.echo(
            f"{result['frames']} frames of {result['clips']} clips -> {result['path']} "
            f"({result['bytes'] / 1e6:.1f} MB, {result['ms_per_frame']} ms/frame)"
        )


def bundle_command(
    checkpoint: Annotated[Path, typer.Argument(help="Training checkpoint (e.g. runs/pcn/best.pt).")],
    name: Annotated[str, typer.Option(help="Model name; the default model is avsep-pcn.")] = "avsep-pcn",
    weights_dir: Annotated[
        Optional[Path], typer.Option(help="Where to write (default: the bundled weights folder).")
    ] = None,
    evaluation: Annotated[
        Optional[list[str]],
        typer.Option(help="TABLE=report.json from evaluate/evaluate-real, embedded in the card; repeatable."),
    ] = None,
    notes: Annotated[
        Optional[Path], typer.Option(help="JSON object of extra card fields (intended use, limitations, data recipe).")
    ] = None,
    debug: DEBUG = False,
) -> None:
    """Ship a checkpoint: weights/<name>-<sha8>.pt (inference-only) plus its model card."""
    with one_line_errors(debug):
        from avsep.models.weights import weights_dir as default_dir
        from avsep.train.bundle import bundle

        reports = {}
        for item in evaluation or []:
            table, sep, path = item.partition("=")
            if not sep:
                raise InputError(f"--evaluation {item!r}: write TABLE=path/to/report.json")
            reports[table] = Path(path)
        extra = None
        if notes is not None:
            try:
                extra = json.loads(notes.read_text())
            except (OSError, json.JSONDecodeError) as exc:
                raise InputError(f"{notes}: cannot read card notes ({exc})") from None
        model, card = bundle(checkpoint, weights_dir or default_dir(), name, evaluations=reports, notes=extra)
        typer.echo(f"wrote {model} and {card}")


def train_guide_command(
    photos: Annotated[Path, typer.Option(help="Photo tree <source>/<class>/<file> (../shared/datasets/photos).")],
    cache: Annotated[Path, typer.Option(help="Feature cache (made once, resumed).")] = Path(
        "runs/guide-head/features.pt"
    ),
    weights_dir: Annotated[
        Optional[Path], typer.Option(help="Where to write the head (default: the bundled weights folder).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seeds the renderings and the training.")] = 0,
    hidden: Annotated[int, typer.Option(help="Hidden units (0: a linear head).")] = 256,
    epochs: Annotated[int, typer.Option(help="Full-batch epochs (the best on val is kept).")] = 100,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    debug: DEBUG = False,
) -> None:
    """Train the guide head that names the instrument in a box (avsep.models.guide_head)."""
    with one_line_errors(debug), training_extra("avsep train-guide"):
        _silence_warnings()
        from avsep.models.weights import weights_dir as default_dir
        from avsep.train.guide_head import train_guide

        if epochs < 10 or hidden < 0:
            raise InputError("--epochs must be at least 10 and --hidden at least 0")
        path, report = train_guide(
            photos,
            cache,
            weights_dir or default_dir(),
            seed=seed,
            hidden=hidden,
            epochs=epochs,
            progress=not quiet,
            command="avsep " + " ".join(shlex.quote(a) for a in sys.argv[1:]),
        )
        typer.echo(f"wrote {path}; held-out photos, share named right (ImageNet classes -> head):")
        for cls, acc in report["head"]["accuracy"].items():
            typer.echo(f"  {cls:<16} {report['imagenet']['accuracy'][cls]:6.1%} -> {acc:6.1%}")


def register(app: typer.Typer) -> None:
    """Add ``train``, ``evaluate``, ``evaluate-real``, ``features``, ``bundle`` and
    ``train-guide`` to ``app``."""
    panel = {"cls": AvsepCommand, "rich_help_panel": TRAINING_PANEL}  # listed apart in avsep --help
    app.command("train", no_args_is_help=False, **panel)(train_command)
    app.command("features", **panel)(features_command)
    app.command("evaluate", **panel)(evaluate_command)
    app.command("evaluate-real", **panel)(evaluate_real_command)
    app.command("train-guide", **panel)(train_guide_command)
    app.command("bundle", **panel)(bundle_command)
