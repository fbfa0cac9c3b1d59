"""``--shifts``: the mask network's masks averaged over time shifts of its input."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from avsep import Separator
from avsep.errors import InputError
from avsep.separation.shifts import masks_over_shifts


def test_one_shift_is_the_network_itself_and_shifts_are_rolled_back():
    """An elementwise network gives the same masks at any shift only if each shift's masks are
    rolled back by what its input was rolled; a network that sees where a frame is does not."""
    x = torch.randn(2, 1, 8, 64)
    guides = torch.zeros(2, 3, 5)

    def pointwise(inp: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(inp).expand(-1, g.shape[1], -1, -1)

    ramp = torch.linspace(0, 1, 64)

    def positional(inp: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        return pointwise(inp, g) * ramp

    assert torch.equal(masks_over_shifts(positional, x, guides, 1), positional(x, guides))
    torch.testing.assert_close(masks_over_shifts(pointwise, x, guides, 4), pointwise(x, guides))
    averaged = masks_over_shifts(positional, x, guides, 4)
    expected = sum(pointwise(x, guides) * torch.roll(ramp, -k * 16) for k in range(4)) / 4
    torch.testing.assert_close(averaged, expected)


def test_the_separator_averages_its_passes():
    """Two shifts give other masks than one (the network's grid moves), close to them."""
    rate = 11025
    t = np.arange(3 * rate) / rate
    mix = (0.3 * np.sin(2 * np.pi * 440 * t) + 0.3 * np.sin(2 * np.pi * 1250 * t)).astype(np.float32)
    one = Separator(device="cpu").separate_arrays(mix, rate, names=["violin", "flute"])
    two = Separator(device="cpu", shifts=2).separate_arrays(mix, rate, names=["violin", "flute"])
    assert one.shape == two.shape and not np.array_equal(one, two)
    assert 10 * np.log10((one**2).sum() / ((one - two) ** 2).sum()) > 10


@pytest.mark.parametrize("shifts", [0, 17])
def test_shifts_outside_1_to_16_are_refused(shifts):
    with pytest.raises(InputError, match="shifts must be from 1 to 16"):
        Separator(shifts=shifts)
