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

from avsep.cli.evaluate import evaluate_command, evaluate_real_command, evaluate_stems_command
from avsep.cli.help_text import TRAINING_PANEL, AvsepCommand
from avsep.cli.reporting import one_line_errors
from avsep.cli.train_options import (
    DATA,
    DEBUG,
    DEVICE,
    FINETUNE,
    MACHINE,
    MODEL,
    OPTIMISER,
    QUIET,
    RUN,
    Amp,
    Arch,
    ArchOption,
    Augment,
    Backbone,
    Channels,
    ClassWeights,
    Coherent,
    FreezeVisual,
    Guide,
    GuideSoften,
    Index,
    Init,
    Learn,
    Outside,
    Retune,
    RunOut,
    Schedule,
    SharedLoss,
    Trunk,
    ValIndex,
    opt,
    parse_channels,
    parse_counts,
    silence_warnings,
)
from avsep.errors import InputError
from avsep.train.config import DEFAULTS, TrainConfig
from avsep.train.extra import training_extra

# -- train ---------------------------------------------------------------------------------


def train_command(
    index: Index = None,
    out: RunOut = None,
    val_index: ValIndex = None,
    arch: ArchOption = Arch(DEFAULTS.arch),
    channels: Channels = ",".join(map(str, DEFAULTS.channels)),
    cycles: Annotated[int, opt("PCN recurrent cycles.", MODEL)] = DEFAULTS.cycles,
    ngf: Annotated[int, opt("SoP U-Net base width.", MODEL)] = DEFAULTS.ngf,
    backbone: Trunk = Backbone(DEFAULTS.backbone),
    backbone_weights: Annotated[
        Optional[Path], opt("Trunk weights file (resnet18: torchvision's ImageNet file).", MODEL)
    ] = DEFAULTS.backbone_weights,
    features: Annotated[Optional[Path], opt("Feature cache from 'avsep features' (fast CPU training).", DATA)] = None,
    freeze_visual: FreezeVisual = not DEFAULTS.finetune_visual,
    visual_lr_scale: Annotated[
        float, opt("Trunk learning rate as a fraction of --lr when fine-tuning.", FINETUNE)
    ] = DEFAULTS.visual_lr_scale,
    learn: Learn = DEFAULTS.learn,
    batch_size: Annotated[int, opt("Mixtures per step.", OPTIMISER)] = DEFAULTS.batch_size,
    steps: Annotated[Optional[int], opt("Training steps (or give --epochs).", OPTIMISER)] = DEFAULTS.steps,
    epochs: Annotated[Optional[int], opt("Epochs over the index (or give --steps).", OPTIMISER)] = DEFAULTS.epochs,
    lr: Annotated[float, opt("AdamW learning rate.", OPTIMISER)] = DEFAULTS.lr,
    weight_decay: Annotated[float, opt("AdamW weight decay.", OPTIMISER)] = DEFAULTS.weight_decay,
    schedule: Annotated[Schedule, opt("LR schedule after warm-up.", OPTIMISER)] = Schedule(DEFAULTS.schedule),
    warmup: Annotated[Optional[int], opt("Warm-up steps (default min(500, 5%)).", OPTIMISER)] = DEFAULTS.warmup,
    grad_clip: Annotated[float, opt("Gradient norm clip (0 = off).", OPTIMISER)] = DEFAULTS.grad_clip or 0.0,
    num_mix: Annotated[int, opt("Sources per training and validation mixture.", DATA)] = DEFAULTS.num_mix,
    mix_sizes: Annotated[
        str,
        opt("Sources per training mixture, drawn per step from these (e.g. 2,3); default --num-mix.", DATA),
    ] = ",".join(map(str, DEFAULTS.mix_sizes)),
    gain_db: Annotated[float, opt("Random source gain range, +- dB.", DATA)] = DEFAULTS.gain_db,
    shared_loss: SharedLoss = DEFAULTS.shared_loss,
    class_weights: ClassWeights = DEFAULTS.class_weights,
    guide: Guide = DEFAULTS.guide,
    guide_soften: GuideSoften = DEFAULTS.guide_soften,
    coherent: Coherent = DEFAULTS.coherent,
    outside: Outside = DEFAULTS.outside,
    retune: Retune = DEFAULTS.retune,
    augment: Augment = ",".join(DEFAULTS.augment) or "none",
    crop_samples: Annotated[
        int, opt("Samples per training item (32767..65535; validation uses 65535).", DATA)
    ] = DEFAULTS.crop_samples,
    amp: Amp = DEFAULTS.amp,
    fps: Annotated[
        Optional[float], opt("Frame rate of the index's frames (default: meta.json, else 8).", DATA)
    ] = DEFAULTS.fps,
    seed: Annotated[int, opt("Seed of the initialisation and the data.", OPTIMISER)] = DEFAULTS.seed,
    val_mixtures: Annotated[int, opt("Fixed validation mixtures.", RUN)] = DEFAULTS.val_mixtures,
    val_every: Annotated[
        Optional[int], opt("Validate every K steps (default: every epoch).", RUN)
    ] = DEFAULTS.val_every,
    checkpoint_every: Annotated[int, opt("Write last.pt every K steps.", RUN)] = DEFAULTS.checkpoint_every,
    keep_every: Annotated[
        Optional[int], opt("Also keep stepN.pt every K steps (to choose or average later).", RUN)
    ] = DEFAULTS.keep_every,
    log_every: Annotated[int, opt("Log the mean loss every K steps.", RUN)] = DEFAULTS.log_every,
    stop_after: Annotated[
        Optional[int], opt("Stop this invocation after K steps (resume later).", RUN)
    ] = DEFAULTS.stop_after,
    resume: Annotated[Optional[Path], opt("Continue a run exactly from its last.pt.", RUN)] = None,
    init: Init = None,
    device: DEVICE = DEFAULTS.device,
    workers: Annotated[int, opt("Data-loading worker processes.", MACHINE)] = DEFAULTS.workers,
    threads: Annotated[Optional[int], opt("Torch CPU threads (default: torch's choice).", MACHINE)] = DEFAULTS.threads,
    quiet: QUIET = not DEFAULTS.progress,
    debug: DEBUG = False,
) -> None:
    """Train a mask network by mix-and-separate on a MUSIC-layout index."""
    with one_line_errors(debug), training_extra("avsep train"):
        silence_warnings()
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
        channels=parse_channels(options["channels"]),
        mix_sizes=parse_counts("--mix-sizes", options["mix_sizes"]),
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
        silence_warnings()
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


def average_command(
    models: Annotated[list[Path], typer.Argument(help="Checkpoints of one network (e.g. RUN/step*.pt).")],
    out: Annotated[Path, typer.Option("-o", "--out", help="Where to write the averaged model.")],
    debug: DEBUG = False,
) -> None:
    """Average the weights of checkpoints of one network (no training; score it like any model)."""
    with one_line_errors(debug), training_extra("avsep average"):
        from avsep.train.average import average_checkpoints

        digest = average_checkpoints(models, out)
        typer.echo(f"wrote {out} (mean of {len(models)} checkpoints, sha256 {digest[:12]})")


def guide_gain_command(
    model: Annotated[Path, typer.Argument(help="A PCN model file (e.g. weights/avsep-pcn-*.pt).")],
    gain: Annotated[
        float, typer.Option(help="What the guides of competing boxes are multiplied by (times any gain the file has).")
    ],
    out: Annotated[Path, typer.Option("-o", "--out", help="Where to write the new model.")],
    debug: DEBUG = False,
) -> None:
    """Make the guide louder where boxes compete: the model file with a guide gain (no training)."""
    with one_line_errors(debug), training_extra("avsep guide-gain"):
        from avsep.train.guide_gain import gain_guide

        digest, total = gain_guide(model, gain, out)
        typer.echo(f"wrote {out} (guide gain {total:g}, sha256 {digest[:12]})")


def bundle_command(
    checkpoint: Annotated[Path, typer.Argument(help="Training checkpoint (e.g. runs/pcn/best.pt).")],
    name: Annotated[str, typer.Option(help="Model name; the default model is avsep-pcn.")] = "avsep-pcn",
    weights_dir: Annotated[
        Optional[Path], typer.Option(help="Where to write (default: the bundled weights folder).")
    ] = None,
    evaluation: Annotated[
        Optional[list[str]],
        typer.Option(
            help="TABLE=report.json from evaluate, evaluate-real or evaluate-stems, embedded in the card; repeatable."
        ),
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
    epochs: Annotated[
        int, typer.Option(help="Epochs, the best on val kept (default: 100 full-batch; with --tail, 12).")
    ] = 0,
    tail: Annotated[
        bool, typer.Option("--tail", help="Fine-tune a copy of the trunk's last stage with the head.")
    ] = False,
    renderings: Annotated[
        int, typer.Option(help="Renderings of each training picture in the cache (more to learn from).")
    ] = 1,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    debug: DEBUG = False,
) -> None:
    """Train the guide head that names the instrument in a box (avsep.models.guide_head)."""
    with one_line_errors(debug), training_extra("avsep train-guide"):
        silence_warnings()
        from avsep.models.weights import weights_dir as default_dir
        from avsep.train.guide_head import train_guide, train_head
        from avsep.train.guide_tail import train_tail

        epochs = epochs or (12 if tail else 100)
        if epochs < (1 if tail else 10) or hidden < 0 or renderings < 1:
            raise InputError(
                "--epochs must be at least 10 (1 with --tail), --hidden at least 0 and --renderings at least 1"
            )
        path, report = train_guide(
            photos,
            cache,
            weights_dir or default_dir(),
            seed=seed,
            hidden=hidden,
            epochs=epochs,
            progress=not quiet,
            command="avsep " + " ".join(shlex.quote(a) for a in sys.argv[1:]),
            trainer=train_tail if tail else train_head,
            renderings=renderings,
        )
        typer.echo(f"wrote {path}; held-out photos, share named right (ImageNet classes -> head):")
        for cls, acc in report["head"]["accuracy"].items():
            typer.echo(f"  {cls:<16} {report['imagenet']['accuracy'][cls]:6.1%} -> {acc:6.1%}")


def register(app: typer.Typer) -> None:
    """Add the training-side commands to ``app``, in their own panel of ``avsep --help``."""
    panel = {"cls": AvsepCommand, "rich_help_panel": TRAINING_PANEL}  # listed apart in avsep --help
    app.command("train", no_args_is_help=False, **panel)(train_command)
    app.command("features", **panel)(features_command)
    app.command("evaluate", **panel)(evaluate_command)
    app.command("evaluate-real", **panel)(evaluate_real_command)
    app.command("train-guide", **panel)(train_guide_command)
    app.command("bundle", **panel)(bundle_command)
    app.command("evaluate-stems", **panel)(evaluate_stems_command)
    app.command("average", **panel)(average_command)
    app.command("guide-gain", **panel)(guide_gain_command)
