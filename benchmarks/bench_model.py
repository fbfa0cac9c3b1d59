"""Size and CPU speed of the networks, per 6-s window.

    python -m benchmarks.bench_model                      # PCN T=1..5, SoP, trunks; torch's threads
    python -m benchmarks.bench_model --threads 2 --repeat 10 --json model.json
    python -m benchmarks.bench_model --model weights/avsep-pcn-XXXXXXXX.pt   # a checkpoint's own config

One window is 65535 samples at 11025 Hz (5.94 s), i.e. a ``[1, 256, 256]`` log-frequency input.
Reported, all under ``torch.inference_mode``:

* mask networks (the PCN for each number of cycles T, the Sound of Pixels U-Net baseline):
  parameters, and forward time per window with ``--boxes`` guides per window (2 by default, as
  in the end-to-end benchmark), at batch 1 and batched (``--batch``, default 1 and 8 windows);
* the spectrogram front end (STFT + warp + log) and back end (unwarp + mask + iSTFT) per window;
* the visual trunks: parameters and time per 224 x 224 crop, one crop at a time and six at a
  time (one window: 2 boxes x 3 frames, how the separator feeds it on a CPU), as trained and
  with the batch norms folded into the convolutions (``folded``: how avsep runs them).

Times are the median of ``--repeat`` runs after ``--warmup`` untimed ones. They are only
meaningful on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
import warnings
from pathlib import Path

import torch

from benchmarks import json_out

ROOT = Path(__file__).resolve().parents[1]


def count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def timeit(fn, repeat: int, warmup: int) -> dict:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return {"median_s": statistics.median(times), "min_s": min(times), "runs": len(times)}


def mask_networks(args) -> list[tuple[str, torch.nn.Module]]:
    from avsep.models.pcn import PCN, PCNConfig
    from avsep.models.sop import SoP, SoPConfig

    torch.manual_seed(0)
    if args.model:
        from avsep.models.serialize import load_checkpoint

        ckpt = load_checkpoint(args.model)
        nets = []
        if ckpt.arch == "pcn":
            cfg = ckpt.model.config
            for t in args.cycles:
                net = PCN(PCNConfig(**{**cfg.__dict__, "cycles": t}))
                net.load_state_dict(ckpt.model.state_dict())
                nets.append((f"{Path(args.model).name} T={t}", net))
        else:
            nets.append((Path(args.model).name, ckpt.model))
        return nets
    nets = [(f"PCN default, T={t}", PCN(PCNConfig(visual_dim=args.visual_dim, cycles=t))) for t in args.cycles]
    nets.append(("SoP U-Net-7 (ngf 16, K 32)", SoP(SoPConfig(visual_dim=args.visual_dim))))
    return nets


def bench_mask_networks(args) -> list[dict]:
    from avsep.signal import dsp

    rows = []
    for name, net in mask_networks(args):
        net.eval()
        dim = net.visual.in_features
        row = {"network": name, "params": count(net), "per_window_ms": {}}
        for batch in args.batch:
            audio = torch.randn(batch, dsp.WINDOW_SAMPLES) * 0.1
            x = dsp.network_input(dsp.stft(audio).magnitude)
            visual = torch.rand(batch, args.boxes, dim)
            with torch.inference_mode():
                t = timeit(lambda net=net, x=x, visual=visual: net(x, visual), args.repeat, args.warmup)
            row["per_window_ms"][batch] = 1000 * t["median_s"] / batch
            row.setdefault("timings", {})[batch] = t
        rows.append(row)
        print(
            f"  {name:<34} {row['params']:>11,}  "
            + "  ".join(f"B={b}: {ms:7.1f} ms/window" for b, ms in row["per_window_ms"].items()),
            flush=True,
        )
    return rows


def bench_dsp(args) -> list[dict]:
    from avsep.signal import dsp

    rows = []
    for batch in args.batch:
        audio = torch.randn(batch, dsp.WINDOW_SAMPLES) * 0.1
        with torch.inference_mode():
            spec = dsp.stft(audio)
            rep = dsp.Spectrogram(
                spec.magnitude.repeat_interleave(args.boxes, 0),
                spec.phase.repeat_interleave(args.boxes, 0),
                spec.length,
            )
            masks = torch.rand(batch * args.boxes, dsp.WARP_BINS, dsp.WINDOW_FRAMES)
            front = timeit(lambda a=audio: dsp.network_input(dsp.stft(a).magnitude), args.repeat, args.warmup)
            back = timeit(lambda r=rep, m=masks: dsp.apply_mask(r, m, True), args.repeat, args.warmup)
        rows.append(
            {
                "batch": batch,
                "front_ms_per_window": 1000 * front["median_s"] / batch,
                "back_ms_per_window": 1000 * back["median_s"] / batch,
            }
        )
        print(
            f"  B={batch}: STFT+warp {rows[-1]['front_ms_per_window']:6.1f} ms/window, "
            f"unwarp+mask+iSTFT ({args.boxes} boxes) {rows[-1]['back_ms_per_window']:6.1f} ms/window",
            flush=True,
        )
    return rows


def bench_trunks(args) -> list[dict]:
    """Each trunk as trained and with its batch norms folded into its convolutions (how the
    separation and the player finder run it: ``VisualTrunk.fold``)."""
    from avsep.models.visual import build_trunk

    rows = []
    for name in args.trunks:
        for folded in (False, True):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # resnet18 without its ImageNet file: random weights
                trunk = build_trunk(name)
            params = count(trunk)
            if folded:
                trunk.fold()
            row = {"trunk": name, "folded": folded, "params": params, "per_crop_ms": {}}
            for crops in (1, 6):
                frames = torch.randint(0, 256, (max(1, crops // 3), min(crops, 3), 224, 224, 3), dtype=torch.uint8)
                with torch.inference_mode():
                    t = timeit(lambda tr=trunk, f=frames: tr.guide(f), args.repeat, args.warmup)
                row["per_crop_ms"][crops] = 1000 * t["median_s"] / crops
            rows.append(row)
            label = f"{name}{' folded' if folded else ''}"
            print(
                f"  {label:<26} {row['params']:>11,}  "
                + "  ".join(f"{c} per forward: {ms:6.1f} ms/crop" for c, ms in row["per_crop_ms"].items()),
                flush=True,
            )
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cycles", default="1,2,3,4,5", help="PCN cycles T to time (default 1..5)")
    parser.add_argument("--batch", default="1,8", help="windows per forward (default 1,8)")
    parser.add_argument("--boxes", type=int, default=2, help="guides (boxes) per window (default 2)")
    parser.add_argument("--visual-dim", type=int, default=1280, help="guide size (1280: efficientnet_lite0)")
    parser.add_argument("--trunks", default="efficientnet_lite0,resnet18", help="visual trunks to time ('' for none)")
    parser.add_argument("--model", help="time this checkpoint's network instead of the default configurations")
    parser.add_argument("--threads", type=int, help="torch.set_num_threads (default: torch's choice)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args(argv)
    args.cycles = [int(c) for c in args.cycles.split(",") if c.strip()]
    args.batch = [int(b) for b in args.batch.split(",") if b.strip()]
    args.trunks = [t for t in args.trunks.split(",") if t.strip()]
    if args.threads:
        torch.set_num_threads(args.threads)
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} logical CPUs, "
        f"load {os.getloadavg()[0]:.2f}; {args.boxes} boxes per window, median of {args.repeat}",
        flush=True,
    )
    print("mask networks (parameters, forward time per window):", flush=True)
    nets = bench_mask_networks(args)
    print("spectrogram front and back end:", flush=True)
    dsp_rows = bench_dsp(args)
    trunks = []
    if args.trunks:
        print("visual trunks (parameters, time per 224x224 crop):", flush=True)
        trunks = bench_trunks(args)
    if args.json:
        from avsep.machine import machine_info

        json_out(args.json).write_text(
            json.dumps(
                {
                    "machine": machine_info(ROOT),
                    "settings": {k: v for k, v in vars(args).items() if k != "json"},
                    "mask_networks": nets,
                    "dsp": dsp_rows,
                    "trunks": trunks,
                },
                indent=2,
                default=str,
            )
        )
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
