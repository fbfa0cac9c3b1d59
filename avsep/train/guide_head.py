"""``avsep train-guide``: train the guide head (:mod:`avsep.models.guide_head`) on photos.

Two steps, both seeded:

1. :func:`cache_features`: every picture of :mod:`avsep.train.guide_photos` in its
   :func:`~avsep.train.guide_photos.variants` (the training split's in ``renderings`` random
   renderings, :func:`cache_jobs`) goes once through the frozen trunk
   (:meth:`~avsep.models.visual.VisualTrunk.training_parts`); the pooled features, music
   logits, log-sum-exps and the map before the trunk's last stage are stored with each
   picture's class, key and split. This is the costly step (about 50-90 ms per picture on one
   CPU core); it saves as it goes and resumes (a cache made before the maps were stored is
   made again).
2. :func:`train_head`: the head learns from the cached training split (full-batch AdamW,
   class-balanced cross-entropy, a few seconds on a CPU); the epoch count is chosen on the
   validation split, the test split is only scored (:func:`confusion`). With its own last
   stage, :func:`avsep.train.guide_tail.train_tail` trains instead (minibatches of the maps).

:func:`save_head` writes the head as ``<name>-<sha8>.pth`` with its card ``<name>.json`` (data,
split, seed, held-out accuracy per class) beside the bundled model.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from avsep.errors import InputError
from avsep.io.atomic import atomic_write
from avsep.models.guide import LABELS, class_posterior, posterior
from avsep.models.guide_head import HEAD_CLASSES, OTHER, GuideHead, HeadConfig
from avsep.models.visual import build_trunk
from avsep.progress import make_progress
from avsep.train.dataset.system import check_toolchain
from avsep.train.guide_photos import (
    ERHU_DRAWINGS,
    HELD_OUT,
    PHOTO_CLASSES,
    VARIANTS,
    GuidePicture,
    list_pictures,
    render_variant,
    split_pictures,
    variants,
)

#: pictures per trunk forward when caching
_BATCH = 16
#: forwards between two saves of a partial cache
_SAVE_EVERY = 25


def training_bar(enabled: bool):
    """The progress bar of the guide head's steps (rich's, with a percentage)."""
    from rich.progress import TaskProgressColumn

    return make_progress(enabled, None, TaskProgressColumn())


#: what the cache stores per picture: the trunk's pooled features, music logits, log-sum-exp,
#: and the map before its last stage (what a head with its own tail reads; 19 kB in half floats)
_PARTS = ("pooled", "music", "lse", "mid")


def cache_jobs(pictures: Sequence[GuidePicture], split: dict[str, str], renderings: int) -> list[tuple]:
    """``(picture, variant, rendering)`` for every entry of the cache: each picture's variants,
    and for the training split ``renderings - 1`` more renderings of them (other random
    degradations: more to learn from for a head that fine-tunes a trunk stage)."""
    return [
        (p, v, r) for r in range(renderings) for p in pictures if r == 0 or split[p.key] == "train" for v in variants(p)
    ]


def cache_features(
    photos: str | Path, out: str | Path, seed: int = 0, progress: bool = True, renderings: int = 1
) -> dict[str, Any]:
    """Render every picture's variants (:func:`cache_jobs`), run the trunk once on each, save
    to ``out``; resumes a partial ``out`` made with the same photos and seed, grows one made
    with fewer renderings (the jobs run rendering by rendering, so its entries are this cache's
    first ones: only the new renderings are run), and reads the first entries of one made with
    more (leaving the file as it is). Returns the cache."""

    pictures = list_pictures(photos)
    split = split_pictures(pictures)
    jobs = cache_jobs(pictures, split, renderings)
    keys = [f"{p.key}#{v}" + (f"@{r}" if r else "") for p, v, r in jobs]
    out = Path(out)
    cache: dict[str, Any] = {"seed": seed, "keys": keys, **{k: [] for k in _PARTS}}
    if out.is_file():
        old = torch.load(out, weights_only=True)
        kept = old.get("keys", [])
        shared = min(len(kept), len(keys))
        if old.get("seed") == seed and kept[:shared] == keys[:shared] and "mid" in old:
            cache = {**old, "keys": keys, **{k: [old[k][: len(keys)]] for k in _PARTS}}
    done = sum(len(t) for t in cache["pooled"])
    cache.update(
        targets=[p.target for p, _, _ in jobs],
        folders=[p.folder for p, _, _ in jobs],
        splits=[split[p.key] for p, _, _ in jobs],
        variants=[v for _, v, _ in jobs],
    )
    tools = check_toolchain()
    trunk = build_trunk("efficientnet_lite0")
    with training_bar(progress) as bar:
        task = bar.add_task("guide features", total=len(jobs), completed=done)
        for n, start in enumerate(range(done, len(jobs), _BATCH)):
            batch = jobs[start : start + _BATCH]
            images = torch.from_numpy(np.stack([render_variant(p, v, tools, seed + r) for p, v, r in batch]))
            with torch.no_grad():  # not inference_mode: a head trains on these in this process
                for name, part in zip(_PARTS, trunk.training_parts(images)):
                    cache[name].append(part.half() if name in ("pooled", "mid") else part)
            bar.advance(task, len(batch))
            if (n + 1) % _SAVE_EVERY == 0 or start + _BATCH >= len(jobs):
                _save_cache(cache, out)
    return _joined(cache)


def _joined(cache: dict[str, Any]) -> dict[str, Any]:
    parts = {k: torch.cat(cache[k]) if isinstance(cache[k], list) else cache[k] for k in _PARTS}
    return {**cache, **parts}


def _save_cache(cache: dict[str, Any], out: Path) -> None:
    joined = _joined(cache)
    atomic_write(out, lambda f: torch.save(joined, f))


def load_cache(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no guide feature cache; run avsep train-guide with --photos first")
    cache = torch.load(path, weights_only=True)
    if len(cache["pooled"]) != len(cache["keys"]):
        raise InputError(f"{path}: the feature cache is incomplete; run avsep train-guide again to finish it")
    return cache


@dataclass
class Split:
    """One split of the cache as tensors: inputs, head targets, avsep labels (-1: not ours)."""

    pooled: torch.Tensor
    music: torch.Tensor
    lse: torch.Tensor
    target: torch.Tensor
    folders: list[str]
    variants: list[int]
    mid: torch.Tensor | None = None

    @torch.no_grad()
    def inputs(self, head: GuideHead) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """What ``head`` reads of these pictures (its own last stage's features, if it has one)."""
        if head.tail is None:
            return self.pooled, self.music, self.lse
        if self.mid is None:
            raise InputError(
                "this guide feature cache holds no maps for a head with its own last stage; "
                "run avsep train-guide again to remake it"
            )
        head.eval()
        pooled = torch.cat([head.pool(m.float()) for m in self.mid.split(_BATCH * 32)])
        return pooled, self.music, self.lse

    @classmethod
    def of(cls, cache: dict[str, Any], name: str) -> Split:
        idx = [i for i, s in enumerate(cache["splits"]) if s == name]
        if not idx:
            raise InputError(f"the guide feature cache has no {name} pictures")
        t = torch.tensor([HEAD_CLASSES.index(cache["targets"][i]) for i in idx])
        return cls(
            cache["pooled"][idx].float(),
            cache["music"][idx].float(),
            cache["lse"][idx].float(),
            t,
            [cache["folders"][i] for i in idx],
            [cache["variants"][i] for i in idx],
            cache["mid"][idx] if "mid" in cache else None,
        )


def train_head(
    cache: dict[str, Any],
    seed: int = 0,
    hidden: int = 256,
    epochs: int = 100,
    lr: float = 2e-3,
    weight_decay: float = 1e-2,
    progress: bool = True,
) -> tuple[GuideHead, dict[str, Any]]:
    """Train on the ``train`` split; keep the epoch with the best validation accuracy (mean
    over classes). Deterministic for a given cache and seed."""
    torch.manual_seed(seed)
    train, val = Split.of(cache, "train"), Split.of(cache, "val")
    head = GuideHead(HeadConfig(feature_dim=train.pooled.shape[1], hidden=hidden))
    head.set_feature_stats(train.pooled)
    loss_fn = torch.nn.CrossEntropyLoss(weight=class_weights(train.target), label_smoothing=0.05)
    opt = torch.optim.AdamW(head.parameters(), lr=lr, weight_decay=weight_decay)
    best: tuple[float, int, dict[str, torch.Tensor]] = (-1.0, 0, {})
    with training_bar(progress) as bar:
        task = bar.add_task("guide head", total=epochs)
        for epoch in range(1, epochs + 1):
            head.train()
            opt.zero_grad()
            loss_fn(head(train.pooled, train.music, train.lse), train.target).backward()
            opt.step()
            bar.advance(task)
            if epoch % 10 == 0:
                score = balanced_accuracy(head, val)
                if score > best[0]:
                    best = (score, epoch, {k: v.clone() for k, v in head.state_dict().items()})
    head.load_state_dict(best[2])
    head.eval()
    return head, {"seed": seed, "epochs": epochs, "best_epoch": best[1], "val_balanced_accuracy": best[0]}


def class_weights(target: torch.Tensor) -> torch.Tensor:
    """Cross-entropy weights that balance the classes. A class with no pictures (a small test
    set) gets no weight at all, or the label smoothing would push every answer towards it."""
    counts = torch.bincount(target, minlength=len(HEAD_CLASSES)).float()
    return torch.where(counts > 0, counts.sum() / (int((counts > 0).sum()) * counts.clamp_min(1)), 0.0)


@torch.no_grad()
def head_predictions(head: GuideHead, split: Split) -> torch.Tensor:
    """The head's own answer per picture (an index into HEAD_CLASSES)."""
    head.eval()
    return head(*split.inputs(head)).argmax(-1)


def balanced_accuracy(head: GuideHead, split: Split) -> float:
    pred = head_predictions(head, split)
    per = [float((pred[split.target == k] == k).float().mean()) for k in split.target.unique()]
    return float(np.mean(per))


@torch.no_grad()
def guide_answers(head: GuideHead | None, split: Split) -> list[str]:
    """What each picture's 11-class guide names (its largest coordinate), by the head's guide
    (:meth:`GuideHead.classes`, :func:`named`) or, with ``head`` None, the ImageNet gathering
    (which has no "not one of ours")."""
    if head is None:
        v = class_posterior(posterior(split.music, split.lse))
        return [LABELS[i] for i in v.argmax(-1)]
    return named(*head.classes(*split.inputs(head)))


def named(guide: torch.Tensor, sure: torch.Tensor) -> list[str]:
    """What guides ``[N, 11]`` name: their largest coordinate, or OTHER where the head is less
    than even sure that the picture shows one of our instruments."""
    return [OTHER if float(s) < 0.5 else LABELS[int(i)] for i, s in zip(guide.argmax(-1), sure)]


def confusion(truth: list[str], answers: list[str]) -> dict[str, dict[str, int]]:
    """truth -> answer -> count."""
    out: dict[str, dict[str, int]] = {}
    for t, a in zip(truth, answers):
        row = out.setdefault(t, {})
        row[a] = row.get(a, 0) + 1
    return out


def save_head(head: GuideHead, folder: str | Path, name: str, card: dict[str, Any]) -> Path:
    """``folder/<name>-<sha8>.pth`` (config + state dict) and its card ``folder/<name>.json``
    (``card`` plus the file's name and sha256); earlier files of that name are replaced."""
    buf = io.BytesIO()
    state = {k: v.detach().cpu() for k, v in head.state_dict().items()}
    torch.save({"format": "avsep-guide-head/1", "config": head.config.to_dict(), "state_dict": state}, buf)
    data = buf.getvalue()
    digest = hashlib.sha256(data).hexdigest()
    folder = Path(folder)
    path = folder / f"{name}-{digest[:8]}.pth"
    for old in folder.glob(f"{name}-*.pth"):
        if old != path:
            old.unlink()
    atomic_write(path, lambda f: f.write(data))
    full = {"name": name, "file": path.name, "sha256": digest, "file_bytes": len(data), **card}
    text = json.dumps(full, indent=2) + "\n"
    atomic_write(folder / f"{name}.json", lambda f: f.write(text.encode()))
    return path


def per_class_accuracy(table: dict[str, dict[str, int]]) -> dict[str, float]:
    """truth -> share of its pictures answered with their own class (from :func:`confusion`)."""
    return {t: row.get(t, 0) / max(1, sum(row.values())) for t, row in sorted(table.items())}


def held_out_report(head: GuideHead, cache: dict[str, Any], name: str = "test") -> dict[str, Any]:
    """Per-class confusion of the head's guide and of the ImageNet gathering on a split."""
    split = Split.of(cache, name)
    truth = [HEAD_CLASSES[int(t)] for t in split.target]
    out = {}
    for system, h in (("imagenet", None), ("head", head)):
        table = confusion(truth, guide_answers(h, split))
        out[system] = {"accuracy": per_class_accuracy(table), "confusion": table}
    return out


def split_counts(cache: dict[str, Any]) -> dict[str, dict[str, int]]:
    """folder -> split -> pictures (not variants, not extra renderings): the split the card records."""
    out: dict[str, dict[str, int]] = {}
    for key, folder, split, variant in zip(cache["keys"], cache["folders"], cache["splits"], cache["variants"]):
        if variant == 0 and "@" not in key:  # "@r": rendering r > 0 (cache_features)
            row = out.setdefault(folder, {})
            row[split] = row.get(split, 0) + 1
    return out


#: how a head is trained from the cache: (cache, seed, hidden, epochs, progress) -> head, history
Trainer = Callable[..., tuple[GuideHead, dict[str, Any]]]


def train_guide(
    photos: str | Path,
    cache_path: str | Path,
    weights_dir: str | Path,
    seed: int = 0,
    hidden: int = 256,
    epochs: int = 100,
    progress: bool = True,
    command: str = "",
    trainer: Trainer = train_head,
    renderings: int = 1,
) -> tuple[Path, dict[str, Any]]:
    """The whole of ``avsep train-guide``: cache (or resume), train with ``trainer``
    (:func:`train_head`, or :func:`avsep.train.guide_tail.train_tail` for a head with its own
    last stage), score the held-out photos, write the head and its card. Returns the head's
    path and the test report."""

    cache = cache_features(photos, cache_path, seed=seed, progress=progress, renderings=renderings)
    head, history = trainer(cache, seed=seed, hidden=hidden, epochs=epochs, progress=progress)
    report = held_out_report(head, cache)
    over = "the frozen efficientnet_lite0 trunk"
    if head.tail is not None:
        over = f"its own fine-tuned copy of {over}'s last stage"
    card = {
        "what": "guide head: names avsep's 11 instruments (plus 'not one of ours') in a box's frames, "
        f"over {over}; used by the 'classes' guide of label-trained models",
        "classes": list(HEAD_CLASSES),
        "config": head.config.to_dict(),
        "training": {**history, "command": command, "photos": str(photos)},
        "data": {
            "photos": "Kaggle 'Musical Instruments Image Classification' (kaggle-30, gpiosenka) and "
            "'music-instruments' (kaggle-10, nikolasgegenava), licence as published there; folders "
            f"renamed {PHOTO_CLASSES}; every other folder not an avsep class is a negative ('other')",
            "erhu": f"{ERHU_DRAWINGS} procedural drawings (avsep.train.dataset.shapes), no photos",
            "cello": "no pictures: the guide keeps the ImageNet classifier's cello class",
            "variants": f"{VARIANTS} video-like renderings per picture of ours, 1 per negative "
            f"(avsep.train.guide_photos.render_variant), seed {seed}; the training split's "
            f"rendered {renderings} time(s), seeds {seed} to {seed + renderings - 1}",
            "split": f"by file within each source/class folder, {HELD_OUT:.0%} val and {HELD_OUT:.0%} test "
            "(avsep.train.dataset.library.file_split)",
            "split_counts": split_counts(cache),
        },
        "held_out_test": {s: r["accuracy"] for s, r in report.items()},
    }
    path = save_head(head, weights_dir, "avsep-guide-head", card)
    return path, report
