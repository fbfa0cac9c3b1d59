"""Mix-and-separate training (Sound of Pixels recipe) for the PCN and the SoP baseline: the run.

One step: ``num_mix`` solos of different classes are summed into a mixture and the network
learns to mask each one out of it (:mod:`avsep.train.loss`); :class:`TrainConfig`
(:mod:`avsep.train.config`) says everything a run depends on. :func:`setup` builds data, model,
trunk and optimizer and restores a resume; :class:`Trainer` runs the steps, validation, saving
and the summary.

Determinism and resume: data item ``(epoch, i)`` is a pure function of ``(seed, epoch, i)``
(:mod:`avsep.train.data`), step ``s`` always sees the same batch
(:class:`~avsep.train.steps.StepSampler`), the learning rate is a pure function of the step, and
checkpoints carry the optimizer state, the step and the RNG states: ``--resume RUN/last.pt``
continues exactly where the run stopped.

Validation: a fixed set of ``val_mixtures`` mixtures of the validation index (seed
``val_seed``, no random gain; the same for every run and model), scored with
:func:`avsep.train.metrics.fast_sdr` (plain SDR, not BSS Eval: see metrics.py). ``best.pt`` is
the checkpoint with the highest mean validation SDR; ``avsep evaluate`` gives BSS Eval numbers.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import torch
from torch import nn

from avsep.errors import InputError, check_one_of
from avsep.models.device import select_device
from avsep.models.guide import LABEL_OTHER, check_guide, guide_dim, is_label, labels_of
from avsep.models.pcn import PCNConfig
from avsep.models.serialize import Checkpoint, build_model, load_checkpoint, widened_to_other
from avsep.models.sop import SoPConfig
from avsep.models.trunk_files import file_sha256
from avsep.models.visual import TRUNKS, build_trunk
from avsep.signal import dsp
from avsep.train.augment import Soundtrack, parse_steps
from avsep.train.config import ARCHS, LEARN, SCHEDULES, TrainConfig, merge_resume
from avsep.train.data import MixDataset
from avsep.train.eval import stems
from avsep.train.features import FeatureCache
from avsep.train.index import Index, read_index, resolve_split
from avsep.train.loss import class_weight_vector
from avsep.train.steps import steps_per_epoch
from avsep.train.trainer import RunData, Trainer


def build_network(config: TrainConfig, visual_dim: int) -> nn.Module:
    if config.arch == "pcn":
        cfg = PCNConfig(visual_dim=visual_dim, channels=tuple(config.channels), cycles=config.cycles)
        return build_model("pcn", cfg.to_dict())

    return build_model("sop", SoPConfig(visual_dim=visual_dim, ngf=config.ngf).to_dict())


# -- helpers -------------------------------------------------------------------------------


# -- the run -------------------------------------------------------------------------------


def train(config: TrainConfig) -> dict[str, Any]:
    """Train a mask network; returns the run summary (also written to ``OUT/summary.json``)."""
    return setup(config).run()


# -- setup: everything a run needs, built once ---------------------------------------------


def setup(config: TrainConfig) -> Trainer:
    """Build a run from its config: resume state, data, model, trunk, optimizer.

    With ``config.resume`` the run's own config (:data:`LOCKED` fields) and state come from the
    checkpoint; everything is checked before the first step, so a bad argument fails at once.
    """

    notes: list[str] = []
    resume_ck = None
    if config.resume:
        resume_ck = load_checkpoint(config.resume)
        stored = resume_ck.extra.get("config")
        if not isinstance(stored, dict) or "step" not in resume_ck.extra:
            raise InputError(
                f"{config.resume}: not a training checkpoint (no optimizer state); resume from RUN/last.pt"
            )
        config = merge_resume(config, stored, notes)
        if config.out is None:
            config = dataclasses.replace(config, out=str(Path(config.resume).parent))
    _check_config(config)
    out = Path(config.out or "runs/avsep")
    out.mkdir(parents=True, exist_ok=True)
    device = select_device(config.device)
    if config.threads:
        torch.set_num_threads(config.threads)
    console = _console(config.progress)
    init_ck = load_checkpoint(config.init) if config.init and not config.resume else None
    if init_ck is not None and (gain := init_ck.guide_gain) != 1.0:
        notes.append(
            f"--init {config.init}: its guide gain ({gain:g}) was chosen for its own weights and is not carried "
            "over; this run's checkpoints have none (choose one on real-stems val: avsep guide-gain)"
        )
    for note in notes:
        console.print(f"[yellow]note:[/] {note}")
    data = _data(config, console)
    model, trunk = _networks(config, data.cache, resume_ck, init_ck, device)
    groups = _param_groups(config, model)
    if trunk is not None and config.finetune_visual:
        groups.append({"params": list(trunk.parameters()), "lr_scale": config.visual_lr_scale})
    optimizer = torch.optim.AdamW(groups, lr=config.lr, weight_decay=config.weight_decay)
    trainer = Trainer(config, out, device, console, data, model, trunk, optimizer)
    if resume_ck is not None:
        trainer.restore(resume_ck.extra)
    return trainer


def _data(config: TrainConfig, console) -> RunData:
    train_csv = resolve_split(config.index, "train")
    real_stems = config.val_index == stems.VAL_NAME
    if real_stems and not is_label(config.guide):
        raise InputError(f"--val {stems.VAL_NAME} guides each part by its class: it needs --guide label")
    val_csv = Path(config.val_index) if config.val_index and not real_stems else None
    if val_csv is None and Path(config.index).is_dir() and (Path(config.index) / "val.csv").is_file():
        val_csv = Path(config.index) / "val.csv"
    train_index = read_index(train_csv, fps=config.fps)
    unknown = _unguided(train_index, train_csv, config, training=True)
    if unknown:
        console.print(f"[yellow]note:[/] {', '.join(unknown)}: no label guide; those clips play outside parts only")
    if config.coherent > 0 and not any(c.group for c in train_index.clips):
        raise InputError(
            f"{train_csv}: --coherent mixes ensembles' parts and this index has none (avsep data ensembles)"
        )
    cache = _feature_cache(config, console)
    soundtrack = Soundtrack(tuple(config.augment), seed=config.seed) if config.augment else None
    train_ds = MixDataset(
        train_index,
        max(config.mix_sizes or (config.num_mix,)),
        clip=config.crop_samples,
        seed=config.seed,
        feature_cache=cache,
        gain_db=config.gain_db,
        guide=config.guide,
        soundtrack=soundtrack,
        soften=config.guide_soften,
        coherent=config.coherent,
        outside=config.outside,
        outside_classes=unknown,
        retune=config.retune,
    )
    val_ds = None
    if val_csv is not None:
        val_index = read_index(val_csv, fps=config.fps)
        _unguided(val_index, val_csv, config, training=False)  # every validation part is guided
        val_ds = MixDataset(
            val_index,
            config.num_mix,
            seed=config.val_seed,
            feature_cache=cache,
            gain_db=0.0,
            length=config.val_mixtures,
            guide=config.guide,
            soundtrack=soundtrack,
        )
    per_epoch = steps_per_epoch(len(train_ds), config.batch_size)
    total = config.steps if config.steps is not None else config.epochs * per_epoch
    warmup = config.warmup if config.warmup is not None else min(500, total // 20)
    return RunData(
        train_csv,
        val_csv,
        train_index,
        cache,
        train_ds,
        val_ds,
        per_epoch,
        total,
        warmup,
        config.val_every or per_epoch,
        stems.val_batches(stems.default_stems(), "val", batch_size=config.batch_size, kind=config.guide)
        if real_stems
        else None,
    )


def _unguided(index: Index, csv: Path, config: TrainConfig, *, training: bool) -> list[str]:
    """The classes of ``index`` a label guide cannot name: refused unless they may play the
    unguided outside parts (the training index with ``--outside``), else returned."""
    unknown = sorted(set(index.classes) - set(labels_of(config.guide))) if is_label(config.guide) else []
    if unknown and not (training and config.outside > 0):
        hint = " (with --outside they play outside parts only)" if training else ""
        raise InputError(
            f"{csv}: no label guide for the class(es) {', '.join(unknown)}; --guide {config.guide} "
            f"knows {', '.join(labels_of(config.guide))}{hint}"
        )
    return unknown


def _feature_cache(config: TrainConfig, console):
    """The feature cache the run reads, checked against the backbone (None: no cache)."""
    if config.features and config.finetune_visual:
        console.print("[yellow]note:[/] --features ignored: --finetune-visual runs the trunk every step")
    if not config.features or config.finetune_visual or is_label(config.guide):
        return None

    cache = FeatureCache(config.features)
    if cache.trunk != config.backbone:
        raise InputError(
            f"{config.features}: features of {cache.trunk}, but --backbone is {config.backbone}; rebuild or match"
        )
    if config.backbone_weights and cache.weights_sha256 and Path(config.backbone_weights).is_file():
        if file_sha256(Path(config.backbone_weights)) != cache.weights_sha256:
            raise InputError(
                f"{config.features}: made with other {cache.trunk} weights than {config.backbone_weights}; "
                "rebuild the cache with these weights"
            )
    return cache


def _networks(
    config: TrainConfig, cache, resume_ck, init_ck: Checkpoint | None, device: torch.device
) -> tuple[nn.Module, nn.Module | None]:
    """The mask network (fresh, ``init_ck``'s weights, or the resumed one) and the trunk when no
    cache stands in."""

    if resume_ck is not None:
        model = resume_ck.model
    else:
        torch.manual_seed(config.seed)
        model = build_network(config, guide_dim(config.guide, TRUNKS[config.backbone].feature_dim))
        if init_ck is not None:
            _load_init(model, init_ck, config.init, config.guide)
    model.to(device).train()
    trunk = None
    if cache is None and not is_label(config.guide):
        torch.manual_seed(config.seed + 1)  # an untrained trunk (tests) is the same on resume
        trunk = build_trunk(config.backbone, config.backbone_weights).to(device)
        if config.finetune_visual:
            if resume_ck is not None and "trunk" in resume_ck.extra:
                trunk.net.load_state_dict(resume_ck.extra["trunk"])
            for p in trunk.parameters():
                p.requires_grad_(True)
    return model, trunk


def _param_groups(config: TrainConfig, model: nn.Module) -> list[dict[str, Any]]:
    """The optimizer's groups. ``learn="other"``: only the ``other`` column of the guide
    projection learns; the other columns' gradients are zeroed and that group has no weight
    decay, so AdamW leaves them exactly as they were (its moments stay 0), and every other
    weight is frozen: guided by one of the 11, the network is the ``--init`` one, bit for bit."""
    if config.learn == "all":
        return [{"params": list(model.parameters()), "lr_scale": 1.0}]
    weight = model.visual.weight
    for p in model.parameters():
        p.requires_grad_(p is weight)
    only_other = torch.zeros_like(weight)
    only_other[:, -1] = 1.0
    weight.register_hook(lambda grad: grad * only_other)
    return [{"params": [weight], "lr_scale": 1.0, "weight_decay": 0.0}]


def _load_init(model: nn.Module, ck: Checkpoint, path: str, guide: str) -> None:
    """Copy model file ``path``'s weights (loaded as ``ck``) into the freshly built network; the
    run's architecture options must describe the same network, so a mismatch is an error rather
    than a partial load. A ``label`` model starts a ``label-other`` run widened
    (:func:`widened_to_other`)."""

    if ck.guide == "label" and guide == LABEL_OTHER:
        ck = widened_to_other(ck)
    source = ck.model.state_dict()
    mine = model.state_dict()
    if source.keys() != mine.keys() or any(source[k].shape != mine[k].shape for k in mine):
        raise InputError(
            f"--init {path}: its network differs from this run's (--arch, --channels, --cycles, --guide); "
            "give the options it was trained with"
        )
    model.load_state_dict(source)


# -- the run -------------------------------------------------------------------------------


def _check_config(config: TrainConfig) -> None:
    if not config.index:
        raise InputError("give the training index (a train.csv or a dataset folder), or --resume RUN/last.pt")
    check_one_of("--arch", config.arch, ARCHS)
    check_one_of("--backbone", config.backbone, sorted(TRUNKS))
    check_one_of("--schedule", config.schedule, SCHEDULES)
    check_one_of("--learn", config.learn, LEARN)
    if config.learn == "other" and (config.guide != LABEL_OTHER or config.finetune_visual):
        raise InputError("--learn other trains the 'other' column of a --guide label-other network (trunk frozen)")
    if (config.steps is None) == (config.epochs is None):
        raise InputError("give exactly one of --steps or --epochs")
    if (config.steps is not None and config.steps < 1) or (config.epochs is not None and config.epochs < 1):
        raise InputError("--steps / --epochs must be at least 1")
    if config.batch_size < 1:
        raise InputError(f"--batch-size must be at least 1, got {config.batch_size}")
    if config.arch == "pcn" and (len(config.channels) != 7 or min(config.channels) < 1):
        raise InputError(f"--channels needs 7 positive counts, got {list(config.channels)}")
    if config.cycles < 1:
        raise InputError(f"--cycles must be at least 1, got {config.cycles}")
    if config.lr <= 0:
        raise InputError(f"--lr must be positive, got {config.lr}")
    if config.checkpoint_every < 1 or config.log_every < 1 or (config.val_every is not None and config.val_every < 1):
        raise InputError("--checkpoint-every, --val-every and --log-every must be at least 1")
    if config.workers < 0:
        raise InputError(f"--workers must be >= 0, got {config.workers}")
    if config.mix_sizes and min(config.mix_sizes) < 1:
        raise InputError(f"--mix-sizes must be positive counts, got {list(config.mix_sizes)}")
    if not 0.0 <= config.retune <= 12.0:
        raise InputError(f"--retune is a range in semitones, 0 to 12, got {config.retune}")
    if config.shared_loss < 0:
        raise InputError(f"--shared-loss is a weight, 0 or more, got {config.shared_loss}")
    if not 0.0 <= config.guide_soften <= 1.0:
        raise InputError(f"--guide-soften is a share of the sources, 0 to 1, got {config.guide_soften}")
    for name, share in (("--coherent", config.coherent), ("--outside", config.outside)):
        if not 0.0 <= share <= 1.0:
            raise InputError(f"{name} is a share of the items, 0 to 1, got {share}")
    class_weight_vector(config.class_weights, config.guide)  # a one-line error if malformed
    if config.guide_soften > 0 and not is_label(config.guide):
        raise InputError("--guide-soften softens label guides; use --guide label or label-other")
    if config.keep_every is not None and config.keep_every < 1:
        raise InputError(f"--keep-every must be at least 1, got {config.keep_every}")
    check_guide(config.guide)
    parse_steps(list(config.augment))
    if config.finetune_visual and config.guide != "features":
        raise InputError("--finetune-visual trains the trunk through the features guide only; use --guide features")
    if config.crop_samples < 128 * 256 - 1 or config.crop_samples > dsp.WINDOW_SAMPLES:
        raise InputError(
            f"--crop-samples must be between {128 * 256 - 1} and {dsp.WINDOW_SAMPLES}, got {config.crop_samples}"
        )


def _console(enabled: bool):
    from rich.console import Console

    return Console(stderr=True, quiet=not enabled)
