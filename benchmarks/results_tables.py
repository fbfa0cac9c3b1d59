"""Markdown tables for docs/results.md from the JSON reports of ``avsep evaluate(-real)``.

    python benchmarks/results_tables.py --synthetic runs/pcn/test.json runs/sop/test.json \
        --real runs/pcn/real.json runs/sop/real.json

Prints the tables; every figure comes from the reports as written, nothing is retyped.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def _f(x: float) -> str:
    return f"{x:.2f}"


def synthetic(reports: list[dict]) -> str:
    first = reports[0]
    lines = [
        f"{first['scored_mixtures']} mixtures of {first['num_mix']} from `{first['index']}` "
        f"(seed {first['seed']}, {first['mask']} masks; {first['metric']}). Mean (median) in dB.",
        "",
        "| system | SDR | SIR | SAR | SDRi |",
        "|---|---|---|---|---|",
    ]
    for r in reports:
        res = r["results"]["model"]
        lines.append(
            f"| {r['arch'].upper()} (`{r['model']}`) | {_f(res['sdr']['mean'])} ({_f(res['sdr']['median'])}) | "
            f"{_f(res['sir']['mean'])} | {_f(res['sar']['mean'])} | {_f(r['sdri']['mean'])} |"
        )
    for key, name in (("oracle_ibm", "oracle ideal binary mask (ceiling)"), ("mixture", "mixture (floor)")):
        res = first["results"][key]
        lines.append(
            f"| {name} | {_f(res['sdr']['mean'])} ({_f(res['sdr']['median'])}) | {_f(res['sir']['mean'])} | "
            f"{_f(res['sar']['mean'])} | - |"
        )
    return "\n".join(lines)


def real(reports: list[dict]) -> str:
    lines = [
        "Means in dB over outputs. Right box: share of outputs that correlate more with their own "
        "source than with the other (in brackets: the same for the unseparated mixture).",
        "",
        "| model | set | items | outputs | SDR | SDRi | SIR | SAR | mixture SDR | right box |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in reports:
        for name, s in r["sets"].items():
            rb = s["right_box_rate"]
            right = "-" if rb != rb else f"{100 * rb:.0f}% ({100 * s['mixture_right_box_rate']:.0f}%)"
            lines.append(
                f"| {r['arch'].upper()} | {name} | {s['items']} | {s['outputs']} | {_f(s['sdr']['mean'])} | "
                f"{_f(s['sdri']['mean'])} | {_f(s['sir']['mean'])} | {_f(s['sar']['mean'])} | "
                f"{_f(s['mixture_sdr']['mean'])} | {right} |"
            )
    skipped = sorted({line for r in reports for line in r.get("skipped", [])})
    lines += [""] + [f"Skipped: {line}" for line in skipped]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--synthetic", nargs="*", type=Path, default=[])
    ap.add_argument("--real", nargs="*", type=Path, default=[])
    args = ap.parse_args()
    if args.synthetic:
        print(synthetic([json.loads(p.read_text()) for p in args.synthetic]))
        print()
    if args.real:
        print(real([json.loads(p.read_text()) for p in args.real]))


if __name__ == "__main__":
    main()
