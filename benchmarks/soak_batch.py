"""Soak test of a batch: many short videos, some broken, through ``avsep separate --jobs``.

    python3 benchmarks/soak_batch.py                          # 200 x 2 s videos, 10% broken, --jobs 2
    python3 benchmarks/soak_batch.py --count 40 --jobs 1,2    # smaller, both job counts
    python3 benchmarks/soak_batch.py --minute 2 --jobs 1,2    # files/hour on two 1-minute videos

Generates the videos (tests/media.py, 224x224 at 10 fps, two tones) in a temporary folder:
``--count`` files of ``--seconds`` each, every tenth one broken in turn as truncated, empty,
audio-only, without audio, or random bytes; some names carry spaces and non-ASCII letters.
Then runs the real ``avsep separate FOLDER --jobs N --report`` (bundled model, CPU, fixed
boxes) and checks and prints: exit code (2 when any input failed), written / failed counts
against the expected, each failure's reason, files per hour, the peak resident memory of each
worker sampled at the first quarter of the files and at the end (flat: no growth per file),
and that no temporary file or claim marker is left. ``--kill`` also kills the run with SIGKILL
half-way, re-runs it with ``--skip-existing`` and checks that every output is complete.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BROKEN = ("truncated", "empty", "audio-only", "no-audio", "random-bytes")
ODD_NAMES = ("concert hall {i}", "Konzert Überlänge {i}", "演奏 {i}", "take #{i} (live)")


def make_inputs(folder: Path, count: int, seconds: float) -> tuple[int, int]:
    """``count`` videos in ``folder`` (subfolders of 50); returns (good, broken) counts."""
    from tests.media import make_video, truncated_copy

    rng = random.Random(0)
    template = make_video(folder / "template.mp4", duration=seconds, width=224, height=224)
    good = broken = 0
    for i in range(count):
        sub = folder / f"part{i // 50}"
        sub.mkdir(exist_ok=True)
        stem = ODD_NAMES[i % len(ODD_NAMES)].format(i=i) if i % 7 == 0 else f"clip{i:04d}"
        path = sub / f"{stem}.mp4"
        kind = BROKEN[(i // 10) % len(BROKEN)] if i % 10 == 9 else None
        if kind is None:
            path.write_bytes(template.read_bytes())
            good += 1
            continue
        broken += 1
        if kind == "truncated":
            truncated_copy(template, path, 0.3)
        elif kind == "empty":
            path.write_bytes(b"")
        elif kind == "audio-only":
            make_video(path, duration=seconds, video=False)
        elif kind == "no-audio":
            make_video(path, duration=seconds, width=224, height=224, audio=False)
        else:
            path.write_bytes(rng.randbytes(20_000))
    template.unlink()
    return good, broken


def _children_rss(pid: int) -> dict[int, int]:
    """Resident KiB of each worker process of ``pid`` (multiprocessing's spawned children; not
    its resource tracker), from /proc."""
    out: dict[int, int] = {}
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
            if b"spawn_main" not in (status.parent / "cmdline").read_bytes():
                continue
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
        if fields.get("PPid", "").strip() == str(pid) and "VmRSS" in fields:
            out[int(status.parent.name)] = int(fields["VmRSS"].split()[0])
    return out


def run(inputs: Path, out: Path, jobs: int, extra: list[str], kill_after: int | None = None) -> dict:
    """One ``avsep separate`` run; returns its exit code, seconds, report and worker memory."""
    report = out.parent / f"{out.name}-report-{jobs}.json"
    cmd = [sys.executable, "-c", "from avsep.cli import run; run()", "separate", str(inputs), "-o", str(out)]
    cmd += ["-b", "0,0,112,224", "112,0,224,224", "--device", "cpu", "--jobs", str(jobs), "-q", "--report", str(report)]
    start = time.monotonic()
    proc = subprocess.Popen(cmd + extra, stderr=subprocess.PIPE, text=True)
    peaks: dict[int, int] = {}
    quarter: dict[int, int] = {}
    total = sum(1 for p in inputs.rglob("*.mp4"))
    while proc.poll() is None:
        for pid, rss in _children_rss(proc.pid).items():
            peaks[pid] = max(peaks.get(pid, 0), rss)
        done = json.loads(report.read_text())["finished"] if report.exists() else 0
        if not quarter and done >= total // 4:
            quarter = dict(peaks)
        if kill_after is not None and done >= kill_after:
            os.kill(proc.pid, signal.SIGKILL)
            for pid in _children_rss(proc.pid):
                os.kill(pid, signal.SIGKILL)
            break
        time.sleep(0.2)
    stderr = proc.communicate(timeout=60)[1]
    return {
        "code": proc.returncode,
        "seconds": time.monotonic() - start,
        "report": json.loads(report.read_text()) if report.exists() else {},
        "quarter_mb": {p: round(v / 1024) for p, v in quarter.items()},
        "peak_mb": {p: round(v / 1024) for p, v in peaks.items()},
        "stderr": stderr,
    }


def leftovers(out: Path) -> list[Path]:
    return [p for p in out.rglob("*") if p.name.endswith((".tmp", ".claim"))]


def soak(args: argparse.Namespace, work: Path) -> None:
    inputs = work / "in"
    inputs.mkdir()
    good, broken = make_inputs(inputs, args.count, args.seconds)
    print(f"{args.count} videos of {args.seconds} s: {good} good, {broken} broken ({', '.join(BROKEN)})")
    for jobs in args.jobs:
        out = work / f"out{jobs}"
        r = run(inputs, out, jobs, [])
        rep = r["report"]
        hours = r["seconds"] / 3600
        print(
            f"--jobs {jobs}: exit {r['code']}, {rep.get('written')} written, {rep.get('failed')} failed "
            f"in {r['seconds']:.0f} s = {args.count / hours:.0f} files/h; worker RSS MB at 1/4 {r['quarter_mb']} "
            f"-> peak {r['peak_mb']}; left behind: {len(leftovers(out))}"
        )
        reasons = sorted({e["reason"].split(": ", 1)[-1][:90] for e in rep.get("files", []) if e["status"] == "failed"})
        for reason in reasons:
            print(f"  failed: {reason}")
        ok = r["code"] == 2 and rep.get("written") == good and rep.get("failed") == broken and not leftovers(out)
        print(f"  {'PASS' if ok else 'FAIL'}: expected exit 2, {good} written, {broken} failed, nothing left behind")
    if args.kill:
        out = work / "killed"
        r = run(inputs, out, args.jobs[-1], [], kill_after=args.count // 3)
        stale = leftovers(out)
        again = run(inputs, out, args.jobs[-1], ["--skip-existing"])
        rep = again["report"]
        complete = len(list(out.rglob("*.wav"))) == 2 * good and not leftovers(out)
        print(
            f"kill -9 after {r['report'].get('finished')} files: {len(stale)} temp/claim files left; re-run with "
            f"--skip-existing: exit {again['code']}, {rep.get('skipped')} skipped, {rep.get('written')} written, "
            f"{rep.get('failed')} failed; every output complete and nothing left: {complete}"
        )


def minute(args: argparse.Namespace, work: Path) -> None:
    """Files per hour on 1-minute videos at each --jobs."""
    from tests.media import make_video

    inputs = work / "minute"
    inputs.mkdir()
    template = make_video(work / "m.mp4", duration=60.0, width=224, height=224)
    for i in range(args.minute):
        (inputs / f"m{i}.mp4").write_bytes(template.read_bytes())
    for jobs in args.jobs:
        r = run(inputs, work / f"mout{jobs}", jobs, [])
        print(
            f"1-minute videos, --jobs {jobs}: {args.minute} files in {r['seconds']:.0f} s = "
            f"{args.minute * 3600 / r['seconds']:.0f} files/h (exit {r['code']}); worker peak RSS MB {r['peak_mb']}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--jobs", default="2", help="comma-separated job counts")
    parser.add_argument("--kill", action="store_true", help="also kill -9 a run half-way and resume it")
    parser.add_argument("--minute", type=int, default=0, help="instead: N one-minute videos, files/hour")
    args = parser.parse_args()
    args.jobs = [int(j) for j in args.jobs.split(",")]
    from avsep.machine import machine_info

    print(json.dumps(machine_info()))
    with tempfile.TemporaryDirectory(prefix="avsep-soak-") as tmp:
        (minute if args.minute else soak)(args, Path(tmp))


if __name__ == "__main__":
    main()
