"""Markdown tables for docs/results.md from the JSON reports of ``avsep evaluate(-real)``.

    python -m benchmarks.results_tables --synthetic runs/pcn/test.json runs/sop/test.json \
        --real runs/pcn/real.json runs/sop/real.json
    python -m benchmarks.results_tables --ablation "label guide=runs/r8" "SoP=runs/r6"

An ablation row reads, from its run folder, the reports ``runs/ablate.sh`` writes:
``test-synth.json`` and ``test-real.json`` (``avsep evaluate``) and ``real-{soft,binary}.json``
(``avsep evaluate-real``); with ``+oracle`` after the folder the ``*-oracle.json`` ones.

Prints the tables; every figure comes from the reports as written, nothing is retyped.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def _f(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}"


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


#: The real-clip sets of the ablation table, in column order.
REAL_SETS = ("duets", "fcsn-2mix", "fcsn-3mix", "clipsep-demo")


def _report(folder: Path, name: str) -> dict | None:
    path = folder / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def ablation(rows: list[str]) -> str:
    """One line per run and mask: SDRi in dB on every test set (right box for the duets)."""
    lines = [
        "SDRi in dB (mean over outputs); duets also the right-box share. `-`: not measured.",
        "",
        "| run | mask | synthetic test | real-audio test | duets SDRi | duets right box | "
        "FCSN 2-mix | FCSN 3-mix | clipsep demo |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        label, _, spec = row.partition("=")
        folder, _, flag = spec.partition("+")
        suffix = "-oracle" if flag == "oracle" else ""
        for mask in ("soft", "binary"):
            real = _report(Path(folder), f"real-{mask}{suffix}")
            cells = []
            for test in ("test-synth", "test-real"):
                rep = _report(Path(folder), f"{test}{suffix}") if mask == "soft" else None
                cells.append(_f(rep["sdri"]["mean"]) if rep else "-")
            sets = real["sets"] if real else {}
            for name in REAL_SETS:
                s = sets.get(name)
                cells.append(_f(s["sdri"]["mean"]) if s else "-")
                if name == "duets":
                    cells.append(f"{100 * s['right_box_rate']:.0f}%" if s else "-")
            if any(c != "-" for c in cells):
                lines.append(f"| {label} | {mask} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--synthetic", nargs="*", type=Path, default=[])
    ap.add_argument("--real", nargs="*", type=Path, default=[])
    ap.add_argument("--ablation", nargs="*", default=[], metavar="LABEL=RUN[+oracle]")
    args = ap.parse_args()
    if args.ablation:
        print(ablation(args.ablation))
        print()
    if args.synthetic:
        print(synthetic([json.loads(p.read_text()) for p in args.synthetic]))
        print()
    if args.real:
        print(real([json.loads(p.read_text()) for p in args.real]))


if __name__ == "__main__":
    main()
