"""Guide heads on the val photos: the balanced accuracy that chooses them, per class (issue 28).

    python -m benchmarks.guide_head_val weights/avsep-guide-head-5c3736a9.pth \\
        runs/guide-head/tail5/avsep-guide-head-34564940.pth --soup --mirror

Scores each head (a ``.pth`` that ``avsep train-guide`` wrote) as ``avsep train-guide --tail``
chooses its epoch: the share of the cache's **val** pictures whose guide names their class
(:func:`avsep.train.guide_head.named`), averaged over the classes. ``--soup``: also the head
whose weights are the mean of the given heads' (they must share an architecture).
``--mirror``: also each head answering with the mean of the picture's and its mirror image's
pooled features. Val only: the test photos report, they never choose.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from avsep.models.guide_head import HEAD_CLASSES, GuideHead
from avsep.models.serialize import load_guide_head
from avsep.train.average import mean_state
from avsep.train.guide_head import Split, confusion, guide_answers, load_cache, named, per_class_accuracy


def per_class(head: GuideHead, split: Split, mirror: bool = False) -> dict[str, float]:
    """Class -> share of its val pictures that the head's guide names right."""
    if mirror:
        pooled, music, lse = split.inputs(head)
        with torch.no_grad():
            pooled = (pooled + torch.cat([head.pool(m.float().flip(-1)) for m in split.mid.split(512)])) / 2
        answers = named(*head.classes(pooled, music, lse))
    else:
        answers = guide_answers(head, split)
    return per_class_accuracy(confusion([HEAD_CLASSES[int(t)] for t in split.target], answers))


def soup(paths: list[Path]) -> GuideHead:
    """One head with the mean of the heads' weights (integer buffers from the first)."""
    heads = [load_guide_head(p) for p in paths]
    heads[0].load_state_dict(mean_state([h.state_dict() for h in heads]))
    return heads[0].eval()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("heads", nargs="+", type=Path, help="guide head files (.pth)")
    parser.add_argument("--cache", default="runs/guide-head/tail-cache.pt", help="the feature cache (with maps)")
    parser.add_argument("--soup", action="store_true", help="also the mean of the heads' weights")
    parser.add_argument("--mirror", action="store_true", help="also each answering with its mirror image")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    val = Split.of(load_cache(args.cache), "val")
    rows = [(p.name, load_guide_head(p).eval()) for p in args.heads]
    if args.soup:
        rows.append(("soup of the " + str(len(args.heads)), soup(args.heads)))
    print(f"{'head':<40} {'balanced':>8}  " + " ".join(f"{c[:8]:>8}" for c in HEAD_CLASSES))
    for name, head in rows:
        for mirrored in (False, True) if args.mirror else (False,):
            acc = per_class(head, val, mirrored)
            label = name + (" + mirror" if mirrored else "")
            cells = " ".join(f"{acc.get(c, float('nan')):8.3f}" for c in HEAD_CLASSES)
            print(f"{label:<40} {np.mean(list(acc.values())):8.4f}  {cells}")


if __name__ == "__main__":
    main()
