"""The steps of a training run, once :func:`avsep.train.loop.setup` has built them: the learning
rate of each step (:func:`lr_at`, a pure function of the step), the batches of the step sampler
through :func:`avsep.train.loss.train_step`, validation on the fixed mixtures, the checkpoints
(``last.pt``, ``best.pt``, ``stepN.pt``) with the optimizer and RNG states a resume continues
from, and the run's summary."""

from __future__ import annotations

import json
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from avsep.errors import AvsepError
from avsep.machine import describe
from avsep.models.serialize import save_checkpoint
from avsep.models.trunk_files import native_state_dict
from avsep.progress import make_progress
from avsep.signal import dsp
from avsep.train.config import TrainConfig
from avsep.train.data import MixDataset
from avsep.train.loss import VisualGuide, class_source_weights, class_weight_vector, train_step, validate
from avsep.train.steps import StepSampler


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def lr_at(step: int, total: int, base: float, schedule: str, warmup: int) -> float:
    """Learning rate of the update that takes the model from ``step`` to ``step + 1``."""
    if warmup > 0 and step < warmup:
        return base * (step + 1) / warmup
    p = min(1.0, max(0.0, (step - warmup) / max(1, total - warmup)))
    if schedule == "cosine":  # to 1 % of the base rate
        return base * (0.01 + 0.99 * 0.5 * (1.0 + math.cos(math.pi * p)))
    if schedule == "step":  # x0.1 at half and at three quarters of the run
        return base * 0.1 ** (int(p >= 0.5) + int(p >= 0.75))
    return base


def _worker_init(_: int) -> None:
    torch.set_num_threads(1)


def _collate(items: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    return {k: torch.stack([it[k] for it in items]) for k in items[0]}


@dataclass
class RunData:
    """The run's indexes, datasets and schedule lengths."""

    train_csv: Path
    val_csv: Path | None
    train_index: Any
    cache: Any
    train_ds: MixDataset
    val_ds: MixDataset | None
    per_epoch: int
    total: int
    warmup: int
    val_every: int
    #: fixed validation batches made elsewhere (``--val real-stems``), instead of ``val_ds``
    val_batches: list[dict] | None = None


class Trainer:
    """One training run: :meth:`step` updates the network on a batch, :meth:`validate` scores
    the fixed validation mixtures (saving ``best.pt`` on a new best), :meth:`save` writes a
    resumable checkpoint, :meth:`summary` describes the run, and :meth:`run` loops over the
    remaining steps. All state lives on the instance; :func:`setup` builds one."""

    def __init__(
        self,
        config: TrainConfig,
        out: Path,
        device: torch.device,
        console,
        data: RunData,
        model: nn.Module,
        trunk: nn.Module | None,
        optimizer: torch.optim.Optimizer,
    ) -> None:
        self.config, self.out, self.device, self.console, self.data = config, out, device, console, data
        self.model, self.trunk, self.optimizer = model, trunk, optimizer
        self.trainable = [p for g in optimizer.param_groups for p in g["params"]]
        self.visual_fn = VisualGuide(trunk, config.finetune_visual, config.guide)
        #: each class's loss weight in the label guide's coordinates (None: all 1)
        self.class_weights = class_weight_vector(config.class_weights, config.guide)
        self.params = count_parameters(model)
        self.step_count = 0
        self.start_step = 0
        self.best: dict[str, Any] = {"sdr": -math.inf, "step": None}
        self.time_before = 0.0
        self.started = time.monotonic()
        self.last_val: dict | None = None
        self.last_loss = float("nan")
        self._val_batches: list[dict] | None = None
        self._log = None

    def restore(self, extra: dict) -> None:
        """Continue from a checkpoint's optimizer, step, best score, clock and RNG state."""
        self.optimizer.load_state_dict(extra["optimizer"])
        self.step_count = self.start_step = int(extra["step"])
        self.best = dict(extra.get("best") or self.best)
        if self.best.get("sdr") is None:
            self.best["sdr"] = -math.inf
        self.time_before = float(extra.get("time_s", 0.0))
        rng = extra.get("rng") or {}
        if "torch" in rng:
            torch.set_rng_state(rng["torch"])
        if self.device.type == "cuda" and rng.get("cuda"):
            torch.cuda.set_rng_state_all(list(rng["cuda"]))

    # -- one step, one validation, one checkpoint ------------------------------------------

    def step(self, batch: dict[str, torch.Tensor]) -> float:
        """One update at the scheduled learning rate; returns the batch's loss."""
        cfg, dev = self.config, self.device
        lr = lr_at(self.step_count, self.data.total, cfg.lr, cfg.schedule, self.data.warmup)
        for g in self.optimizer.param_groups:
            g["lr"] = lr * g.get("lr_scale", 1.0)
        audio = batch["audio"].to(dev, non_blocking=True)
        mixture = batch["mixture"].to(dev, non_blocking=True) if "mixture" in batch else None
        visual = self.visual_fn(batch, dev, train=True)
        loss = train_step(
            self.model,
            self.optimizer,
            audio,
            visual,
            grad_clip=cfg.grad_clip,
            amp=cfg.amp,
            params=self.trainable,
            mixture=mixture,
            shared=cfg.shared_loss,
            source_weights=None if self.class_weights is None else class_source_weights(visual, self.class_weights),
        )
        self.step_count += 1
        self.last_loss = float(loss)
        if not math.isfinite(self.last_loss):
            raise AvsepError(
                f"training diverged at step {self.step_count} (loss {self.last_loss}); lower --lr or --grad-clip"
            )
        return self.last_loss

    def validate(self) -> dict | None:
        """Score the fixed validation mixtures; log, and save ``best.pt`` on a new best."""
        if self.data.val_ds is None and not self.data.val_batches:
            return None
        if self._val_batches is None:  # loaded once: the same mixtures every time
            ds, bs = self.data.val_ds, max(1, self.config.batch_size)
            self._val_batches = self.data.val_batches or [
                _collate([ds[i] for i in range(s, min(s + bs, len(ds)))]) for s in range(0, len(ds), bs)
            ]
        val = validate(self.model, self.visual_fn, self._val_batches, self.device)
        val["step"] = self.step_count
        self.last_val = val
        self._write_log({"step": self.step_count, "val": val})
        improved = math.isfinite(val["sdr"]) and val["sdr"] > self.best["sdr"]
        if improved:
            self.best = {"sdr": val["sdr"], "step": self.step_count}
        self.console.print(
            f"step {self.step_count}: val SDR {val['sdr']:.2f} dB (SDRi {val['sdri']:+.2f}), "
            f"val loss {val['loss']:.4f}{'  [best]' if improved else ''}"
        )
        if improved:
            self.save(self.out / "best.pt")
        return val

    def save(self, path: Path) -> None:
        """A checkpoint that resumes exactly: weights, optimizer, step, RNG, best, clock, config."""

        cfg = self.config
        rng: dict[str, Any] = {"torch": torch.get_rng_state()}
        if self.device.type == "cuda":
            rng["cuda"] = torch.cuda.get_rng_state_all()
        extra = {
            "optimizer": self.optimizer.state_dict(),
            "scheduler": {
                "schedule": cfg.schedule,
                "warmup": self.data.warmup,
                "total": self.data.total,
                "step": self.step_count,
            },
            "step": self.step_count,
            "epoch": self.step_count // self.data.per_epoch,
            "rng": rng,
            "best": {"sdr": self.best["sdr"] if math.isfinite(self.best["sdr"]) else None, "step": self.best["step"]},
            "time_s": self.elapsed(),
            "config": cfg.to_dict(),
        }
        summary = self.summary()
        if self.trunk is not None and cfg.finetune_visual:
            extra["trunk"] = {k: v.detach().cpu() for k, v in self.trunk.net.state_dict().items()}
            native = self.out / "backbone-finetuned.pth"
            torch.save(native_state_dict(self.trunk.net, self.trunk.spec.name), native)
            summary["backbone_weights"] = str(native)
        save_checkpoint(path, self.model, backbone=cfg.backbone, guide=cfg.guide, training=summary, extra=extra)

    def elapsed(self) -> float:
        return self.time_before + time.monotonic() - self.started

    def summary(self) -> dict[str, Any]:
        cfg, data, cache = self.config, self.data, self.data.cache
        return {
            "steps": self.step_count,
            "total_steps": data.total,
            "epochs": round(self.step_count / data.per_epoch, 3),
            "steps_per_epoch": data.per_epoch,
            "arch": cfg.arch,
            "params": self.params,
            "backbone": cfg.backbone,
            "backbone_weights_sha256": cache.weights_sha256
            if cache is not None
            else getattr(self.trunk, "weights_sha256", None),
            "data": {
                "train_index": str(data.train_csv),
                "val_index": str(data.val_csv) if data.val_csv else None,
                "train_clips": len(data.train_index),
                "classes": data.train_index.classes,
                "fps": data.train_index.fps,
                "num_mix": cfg.num_mix,
                "clip_samples": dsp.WINDOW_SAMPLES,
                "frames_per_clip": 3,
                "gain_db": cfg.gain_db,
                "guide": cfg.guide,
                "guide_soften": cfg.guide_soften,
                "coherent": cfg.coherent,
                "outside": cfg.outside,
                "augment": list(cfg.augment),
                "crop_samples": cfg.crop_samples,
                "features": cfg.features if cache is not None else None,
                "val_mixtures": cfg.val_mixtures if data.val_ds is not None else 0,
                "val_seed": cfg.val_seed,
            },
            "best_val_sdr": self.best["sdr"] if math.isfinite(self.best["sdr"]) else None,
            "best_step": self.best["step"],
            "val_metric": "fast SDR (dB, plain signal-to-distortion, binary masks)",
            "last_val": self.last_val,
            "final_loss": self.last_loss,
            "time_s": round(self.elapsed(), 1),
            "hardware": describe(self.device),
            "command": cfg.command or " ".join(sys.argv),
            "config": cfg.to_dict(),
        }

    def _write_log(self, record: dict) -> None:
        assert self._log is not None
        self._log.write(json.dumps(record) + "\n")
        self._log.flush()

    # -- the loop --------------------------------------------------------------------------

    def run(self) -> dict[str, Any]:
        """Train from the current step to the end (or ``stop_after`` steps); on Ctrl-C between
        updates, save a resumable ``last.pt`` first. Returns the summary."""
        cfg, data = self.config, self.data
        end_step = data.total if cfg.stop_after is None else min(data.total, self.start_step + cfg.stop_after)
        loader = torch.utils.data.DataLoader(
            data.train_ds,
            batch_sampler=StepSampler(
                len(data.train_ds), cfg.batch_size, self.start_step, end_step, cfg.mix_sizes, cfg.seed
            ),
            num_workers=cfg.workers,
            collate_fn=_collate,
            pin_memory=self.device.type == "cuda",
            worker_init_fn=_worker_init if cfg.workers > 0 else None,
        )
        (self.out / "config.json").write_text(json.dumps(cfg.to_dict(), indent=2))
        self._log = (self.out / "log.jsonl").open("a")
        self.started = time.monotonic()
        recent: list[float] = []
        saved_at, in_update = -1, False
        try:
            with _progress(cfg.progress, self.console) as progress:
                task = progress.add_task(
                    f"train {cfg.arch}", total=data.total, completed=self.start_step, loss="", lr=""
                )
                for batch in loader:
                    in_update = True
                    lr = lr_at(self.step_count, data.total, cfg.lr, cfg.schedule, data.warmup)
                    recent.append(self.step(batch))
                    in_update = False
                    progress.update(task, advance=1, loss=f"loss {self.last_loss:.4f}", lr=f"lr {lr:.2e}")
                    if self.step_count % cfg.log_every == 0 or self.step_count == end_step:
                        self._write_log({"step": self.step_count, "loss": float(np.mean(recent)), "lr": lr})
                        recent.clear()
                    if self.step_count % data.val_every == 0 or self.step_count == data.total:
                        self.validate()
                    if self.step_count % cfg.checkpoint_every == 0:
                        self.save(self.out / "last.pt")
                        saved_at = self.step_count
                    if cfg.keep_every and self.step_count % cfg.keep_every == 0:
                        self.save(self.out / f"step{self.step_count}.pt")
            if saved_at != self.step_count:
                self.save(self.out / "last.pt")
        except KeyboardInterrupt:
            if not in_update and saved_at != self.step_count:  # a consistent state: resumable exactly
                self.save(self.out / "last.pt")
                self.console.print(
                    f"interrupted at step {self.step_count}; resume with --resume {self.out / 'last.pt'}"
                )
            raise
        finally:
            self._log.close()
        return self._finish()

    def _finish(self) -> dict[str, Any]:
        result = self.summary()
        result["last"] = str(self.out / "last.pt")
        result["best"] = str(self.out / "best.pt") if (self.out / "best.pt").is_file() else None
        result["steps_this_run"] = self.step_count - self.start_step
        run_time = time.monotonic() - self.started
        result["steps_per_s"] = round((self.step_count - self.start_step) / run_time, 3) if run_time > 0 else None
        (self.out / "summary.json").write_text(json.dumps(result, indent=2, default=str))
        return result


def _progress(enabled: bool, console):
    from rich.progress import ProgressColumn, TextColumn
    from rich.text import Text

    class Rate(ProgressColumn):
        def render(self, task) -> Text:
            speed = task.finished_speed or task.speed
            return Text(f"{speed:.2f} it/s" if speed else "-- it/s")

    return make_progress(enabled, console, Rate(), TextColumn("{task.fields[loss]}"), TextColumn("{task.fields[lr]}"))
