"""How sure is a difference between two models on real-stems? Paired SDRi differences with a
bootstrap interval, per set, from two ``avsep evaluate-stems --json`` reports of one split.

Why: a shipping rule reads a mean difference on the val split (29 mixtures), and on 2026-12-07
a candidate that beat the shipped model by +0.34 / +0.55 dB on val lost -0.19 / gained +0.02 on
test (docs/experiments/2026-12-07-ensembles.md). The interval says what size of difference the
split can tell apart at all. Each mixture is one paired sample (the mean over its outputs);
the interval resamples mixtures.

    python -m benchmarks.paired_stems runs/ship/stems-val.json runs/ens2/eval/stems-val-600.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

#: Sets read together as well as alone: the mixtures of the model's own classes, whose gain a
#: shipping rule asks for (each set alone is too small to tell 0.3 dB from noise).
POOLS = {"2+3-part": ("2-part", "3-part")}


def paired(
    before: dict, after: dict, resamples: int = 4000, seed: int = 0, pools: dict[str, tuple[str, ...]] = POOLS
) -> dict[str, dict]:
    """Per set both reports hold, then per pool of sets (``pools``, where both hold one of them):
    mixtures, mean difference (after - before) and its 95 % bootstrap interval over mixtures
    (a mixture's difference: the mean over its outputs)."""
    diffs = {name: _diffs(before, after, name) for name in sorted(set(before["sets"]) & set(after["sets"]))}
    for pool, names in pools.items():
        diffs[pool] = np.concatenate([diffs.get(n, np.zeros(0)) for n in names])
    out = {}
    for name, diff in diffs.items():
        if not len(diff):
            continue
        rng = np.random.default_rng(seed)
        means = diff[rng.integers(0, len(diff), (resamples, len(diff)))].mean(1)
        low, high = np.percentile(means, [2.5, 97.5])
        out[name] = {"mixtures": len(diff), "mean": float(diff.mean()), "low": float(low), "high": float(high)}
    return out


def _diffs(before: dict, after: dict, name: str) -> np.ndarray:
    """Set ``name``'s paired differences, one per mixture both reports scored."""
    a = {_key(d): np.mean(d["sdri"]) for d in before["sets"][name]["details"]}
    b = {_key(d): np.mean(d["sdri"]) for d in after["sets"][name]["details"]}
    return np.array([b[k] - a[k] for k in sorted(set(a) & set(b))])


def _key(detail: dict) -> tuple:
    return detail["piece"], detail["start_s"], tuple(detail["pair"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("before", type=Path, help="evaluate-stems report of the reference model")
    parser.add_argument("after", type=Path, help="evaluate-stems report of the candidate, same split")
    args = parser.parse_args()
    before, after = (json.loads(p.read_text())[0] for p in (args.before, args.after))
    if before["split"] != after["split"]:
        raise SystemExit(f"the reports are of different splits ({before['split']}, {after['split']})")
    print(f"{after['model']} - {before['model']}, real-stems {after['split']}: paired SDRi difference, 95 % interval")
    for name, r in paired(before, after).items():
        print(f"  {name:<14} {r['mixtures']:3d} mixtures  {r['mean']:+.2f} dB  [{r['low']:+.2f}, {r['high']:+.2f}]")


if __name__ == "__main__":
    main()
