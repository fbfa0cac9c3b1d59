"""What finding the players adds to separating a video: ``avsep separate V`` vs the same with its boxes given.

    python -m benchmarks.auto_boxes_cost                          # the 1-minute bench video
    python -m benchmarks.auto_boxes_cost --minutes 1 10           # and the 10-minute one
    python -m benchmarks.auto_boxes_cost --minutes 10 --search-only   # the search alone
    python -m benchmarks.auto_boxes_cost --real --repeat 3        # + 60 s of a real video
    python -m benchmarks.auto_boxes_cost --json out.json

Each run is a fresh process separating one video on the CPU with the bundled model, the whole
command timed from start to exit (Python start, imports and model load included, as in
``bench_separate.py``). The boxes run is given, in a boxes file, exactly the boxes automatic mode
finds (``avsep info --json``, run once beforehand and not counted), so both separate the same
sources and differ only by the search. The two settings alternate, ``--repeat`` times each, and
the medians are compared: the extra wall time of automatic mode as a share of the same
separation with given boxes, and the median ratio of each automatic run to the boxes run just
before it (the pair saw the same load). Inside the automatic runs the search itself (the
``find players`` stage of :mod:`avsep.timing`, :func:`avsep.boxes.players.find_players`: decoding the
guide frames, the finder once per shot, linking, portraits) is timed too, and the finder's runs
counted; its frames are handed to the separation, so part of it is decoding the boxes run does
too. ``--search-only`` times just the ``avsep info --json`` run (for a long video on a busy
machine).

Videos: the 640 x 360 videos of ``bench_separate.py`` (two coloured halves with moving bars: the
picture changes between every two guide frames but never cuts; made once in its cache folder),
``--minutes`` long (default 1), and with ``--real`` the first 60 s of the real flute video in
``../shared/realclips`` (640 x 360, 30 fps, a player who sways and walks), remuxed without
re-encoding into a temporary folder.
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

from benchmarks import json_out

HERE = Path(__file__).resolve().parent
REAL_VIDEO = HERE.parents[1] / "shared" / "realclips" / "music-solo" / "flute" / "unRA0xR-XWc" / "video.mp4"

#: Runs in the child: an avsep command with its stages timed (avsep.timing) and the finder's
#: runs counted; prints one JSON line after the command's own output.
CHILD = """
import json, sys
from avsep.boxes.detect import PlayerFinder
from avsep.timing import StageTotals, report_stages
from avsep.cli.app import app
runs = [0]
detect = PlayerFinder.detect
def counted(self, *a, **k):
    runs[0] += 1
    return detect(self, *a, **k)
PlayerFinder.detect = counted
totals = StageTotals()
code = 0
with report_stages(totals):
    try:
        app(args=sys.argv[1:], prog_name="avsep")
    except SystemExit as e:
        code = e.code or 0
print(json.dumps({"find_players_s": totals.seconds.get("find players", 0.0), "finder_runs": runs[0], "code": code}))
from avsep.__main__ import exit_process
exit_process(code)  # ends as the avsep command does, with its status
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


def child(argv: list[str]) -> tuple[dict, str]:
    """``avsep ARGV`` in a fresh process: its wall time, search time and finder runs, and what
    the command printed."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", CHILD, *argv], capture_output=True, text=True, env=os.environ.copy())
    wall = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"avsep {argv[0]} failed:\n{done.stderr}")
    printed, _, last = done.stdout.strip().rpartition("\n")
    report = json.loads(last)
    return {"wall_s": wall, "find_players_s": report["find_players_s"], "finder_runs": report["finder_runs"]}, printed


def found_boxes(video: Path, folder: Path) -> tuple[Path, str, dict]:
    """What automatic mode finds in ``video`` (``avsep info --json``) as a boxes file for the
    boxes run, a line saying what it is, and the search's figures in that run."""
    figures, printed = child(["info", str(video), "--json"])
    report = json.loads(printed)
    path = folder / f"{video.stem}.boxes.json"
    path.write_text(json.dumps(report))
    found = f"{len(report['sources'])} sources ({report['method']}, {figures['finder_runs']} finder runs)"
    return path, found, figures


def run(video: Path, boxes: Path | None, out: Path) -> dict:
    """One fresh ``avsep separate`` process: with ``boxes`` (a boxes file), else automatic.
    The boxes run is guided by the frames (``--guide frames``) as found players are: the boxes
    file names its boxes, and names would otherwise stand in for the pictures and skip the trunk."""
    argv = ["separate", str(video), "-o", str(out), "--overwrite", "-q", "--device", "cpu"]
    return child(argv + (["--boxes-file", str(boxes), "--guide", "frames"] if boxes is not None else []))[0]


def load() -> str:
    """The 1-, 5- and 15-minute load averages: a loaded machine slows both settings, not alike."""
    return " ".join(f"{v:.1f}" for v in os.getloadavg())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument(
        "--minutes", type=float, nargs="*", default=[1.0], help="bench video lengths (default 1; none: only --real)"
    )
    ap.add_argument("--real", action="store_true", help="also 60 s of the real flute video")
    ap.add_argument("--json", type=Path)
    ap.add_argument(
        "--search-only",
        action="store_true",
        help="time only the search (avsep info --json, one process per video), not the separations",
    )
    args = ap.parse_args()

    from benchmarks.bench_separate import cache_dir, make_bench_video, video_path

    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        videos = {}
        for minutes in args.minutes:
            path = video_path(cache_dir(None), minutes, 5.0, 2.0)
            videos[f"bench {minutes:g} min"] = path if path.is_file() else make_bench_video(path, minutes)
        if args.real:
            if not REAL_VIDEO.is_file():
                sys.exit(f"{REAL_VIDEO} not found: --real needs ../shared/realclips")
            videos["real flute 60 s"] = trim(REAL_VIDEO, Path(tmp) / "flute60.mp4", 60.0)
        for name, video in videos.items():
            boxes_file, found, search = found_boxes(video, Path(tmp))
            if args.search_only:
                results[name] = {"found": found, "info": search, "load_average": os.getloadavg()}
                print(f"{name}, {found}: the search itself {search['find_players_s']:.2f} s (load average {load()})")
                continue
            runs: dict[str, list[dict[str, float]]] = {"boxes": [], "auto": []}
            for _ in range(args.repeat):
                for setting in ("boxes", "auto"):  # alternate: a load change hits both alike
                    given = boxes_file if setting == "boxes" else None
                    runs[setting].append(run(video, given, Path(tmp) / "out"))
            boxes = statistics.median(r["wall_s"] for r in runs["boxes"])
            auto = statistics.median(r["wall_s"] for r in runs["auto"])
            find = statistics.median(r["find_players_s"] for r in runs["auto"])
            # each automatic run over the boxes run just before it: the two saw the same load
            ratio = statistics.median(a["wall_s"] / b["wall_s"] for a, b in zip(runs["auto"], runs["boxes"]))
            results[name] = {
                "boxes_wall_s": boxes,
                "auto_wall_s": auto,
                "find_players_s": find,
                "extra_share": (auto - boxes) / boxes,
                "pair_ratio": ratio,
                "find_share": find / boxes,
                "found": found,
                "load_average": os.getloadavg(),
                "runs": runs,
            }
            print(
                f"{name}, {found}: separate with boxes {boxes:.1f} s, automatic {auto:.1f} s "
                f"(+{(auto - boxes) / boxes:.1%}; back-to-back pairs {ratio:.2f}x); the search itself "
                f"{find:.2f} s = {find / boxes:.1%} (medians of {args.repeat}; load average {load()})",
                flush=True,
            )
    if args.json:
        json_out(args.json).write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
