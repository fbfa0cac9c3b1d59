"""Per-instrument SDRi of an ``avsep evaluate`` report: where the held-out losses are.

    python -m benchmarks.per_class runs/cont/test-real-ratio.json

Prints, per class, the mean SDRi (model SDR minus mixture SDR) over the outputs of that
class's sources and how many outputs there were.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict

import numpy as np


def per_class(report: dict) -> dict[str, tuple[float, int]]:
    rows: dict[str, list[float]] = defaultdict(list)
    for mix in report["mixtures"]:
        if "model" not in mix:
            continue
        for k, source in enumerate(mix["sources"]):
            rows[source["class"]].append(mix["model"]["sdr"][k] - mix["mixture"]["sdr"][k])
    return {cls: (float(np.mean(v)), len(v)) for cls, v in sorted(rows.items())}


def main() -> None:
    for path in sys.argv[1:]:
        print(path)
        for cls, (mean, n) in per_class(json.loads(open(path).read())).items():
            print(f"  {cls:<16} {mean:+6.2f} dB  ({n} outputs)")


if __name__ == "__main__":
    main()
