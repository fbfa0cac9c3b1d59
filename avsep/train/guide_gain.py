"""A model whose guide speaks louder where boxes compete: the gain a model file carries.

The guide enters the PCN as the bottom response ``W g + b`` (:mod:`avsep.models.pcn`), and the
recurrent cycles weigh that class signal against the errors the mixture sends up. Trained
with one-hot guides at unit scale, the network commits to a box's class only as far as random
training pairs taught it. On real ensembles, whose parts overlap in pitch and time more than
random pairs do, guides multiplied by a gain made the boxes' masks differ more, so that the
ratio masks divided each bin more decisively: real-stems val 2-part +5.32 -> +6.05 dB at x12
(issue 28, docs/experiments/2026-12-06-guide-gain.md). A box that competes with no other (one
box, or one beside boxes taking the rest) only got a larger mask, letting more of the rest in,
so the separation applies the gain only where two or more boxes are guided by the network
(:func:`avsep.models.guide.louder_where_competing`, in
:meth:`avsep.separation.engine.Engine.separate_windows`).

The gain belongs to one trained network (chosen on its val split), so it is stored in its file
rather than in the options; training never applies it, and a model trained further from this
one starts again at 1 until a gain is chosen for it.
"""

from __future__ import annotations

import math
from pathlib import Path

from avsep.errors import InputError
from avsep.models.serialize import load_checkpoint, save_like


def gain_guide(model: str | Path, gain: float, out: str | Path) -> tuple[str, float]:
    """Write ``model`` with its guide gain multiplied by ``gain`` to ``out`` (the weights are
    unchanged); returns its sha256 and its gain. The training metadata records the parent file. A gain of
    infinity would make every mask NaN, so only finite gains are taken."""
    bad = InputError(f"--gain {gain}: give a finite gain above 0 (1 leaves the model as it is)")
    if not (math.isfinite(gain) and gain > 0):
        raise bad  # before reading the file
    ck = load_checkpoint(model)
    total = ck.guide_gain * gain
    if not (math.isfinite(total) and total > 0):
        raise bad
    if ck.arch != "pcn":
        raise InputError(f"{model}: the guide gain applies to PCN models; this one is {ck.arch}")
    training = {**ck.training, "gained_from": str(model)}
    return save_like(out, ck, training=training, guide_gain=total), total
