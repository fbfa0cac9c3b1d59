"""Which items each training step takes: exact resume, and a curriculum of mixture sizes.

Kept apart from :mod:`avsep.train.data`, which says what one item is: a step's items are only
keys into it, drawn from the seed and the step alone.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np


class StepSampler:
    """Batch sampler over training steps: step ``s`` is batch ``s % per_epoch`` of epoch
    ``s // per_epoch``, items ``(epoch, position)``. Starting at any step gives exactly the
    batches an uninterrupted run would have seen there (exact resume).

    With ``sizes`` (a curriculum of mixture sizes) each step draws one size from them, from
    ``seed`` and the step alone, and its items are ``(epoch, position, size)``: one batch
    holds one size, so its tensors stack."""

    def __init__(
        self,
        dataset_len: int,
        batch_size: int,
        start_step: int,
        end_step: int,
        sizes: Sequence[int] = (),
        seed: int = 0,
    ) -> None:
        self.per_epoch = steps_per_epoch(dataset_len, batch_size)
        self.batch_size = batch_size
        self.start_step = start_step
        self.end_step = end_step
        self.sizes = tuple(sizes)
        self.seed = seed

    def __len__(self) -> int:
        return max(0, self.end_step - self.start_step)

    def __iter__(self) -> Iterator[list[tuple[int, ...]]]:
        for step in range(self.start_step, self.end_step):
            epoch, b = divmod(step, self.per_epoch)
            keys = [(epoch, b * self.batch_size + j) for j in range(self.batch_size)]
            if self.sizes:
                size = self.sizes[np.random.default_rng([self.seed, step, 0x512E]).integers(len(self.sizes))]
                keys = [(*k, int(size)) for k in keys]
            yield keys


def steps_per_epoch(dataset_len: int, batch_size: int) -> int:
    """Full batches per epoch (at least one: a tiny index still trains, items repeat)."""
    return max(1, dataset_len // batch_size)
