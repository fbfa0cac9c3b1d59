"""The sha256 of the weights after a few fixed training steps: run it on two versions of the
code to check that a change to the trainer changed nothing it should not.

    python -m benchmarks.train_fingerprint                # prints one line per recipe
    git stash; python -m benchmarks.train_fingerprint; git stash pop; python -m benchmarks.train_fingerprint

Two recipes, 4 steps of batch 2 on the tests' tiny tone dataset (made in a temporary folder)
with one torch thread: ``plain`` (features guide, no augmentation) and ``recipe`` (posterior
guide, the whole soundtrack chain, short crops, bf16 autocast). The same code on the same
machine prints the same hashes every time; the numbers are not comparable across CPUs.
"""

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

RECIPES = {
    "plain": {},
    "recipe": dict(guide="posterior", augment=("rooms", "mic", "noise", "codec"), crop_samples=32767, amp=True),
}


def main() -> None:
    import torch

    from avsep.models.serialize import load_checkpoint
    from avsep.train.loop import TrainConfig, train
    from tests.train.dataset_fixture import TINY_PCN, make_dataset, make_synthetic_cache

    warnings.simplefilter("ignore")
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        data = make_dataset(Path(tmp) / "data")
        cache = make_synthetic_cache(data)
        for name, extra in RECIPES.items():
            cfg = TrainConfig(
                index=str(data),
                out=str(Path(tmp) / name),
                backbone="resnet18",
                features=str(cache),
                channels=TINY_PCN,
                cycles=2,
                batch_size=2,
                steps=4,
                lr=3e-3,
                warmup=1,
                val_mixtures=2,
                val_every=2,
                progress=False,
                **extra,
            )
            summary = train(cfg)
            digest = load_checkpoint(summary["last"]).weights_sha256
            print(f"{name:<7} {digest}  best val {summary['best_val_sdr']:.6f}")


if __name__ == "__main__":
    main()
