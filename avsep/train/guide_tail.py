"""``avsep train-guide --tail``: a guide head that fine-tunes its own copy of the trunk's last stage.

Over the frozen trunk's pooled features every head variant scored 76-78 % balanced on the
validation photos, and the clarinet stayed near 55 % (read as a flute): those features run the
two together. This head carries a copy of EfficientNet-Lite0's last stage
(:class:`~avsep.models.effnet_lite.Tail`: one inverted-residual block, the 1x1 head convolution
and its norm, 1.0 M parameters) and trains it with the head, from the map before that stage,
which the feature cache stores (:func:`~avsep.train.guide_head.cache_features`). The trunk itself
stays frozen and shared: the separation's other guides and the player finder's maps read it
unchanged, and a box costs one extra pass through the small stage.

Minibatch AdamW (the stage at a tenth of the head's rate, one-cycle schedule), class-balanced
cross-entropy, the stage's norm statistics frozen, each map mirrored left-right at random; the epoch with
the best balanced validation accuracy of the guide's answer (:func:`guide_answers`) is kept.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from avsep.models.effnet_lite import Tail
from avsep.models.guide_head import HEAD_CLASSES, GuideHead, HeadConfig
from avsep.models.visual import build_trunk
from avsep.train.guide_head import Split, class_weights, confusion, guide_answers, per_class_accuracy, training_bar

#: pictures per step
BATCH = 128
#: peak learning rates of the stage and of the head (one-cycle: a tenth of the way up, then down)
STAGE_LR, HEAD_LR = 1e-4, 1e-3


def guide_accuracy(head: GuideHead, split: Split) -> float:
    """Balanced accuracy of what the guide names (:func:`guide_answers`), over the split's classes."""
    truth = [HEAD_CLASSES[int(t)] for t in split.target]
    return float(np.mean(list(per_class_accuracy(confusion(truth, guide_answers(head, split))).values())))


def _steps(head: GuideHead, train: Split, order: torch.Tensor, g: torch.Generator, step) -> None:
    """One epoch: minibatches of ``train`` in ``order``, each map mirrored at random."""
    head.train()
    for m in head.tail.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.eval()  # ImageNet's statistics: a few thousand photos would only blur them
    for idx in order.split(BATCH):
        x = train.mid[idx].float()
        flip = torch.rand(len(idx), generator=g) < 0.5
        x[flip] = x[flip].flip(-1)
        step(head(head.pool(x), train.music[idx], train.lse[idx]), train.target[idx])


def train_tail(
    cache: dict[str, Any], seed: int = 0, hidden: int = 256, epochs: int = 12, progress: bool = True
) -> tuple[GuideHead, dict[str, Any]]:
    """Train a head with its own last stage on the cache's ``train`` split; keep the epoch with
    the best :func:`guide_accuracy` on ``val``. Deterministic for a given cache and seed."""
    train, val = Split.of(cache, "train"), Split.of(cache, "val")
    if train.mid is None or not len(train.mid):
        raise ValueError("the guide feature cache holds no maps for a head with its own stage")
    torch.manual_seed(seed)
    head = GuideHead(HeadConfig(feature_dim=train.pooled.shape[1], hidden=hidden, tail=True))
    head.tail.load_state_dict(Tail.of(build_trunk("efficientnet_lite0").net).state_dict())
    head.set_feature_stats(train.inputs(head)[0])
    loss_fn = nn.CrossEntropyLoss(weight=class_weights(train.target), label_smoothing=0.05)
    opt = torch.optim.AdamW(
        [{"params": head.tail.parameters(), "lr": STAGE_LR}, {"params": head.net.parameters(), "lr": HEAD_LR}],
        weight_decay=1e-2,
    )
    per_epoch = -(-len(train.target) // BATCH)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, [STAGE_LR, HEAD_LR], total_steps=epochs * per_epoch, pct_start=0.1)

    def step(logits: torch.Tensor, target: torch.Tensor) -> None:
        opt.zero_grad()
        loss_fn(logits, target).backward()
        opt.step()
        sched.step()

    g = torch.Generator().manual_seed(seed)
    best: tuple[float, int, dict[str, torch.Tensor]] = (-1.0, 0, {})
    with training_bar(progress) as bar:
        task = bar.add_task("guide head and stage", total=epochs)
        for epoch in range(1, epochs + 1):
            _steps(head, train, torch.randperm(len(train.target), generator=g), g, step)
            score = guide_accuracy(head, val)
            if score > best[0]:
                best = (score, epoch, {k: v.clone() for k, v in head.state_dict().items()})
            bar.advance(task)
    head.load_state_dict(best[2])
    head.eval()
    return head, {"seed": seed, "epochs": epochs, "best_epoch": best[1], "val_balanced_accuracy": best[0]}
