"""Peak memory of automatic mode's finder pass alone, and what its kept crops do to it (issue 30).

    python -m benchmarks.finder_memory                         # 720p, 10 min: store vs heap
    python -m benchmarks.finder_memory --video 720p --ways store

Runs :func:`avsep.boxes.players.find_players` on a ``bench_phone`` video (made and cached as
that benchmark makes it) in a fresh child process per run, and prints its wall time, the
process's peak RSS before and after the pass, the RSS when it returns and the frames it kept.
``--ways``: ``store`` is the product (kept crops copied into blocks of their own,
:class:`avsep.boxes.kept.CropStore`); ``heap`` keeps each frame's crops where
:func:`~avsep.io.video.crop_boxes` put them, in the heap between the frames' temporaries, as
before 2026-12-06; ``none`` keeps no crops (the separation would decode them all again). The
difference between ``heap`` and ``none`` is what keeping costs; between ``store`` and ``none``,
what it costs now. One torch thread, as on a loaded worker.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from benchmarks import json_out
from benchmarks.bench_phone import VIDEOS, make_phone_video
from benchmarks.bench_separate import ROOT, cache_dir

WAYS = ("store", "heap", "none")


def child(video: str, way: str) -> None:
    """One finder pass in this process; prints one JSON line."""
    import resource
    import time

    import torch

    from avsep.boxes import kept, players
    from avsep.boxes.detect import player_finder

    torch.set_num_threads(1)
    if way == "heap":
        kept.CropStore.keep = lambda self, array: array  # type: ignore[method-assign]
    elif way == "none":
        players.KEEP_FRAMES_BYTES = 0
    finder = player_finder()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start = time.perf_counter()
    plan = players.find_players(video, finder)
    wall = time.perf_counter() - start
    with open("/proc/self/statm") as f:
        after = int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    row = {"way": way, "wall_s": wall, "peak_before_mb": before, "peak_mb": peak, "rss_after_mb": after}
    print(json.dumps({**row, "frames_kept": len(plan.decoded)}))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--video", default="720p-10min", choices=sorted(VIDEOS), help="a bench_phone video")
    parser.add_argument("--ways", default="store,heap", help=f"comma-separated, of {', '.join(WAYS)}")
    parser.add_argument("--cache-dir", help="where generated videos are kept (default ~/.cache/avsep-bench)")
    parser.add_argument("--json", type=Path, help="write the rows here")
    parser.add_argument("--child", nargs=2, metavar=("VIDEO", "WAY"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(*args.child)
        return
    ways = [w for w in args.ways.split(",") if w]
    if set(ways) - set(WAYS):
        parser.error(f"--ways takes {', '.join(WAYS)}")
    spec = VIDEOS[args.video]
    video = spec.path(cache_dir(args.cache_dir), args.video)
    if not video.exists():
        make_phone_video(video, spec)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    rows = []
    print(f"{video.name}, load average {os.getloadavg()[0]:.2f}")
    for way in ways:
        cmd = [sys.executable, "-m", "benchmarks.finder_memory", "--child", str(video), way]
        out = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, check=True).stdout
        row = json.loads(out.strip().splitlines()[-1])
        rows.append(row)
        print(
            f"  {way:>5}: {row['wall_s']:5.1f} s, peak RSS {row['peak_before_mb']:4.0f} -> {row['peak_mb']:4.0f} MB, "
            f"RSS after {row['rss_after_mb']:4.0f} MB, {row['frames_kept']} frames kept"
        )
    if args.json:
        json_out(args.json).write_text(json.dumps({"video": video.name, "rows": rows}))
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
