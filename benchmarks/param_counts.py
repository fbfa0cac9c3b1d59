"""Parameter counts of the mask networks at their default and recipe configurations.

    python -m benchmarks.param_counts

Counts only the mask network (the visual trunk is frozen and shared by both); the visual
projection depends on the trunk's feature size, so both trunks are listed.
"""

from __future__ import annotations

from avsep.models.pcn import PCN, PCNConfig
from avsep.models.sop import SoP, SoPConfig
from avsep.models.visual import TRUNKS

CONFIGS = [
    ("PCN default (16,32,64,128,128,128,128), 4 cycles", lambda d: PCN(PCNConfig(visual_dim=d))),
    (
        "PCN CPU recipe (16,32,64,64,64,64,64), 3 cycles",
        lambda d: PCN(PCNConfig(visual_dim=d, channels=(16, 32, 64, 64, 64, 64, 64), cycles=3)),
    ),
    ("SoP default (ngf 16, K 32)", lambda d: SoP(SoPConfig(visual_dim=d))),
    ("SoP paper width (ngf 64, K 32)", lambda d: SoP(SoPConfig(visual_dim=d, ngf=64))),
]


def count(model) -> int:
    return sum(p.numel() for p in model.parameters())


def main() -> None:
    trunks = sorted(TRUNKS.values(), key=lambda s: s.feature_dim)
    header = f"{'network':<52}" + "".join(f"{t.name + ' (' + str(t.feature_dim) + ')':>28}" for t in trunks)
    print(header)
    print("-" * len(header))
    for name, make in CONFIGS:
        print(f"{name:<52}" + "".join(f"{count(make(t.feature_dim)):>28,}" for t in trunks))


if __name__ == "__main__":
    main()
