"""Masks averaged over time shifts of the network's input (``--shifts``).

The mask network is a stack of stride-2 convolutions, so what it says of a time-frequency bin
depends a little on where the bin falls in its grid; averaged over inputs rolled along time,
those errors partly cancel (Demucs averages over shifted inputs for the same reason). The
shifts are spread evenly over the window and circular: the window's end wraps to its start, so
every shift sees the same frames and no padding. On the real-stems val split, four shifts
gained 0.21 dB over the four sets, two 0.07 dB; each costs one more pass of the network
(docs/experiments/2026-12-07-shifts.md).
"""

from __future__ import annotations

from collections.abc import Callable

import torch


def masks_over_shifts(
    model: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    net_input: torch.Tensor,
    guides: torch.Tensor,
    shifts: int,
) -> torch.Tensor:
    """``model(net_input, guides)`` (masks ``[..., frames]`` for an input ``[B, 1, F, frames]``)
    averaged over ``shifts`` circular time shifts of ``net_input`` spread evenly over its frames."""
    frames = net_input.shape[-1]
    total = None
    for k in range(shifts):
        step = k * frames // shifts
        masks = torch.roll(model(torch.roll(net_input, step, dims=-1), guides), -step, dims=-1).float()
        total = masks if total is None else total + masks
    return total / shifts
