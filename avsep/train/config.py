"""The one description of a training run: :class:`TrainConfig`, its defaults and its rules.

The defaults written here are the defaults of ``avsep train`` (:mod:`avsep.cli.train`
reads them for its options), of the Python API and of a resumed run; :data:`ARCHS` and
:data:`SCHEDULES` are the choices the command offers. On resume, :func:`merge_resume` decides
which fields come from the checkpoint (:data:`LOCKED`) and which from the command line
(:data:`CARRIED`). Imports nothing heavy: the command line reads it at ``avsep --help``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

ARCHS = ("pcn", "sop")
SCHEDULES = ("cosine", "step", "constant")
#: which weights a run trains: all of them, or only the ``other`` column of a ``label-other``
#: guide projection (the network then separates the 11 exactly as its ``--init`` did)
LEARN = ("all", "other")
#: Fields that define the run; on resume they come from the checkpoint, not the command line.
LOCKED = (
    "arch",
    "channels",
    "cycles",
    "ngf",
    "backbone",
    "backbone_weights",
    "finetune_visual",
    "visual_lr_scale",
    "learn",
    "batch_size",
    "lr",
    "weight_decay",
    "schedule",
    "warmup",
    "grad_clip",
    "amp",
    "num_mix",
    "mix_sizes",
    "gain_db",
    "retune",
    "shared_loss",
    "class_weights",
    "guide_soften",
    "coherent",
    "outside",
    "fps",
    "seed",
    "val_seed",
    "val_mixtures",
    "guide",
    "augment",
    "crop_samples",
    "init",
)

#: The command line's flag of a field whose name is not the flag's spelt with underscores.
FLAGS = {"class_weights": "--class-weight"}

#: Fields the command line may change on resume; left at their defaults, the run's values stay.
CARRIED = (
    "index",
    "val_index",
    "features",
    "val_every",
    "checkpoint_every",
    "keep_every",
    "log_every",
    "device",
    "workers",
    "threads",
)


@dataclass
class TrainConfig:
    """Everything a training run depends on (stored in its checkpoints)."""

    #: Training index CSV, or a dataset folder holding train.csv (and val.csv).
    index: str | None = None
    #: Validation index CSV; default: val.csv beside train.csv when ``index`` is a folder.
    val_index: str | None = None
    out: str | None = None
    arch: str = "pcn"
    #: PCNConfig's default (tests/train/test_loop.py checks they agree; this module imports no torch)
    channels: tuple[int, ...] = (16, 32, 64, 128, 128, 128, 128)
    cycles: int = 4
    ngf: int = 16
    backbone: str = "efficientnet_lite0"
    backbone_weights: str | None = None
    #: Feature cache from ``avsep features`` (frozen trunk); None = run the trunk every step.
    features: str | None = None
    finetune_visual: bool = False
    visual_lr_scale: float = 0.1
    #: which weights learn (:data:`LEARN`)
    learn: str = "all"
    batch_size: int = 8
    steps: int | None = None
    epochs: int | None = None
    lr: float = 1e-3
    weight_decay: float = 1e-4
    schedule: str = "cosine"
    #: Linear warm-up steps; None = min(500, 5 % of the run).
    warmup: int | None = None
    grad_clip: float | None = 5.0
    #: bfloat16 autocast for the network (benchmarks/bench_train_step.py: 1.5-2.4x on AMX CPUs).
    amp: bool = False
    num_mix: int = 2
    #: Sources per training mixture drawn per step from these sizes, e.g. (2, 3): a curriculum of
    #: duets and trios, as multi-source separation papers train, so a third box does not meet a
    #: mixture shape it never saw; empty = every step mixes ``num_mix`` (validation always does).
    mix_sizes: tuple[int, ...] = ()
    gain_db: float = 6.0
    #: each training item's sources played faster or slower together, by a factor uniform in
    #: +- this many semitones (pitch and tempo move as a tape's do: avsep.train.augment.retuned),
    #: so few real recordings give more players; 0 = each clip as recorded
    retune: float = 0.0
    #: weight of the loss on the ratio shares (:func:`avsep.train.loss.mask_loss`); 0 = the
    #: method's loss on each mask alone
    shared_loss: float = 0.0
    #: the loss of each source weighted by its class, ``name=weight`` pairs separated by commas
    #: (label guides only; a class not named weighs 1): the weak classes of the real sets can
    #: count for more than the classes it already separates well (issue 28); empty = all 1
    class_weights: str = ""
    #: share of training sources whose one-hot label guide is softened (the true class keeps
    #: 0.5..1, the rest spread at random over the other classes): separating, a box read by
    #: the guide head gets its soft posterior, never a one-hot; 0 = always the one-hot
    guide_soften: float = 0.0
    #: share of the items led by a clip of an ensemble (the index's group column,
    #: avsep.train.dataset.ensembles) that mix that ensemble's parts as they were played
    #: together; 0 = every mixture of unrelated clips, as Sound of Pixels trains
    coherent: float = 0.0
    #: share of the items with one more part that is neither guided nor a target (a clip of a
    #: class the label guide cannot name where the index has any, which then plays only such
    #: parts; else its ensemble's next part or an unrelated clip): at separation a box named
    #: ``other``, or no box, leaves an instrument to the residual, and the named masks must not
    #: take it; 0 = every part of a mixture is named, as Sound of Pixels trains
    outside: float = 0.0
    #: the guide the network is given (avsep.models.guide): features, posterior, both, label
    guide: str = "features"
    #: the soundtrack chain applied to training and validation mixtures (avsep.train.augment)
    augment: tuple[str, ...] = ()
    #: samples per training item (validation always uses whole 65535-sample windows)
    crop_samples: int = 65535  # dsp.WINDOW_SAMPLES (checked by the same test)
    fps: float | None = None
    seed: int = 0
    val_seed: int = 1234
    val_mixtures: int = 64
    #: Validate every K steps; None = once per epoch (and always at the end).
    val_every: int | None = None
    checkpoint_every: int = 500
    #: Also keep a copy of the checkpoint every K steps as ``stepN.pt`` (None = only last.pt):
    #: checkpoints chosen afterwards on another validation set, or averaged.
    keep_every: int | None = None
    log_every: int = 10
    #: Stop this invocation after so many steps (the schedule still spans ``steps``).
    stop_after: int | None = None
    resume: str | None = None
    #: Start the network from this model file's weights (a bundled model or a run's best.pt) with
    #: a fresh optimizer and schedule: continuing a model whose run folder is gone.
    init: str | None = None
    device: str = "auto"
    workers: int = 0
    threads: int | None = None
    progress: bool = True
    command: str | None = None

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["channels"] = list(self.channels)
        d["augment"] = list(self.augment)
        d["mix_sizes"] = list(self.mix_sizes)
        return d


#: The defaults, for the command line's options and for comparisons.
DEFAULTS = TrainConfig()


def merge_resume(config: TrainConfig, stored: dict[str, Any], notes: list[str]) -> TrainConfig:
    """The resumed run's config: LOCKED fields from the checkpoint; CARRIED ones from the
    command line where it sets them (differs from the default), else from the checkpoint;
    ``stop_after``, ``progress`` and ``command`` from the command line only."""

    def norm(v: Any) -> Any:
        return list(v) if isinstance(v, (list, tuple)) else v

    defaults = DEFAULTS.to_dict()
    values = config.to_dict()
    for name in LOCKED:
        # a run from before a field existed trained with its default
        mine, theirs = norm(values[name]), norm(stored.get(name, defaults[name]))
        if mine != theirs and mine != norm(defaults[name]):
            notes.append(
                f"{FLAGS.get(name, '--' + name.replace('_', '-'))} {mine} ignored: the resumed run uses {theirs}"
            )
        values[name] = theirs
    if config.steps is None and config.epochs is None:
        values["steps"], values["epochs"] = stored.get("steps"), stored.get("epochs")
    for name in CARRIED:
        if norm(values[name]) == norm(defaults[name]) and stored.get(name) is not None:
            values[name] = stored[name]
    values["channels"] = tuple(values["channels"])
    values["augment"] = tuple(values.get("augment") or ())
    values["mix_sizes"] = tuple(values.get("mix_sizes") or ())
    return TrainConfig(**values)
