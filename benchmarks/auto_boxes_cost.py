"""What finding the players adds to separating a video: ``avsep separate V`` vs ``--boxes strips``.

    python benchmarks/auto_boxes_cost.py                          # the 1-minute bench video
    python benchmarks/auto_boxes_cost.py --real --repeat 3        # + 60 s of a real video
    python benchmarks/auto_boxes_cost.py --json out.json

Each run is a fresh process separating one video on the CPU with the bundled model, the whole
command timed from start to exit (Python start, imports and model load included, as in
``bench_separate.py``). The two settings alternate, ``--repeat`` times each, and the medians are
compared: the extra wall time of automatic mode as a share of the same separation with given
boxes. Inside the automatic runs the search itself (``Separator.find_players``: decoding the
guide frames, the finder on the frames whose picture changed, linking, portraits) is timed too,
so the share is seen both ways.

Videos: the 1-minute 640 x 360 video of ``bench_separate.py`` (two coloured halves with moving
bars; made once in its cache folder), and with ``--real`` the first 60 s of the real flute
video in ``../shared/realclips`` (640 x 360, 30 fps, a player who moves: the finder re-runs
whenever the picture changes), remuxed without re-encoding into a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REAL_VIDEO = HERE.parents[1] / "shared" / "realclips" / "music-solo" / "flute" / "unRA0xR-XWc" / "video.mp4"

#: Runs in the child: ``avsep separate`` with find_players timed; prints one JSON line.
CHILD = """
import json, sys, time
import avsep.separate as s
spent = [0.0]
find = s.Separator.find_players
def timed(self, *a, **k):
    t = time.perf_counter()
    try:
        return find(self, *a, **k)
    finally:
        spent[0] += time.perf_counter() - t
s.Separator.find_players = timed
from avsep.cli import app
try:
    app(args=sys.argv[1:], prog_name="avsep")
except SystemExit as e:
    code = e.code or 0
print(json.dumps({"find_players_s": spent[0], "code": code}))
"""


def trim(src: Path, dst: Path, seconds: float) -> Path:
    """The first ``seconds`` of ``src``, packets copied (no re-encoding)."""
    import av

    with av.open(str(src)) as inp, av.open(str(dst), "w") as out:
        streams = {s.index: out.add_stream_from_template(s) for s in inp.streams if s.type in ("video", "audio")}
        for packet in inp.demux(*[inp.streams[i] for i in streams]):
            if packet.dts is None or packet.pts is None:
                continue
            if float(packet.pts * packet.time_base) >= seconds:
                continue
            packet.stream = streams[packet.stream.index]
            out.mux(packet)
    return dst


def run(video: Path, auto: bool, out: Path) -> dict[str, float]:
    argv = ["separate", str(video), "-o", str(out), "--overwrite", "-q", "--device", "cpu"]
    if not auto:
        argv += ["--boxes", "strips"]
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", CHILD, *argv], capture_output=True, text=True, env=os.environ.copy())
    wall = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"avsep separate failed:\n{done.stderr}")
    report = json.loads(done.stdout.strip().splitlines()[-1])
    return {"wall_s": wall, "find_players_s": report["find_players_s"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--real", action="store_true", help="also 60 s of the real flute video")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()

    sys.path.insert(0, str(HERE))
    from bench_separate import cache_dir, make_bench_video, video_path

    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        videos = {"bench 1 min": video_path(cache_dir(None), 1.0, 5.0, 2.0)}
        if not videos["bench 1 min"].is_file():
            make_bench_video(videos["bench 1 min"], 1.0)
        if args.real:
            if not REAL_VIDEO.is_file():
                sys.exit(f"{REAL_VIDEO} not found: --real needs ../shared/realclips")
            videos["real flute 60 s"] = trim(REAL_VIDEO, Path(tmp) / "flute60.mp4", 60.0)
        for name, video in videos.items():
            runs: dict[str, list[dict[str, float]]] = {"boxes": [], "auto": []}
            for _ in range(args.repeat):
                for setting in ("boxes", "auto"):  # alternate: a load change hits both alike
                    runs[setting].append(run(video, setting == "auto", Path(tmp) / "out"))
            boxes = statistics.median(r["wall_s"] for r in runs["boxes"])
            auto = statistics.median(r["wall_s"] for r in runs["auto"])
            find = statistics.median(r["find_players_s"] for r in runs["auto"])
            results[name] = {
                "boxes_wall_s": boxes,
                "auto_wall_s": auto,
                "find_players_s": find,
                "extra_share": (auto - boxes) / boxes,
                "find_share": find / boxes,
                "runs": runs,
            }
            print(
                f"{name}: separate with boxes {boxes:.1f} s, automatic {auto:.1f} s "
                f"(+{(auto - boxes) / boxes:.1%}); the search itself {find:.2f} s = {find / boxes:.1%} "
                f"(medians of {args.repeat})",
                flush=True,
            )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
