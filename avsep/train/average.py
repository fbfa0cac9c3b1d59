"""Average the weights of several checkpoints of one network (a "model soup").

Checkpoints along one run, or runs started from the same model, sit in one basin of the loss,
so their parameter mean is a model too, and often a better one than any of them (stochastic
weight averaging, model soups); it costs no training. The mean is taken over every floating
tensor of the state dict (batch-norm statistics included); integer buffers (counters) come from
the first checkpoint. The result records its parents in its training metadata.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch

from avsep.errors import InputError
from avsep.models.guide import LABEL_OTHER
from avsep.models.serialize import load_checkpoint, save_like, widened_to_other


def mean_state(states: Sequence[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """The mean of state dicts of one architecture: every floating tensor averaged (in float32,
    back to its own type), integer buffers (counters) from the first."""
    return {
        k: torch.stack([s[k].float() for s in states]).mean(0).to(v.dtype) if v.is_floating_point() else v
        for k, v in states[0].items()
    }


def average_checkpoints(paths: Sequence[str | Path], out: str | Path) -> str:
    """Write the mean of ``paths``' weights to ``out``; returns its sha256. All must be one
    architecture with one config, backbone and guide, except that ``label`` models averaged
    with ``label-other`` ones are widened first (:func:`widened_to_other`, as ``--init`` does)."""
    if len(paths) < 2:
        raise InputError("give at least two checkpoints to average")
    cks = [load_checkpoint(p) for p in paths]
    if any(ck.guide == LABEL_OTHER for ck in cks):
        cks = [widened_to_other(ck) if ck.guide == "label" else ck for ck in cks]
    first = cks[0]
    for path, ck in zip(paths[1:], cks[1:]):
        if (ck.arch, ck.config, ck.backbone, ck.guide) != (first.arch, first.config, first.backbone, first.guide):
            raise InputError(f"{path}: a different network from {paths[0]} (architecture, config, trunk or guide)")
        if ck.guide_gain != first.guide_gain:
            raise InputError(
                f"{path}: guide gain {ck.guide_gain:g}, {paths[0]} {first.guide_gain:g}; average the files "
                "without a gain, then give the mean one with avsep guide-gain"
            )
    first.model.load_state_dict(mean_state([ck.model.state_dict() for ck in cks]))
    return save_like(out, first, training={**first.training, "averaged_from": [str(p) for p in paths]})
