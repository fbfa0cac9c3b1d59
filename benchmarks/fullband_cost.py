"""CPU cost of the full-band path against the band-limited one, in one process (issue 19).

    python -m benchmarks.fullband_cost VIDEO [--repeat 2]

Separates ``VIDEO`` (e.g. the 1-minute video ``bench_separate.py`` generates, 44.1 kHz stereo)
with 2 boxes, alternating the band-limited path (``Separator(full_band=False)``: mono 11,025 Hz
masks resampled up, as before issue 19) and the full-band one (the default), and prints the CPU
seconds of each (``time.process_time``: all threads of this process) and the wall seconds. CPU
time is what to compare on a shared machine, where wall time depends on the other jobs.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("video", type=Path)
    ap.add_argument("--repeat", type=int, default=2, help="runs per path; the median is printed")
    ap.add_argument("--threads", type=int, default=1, help="torch threads")
    args = ap.parse_args()

    import torch

    from avsep import Separator
    from avsep.io.media import probe

    torch.set_num_threads(args.threads)
    info = probe(args.video)
    width, height = info.video.width, info.video.height
    boxes = [(0, 0, width // 2, height), (width // 2, 0, width, height)]
    separator = Separator(device="cpu")
    times: dict[str, list[tuple[float, float]]] = {"band-limited": [], "full-band": []}
    for _ in range(args.repeat):
        for name in times:
            separator.full_band = name == "full-band"
            cpu, wall = time.process_time(), time.perf_counter()
            result = separator.separate_file(args.video, boxes)
            times[name].append((time.process_time() - cpu, time.perf_counter() - wall))
            print(f"{name}: output {result.sources.shape}, {times[name][-1][0]:.1f} s CPU", file=sys.stderr)
    print(
        f"{args.video.name}: {info.duration:.0f} s, {info.audio.sample_rate} Hz, {info.audio.channels} ch; "
        f"{args.threads} torch thread(s), median of {args.repeat}"
    )
    base = statistics.median(c for c, _ in times["band-limited"])
    for name, runs in times.items():
        cpu = statistics.median(c for c, _ in runs)
        wall = statistics.median(w for _, w in runs)
        print(f"{name:<14} CPU {cpu:7.1f} s ({cpu / base:.2f}x)   wall {wall:7.1f} s")


if __name__ == "__main__":
    main()
