"""CPU speed of one PCN training step, for choosing the training recipe.

    python -m benchmarks.bench_train_step                          # the candidates below
    python -m benchmarks.bench_train_step --threads 2 --repeat 8 --json step.json
    python -m benchmarks.bench_train_step --only fp32,bf16          # a subset (names as printed)

One step is what ``avsep train`` does per batch (:func:`avsep.train.loss.train_step`): the
mixture and source STFTs, warp, binary targets, the PCN forward and backward for every source
of the batch, gradient clipping and an AdamW update. Candidates:

* ``fp32``: the shipped recipe; ``bf16``: the same under ``torch.autocast("cpu", bfloat16)``
  (these CPUs have AMX / AVX-512 bf16 units);
* ``*-wide``: channels 32..256 instead of 16..128 (a bigger PCN);
* ``*-crop``: training crops of 32767 samples (128 STFT frames) instead of 65535, half the
  work per item; the network is fully convolutional, so it still runs on 256 frames at
  inference (whether that costs quality is for a validation run to say, not this script);
* ``*-compile``: ``torch.compile`` of the model (inductor, CPU), timed after its warm-up
  compilation (the compile time is reported separately).

Times are medians of ``--repeat`` steps after ``--warmup`` ones, with a fixed random batch
(batch 8, 2 sources of white-ish noise with random gains): the data pipeline is not timed.
Only meaningful on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import torch

from avsep.machine import machine_info
from avsep.models.pcn import PCN, PCNConfig
from avsep.train.loss import train_step
from benchmarks import json_out

ROOT = Path(__file__).resolve().parents[1]

WIDE = (32, 64, 128, 256, 256, 256, 256)
CANDIDATES = {
    "fp32": dict(amp=False, channels=PCNConfig.channels, samples=65535, compile=False),
    "bf16": dict(amp=True, channels=PCNConfig.channels, samples=65535, compile=False),
    "fp32-wide": dict(amp=False, channels=WIDE, samples=65535, compile=False),
    "bf16-wide": dict(amp=True, channels=WIDE, samples=65535, compile=False),
    "bf16-crop": dict(amp=True, channels=PCNConfig.channels, samples=32767, compile=False),
    "bf16-compile": dict(amp=True, channels=PCNConfig.channels, samples=65535, compile=True),
}


def bench(name: str, spec: dict, args) -> dict:
    torch.manual_seed(0)
    model = PCN(PCNConfig(visual_dim=args.visual_dim, channels=tuple(spec["channels"])))
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    compile_s = None
    run_model = model
    if spec["compile"]:
        run_model = torch.compile(model)
    audio = torch.randn(args.batch, 2, spec["samples"]) * torch.rand(args.batch, 2, 1) * 0.1
    visual = torch.randn(args.batch, 2, args.visual_dim)

    def step() -> None:
        train_step(run_model, optimizer, audio, visual, grad_clip=5.0, amp=spec["amp"])

    if spec["compile"]:
        start = time.perf_counter()
        step()
        compile_s = time.perf_counter() - start
    for _ in range(args.warmup):
        step()
    times = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return {
        "name": name,
        **{k: (list(v) if isinstance(v, tuple) else v) for k, v in spec.items()},
        "params": sum(p.numel() for p in model.parameters()),
        "s_per_step": statistics.median(times),
        "min_s": min(times),
        "compile_s": compile_s,
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--visual-dim", type=int, default=1280)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--only", default=None, help="comma-separated candidate names")
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    names = args.only.split(",") if args.only else list(CANDIDATES)
    unknown = [n for n in names if n not in CANDIDATES]
    if unknown:
        ap.error(f"unknown candidate(s) {unknown}; choose from {', '.join(CANDIDATES)}")
    print(machine_info())
    print(f"batch {args.batch}, 2 sources per mixture, visual dim {args.visual_dim}")
    print(f"{'candidate':<14} {'params':>9} {'crop':>6} {'s/step':>7} {'vs fp32':>8} {'compile s':>10}")
    rows = []
    for name in names:
        r = bench(name, CANDIDATES[name], args)
        rows.append(r)
        base = next((x["s_per_step"] for x in rows if x["name"] == "fp32"), None)
        rel = f"{base / r['s_per_step']:.2f}x" if base else "-"
        comp = f"{r['compile_s']:.1f}" if r["compile_s"] is not None else "-"
        print(f"{name:<14} {r['params']:>9,} {r['samples']:>6} {r['s_per_step']:>7.3f} {rel:>8} {comp:>10}", flush=True)
    if args.json:
        json_out(args.json).write_text(json.dumps({"machine": machine_info(), "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
