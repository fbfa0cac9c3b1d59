"""Soak test of a batch: many short videos, some broken, through ``avsep separate --jobs``.

    nice -n 10 python -m benchmarks.soak_batch                # 200 x 2 s videos, 10% broken, --jobs 2
    python -m benchmarks.soak_batch --count 40 --jobs 1,2     # smaller, both job counts
    python -m benchmarks.soak_batch --minute 6 --jobs 1,2     # files/hour on six 1-minute videos

Generates the videos (tests/media.py, 224x224 at 10 fps, two tones) in a temporary folder:
``--count`` files of ``--seconds`` each, every tenth one broken in turn as truncated, empty,
audio-only, without audio, or random bytes; every seventh is named with spaces, ``#``,
parentheses or non-ASCII letters (broken ones included). Then runs the real
``avsep separate FOLDER --jobs N --report`` (bundled model, CPU, fixed boxes) and checks and
prints: the exit code (2: some input failed), that exactly the good videos were written (each
output decodes to the video's length) and exactly the broken ones failed, one failure reason
per kind of breakage, files per hour, each worker's resident memory (the largest sample while
the first quarter of the files ran, while the last quarter ran, and the kernel's high-water
mark at the end: flat means no growth per file), and that no temporary file or claim marker
is left anywhere. What a ``kill -9`` of such a batch leaves and how the re-run completes it is
a test: ``tests/test_batch_archive.py::test_kill_9_of_a_jobs_2_batch_then_the_same_command_completes_it``.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

BROKEN = ("truncated", "empty", "audio-only", "no-audio", "random-bytes")
ODD_NAMES = ("concert hall {i}", "Konzert Überlänge {i}", "演奏 {i}", "take #{i} (live)")


def make_inputs(folder: Path, count: int, seconds: float) -> dict[Path, str | None]:
    """``count`` videos in ``folder`` (subfolders of 50): each path -> its kind of breakage
    (None: a good video)."""
    from tests.media import make_video, truncated_copy

    rng = random.Random(0)
    template = make_video(folder / "template.mp4", duration=seconds, width=224, height=224)
    made: dict[Path, str | None] = {}
    for i in range(count):
        sub = folder / f"part{i // 50}"
        sub.mkdir(exist_ok=True)
        stem = ODD_NAMES[i % len(ODD_NAMES)].format(i=i) if i % 7 == 0 else f"clip{i:04d}"
        path = sub / f"{stem}.mp4"
        kind = BROKEN[(i // 10) % len(BROKEN)] if i % 10 == 9 else None
        made[path] = kind
        if kind is None:
            path.write_bytes(template.read_bytes())
        elif kind == "truncated":
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
    return made


def _workers_memory(pid: int) -> dict[int, tuple[int, int]]:
    """Each worker process of batch ``pid`` (multiprocessing's spawned children, not its
    resource tracker) -> (resident KiB now, resident high-water mark KiB), from /proc."""
    out: dict[int, tuple[int, int]] = {}
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
            if b"spawn_main" not in (status.parent / "cmdline").read_bytes():
                continue
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
        if fields.get("PPid", "").strip() == str(pid) and "VmRSS" in fields:
            out[int(status.parent.name)] = (int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0]))
    return out


def _finished(report: Path) -> int:
    try:
        return json.loads(report.read_text())["finished"]
    except (OSError, ValueError, KeyError):
        return 0


def run(inputs: Path, out: Path, jobs: int, total: int) -> dict:
    """One ``avsep separate`` run; returns its exit code, seconds, report, and each worker's
    memory in MB: largest sample in the first and in the last quarter of the files, and the
    high-water mark last seen."""
    report = out.parent / f"{out.name}-report.json"
    cmd = [sys.executable, "-m", "avsep", "separate", str(inputs), "-o", str(out)]
    cmd += ["-b", "0,0,112,224", "112,0,224,224", "--device", "cpu", "--jobs", str(jobs), "-q", "--report", str(report)]
    print("$", " ".join(cmd[3:]), flush=True)
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True)
    first: dict[int, int] = {}
    last: dict[int, int] = {}
    hwm: dict[int, int] = {}
    while proc.poll() is None:
        done = _finished(report)
        for pid, (rss, high) in _workers_memory(proc.pid).items():
            hwm[pid] = high
            if done < total / 4:
                first[pid] = max(first.get(pid, 0), rss)
            elif done >= 3 * total / 4:
                last[pid] = max(last.get(pid, 0), rss)
        time.sleep(0.5)
    stderr = proc.communicate()[1]
    return {
        "code": proc.returncode,
        "seconds": time.monotonic() - start,
        "report": json.loads(report.read_text()) if report.exists() else {},
        "memory_mb": {
            p: (round(first.get(p, 0) / 1024), round(last.get(p, 0) / 1024), round(h / 1024)) for p, h in hwm.items()
        },
        "stderr": stderr,
    }


def leftovers(folder: Path) -> list[Path]:
    """Temporary files and claim markers anywhere under ``folder``."""
    return [p for p in folder.rglob("*") if p.name.endswith((".tmp", ".claim"))]


def _outputs_whole(entries: list[dict], seconds: float) -> bool:
    """Every output of the written entries decodes to the video's length."""
    import soundfile as sf

    outputs = [o["path"] for e in entries for o in e["outputs"]]
    return bool(outputs) and all(abs(len(sf.read(p)[0]) / sf.info(p).samplerate - seconds) < 0.1 for p in outputs)


def check(made: dict[Path, str | None], r: dict, work: Path, seconds: float) -> bool:
    """Print what the run did against what it should have done; True when all is as expected."""
    files = r["report"].get("files", [])
    written = {Path(e["input"]) for e in files if e["status"] == "written"}
    failed = {Path(e["input"]): e["reason"] for e in files if e["status"] == "failed"}
    good = {p for p, kind in made.items() if kind is None}
    for kind in BROKEN:
        reasons = sorted({failed.get(p, "NOT REPORTED").split(": ", 1)[-1] for p, k in made.items() if k == kind})
        print(f"  {kind}: {' | '.join(reasons)}")
    whole = _outputs_whole([e for e in files if e["status"] == "written"], seconds)
    left = leftovers(work)
    ok = r["code"] == 2 and written == good and set(failed) == set(made) - good and whole and not left
    one_line = all(reason and "\n" not in reason for reason in failed.values())
    print(
        f"  {'PASS' if ok and one_line else 'FAIL'}: exit {r['code']} (want 2); {len(written)} written "
        f"(want the {len(good)} good ones: {written == good}), {len(failed)} failed (want the "
        f"{len(made) - len(good)} broken ones: {set(failed) == set(made) - good}), one-line reasons: {one_line}, "
        f"outputs whole: {whole}, left behind: {[str(p) for p in left]}"
    )
    return ok and one_line


def soak(args: argparse.Namespace, work: Path) -> bool:
    inputs = work / "in"
    inputs.mkdir()
    made = make_inputs(inputs, args.count, args.seconds)
    broken = sum(kind is not None for kind in made.values())
    print(f"{args.count} videos of {args.seconds} s: {args.count - broken} good, {broken} broken ({', '.join(BROKEN)})")
    ok = True
    for jobs in args.jobs:
        r = run(inputs, work / f"out{jobs}", jobs, args.count)
        print(
            f"--jobs {jobs}: {r['seconds']:.0f} s = {args.count * 3600 / r['seconds']:.0f} files/h; worker RSS MB "
            f"(max in the first quarter, max in the last quarter, high-water mark) {r['memory_mb']}"
        )
        ok = check(made, r, work, args.seconds) and ok
    return ok


def minute(args: argparse.Namespace, work: Path) -> bool:
    """Files per hour on 1-minute videos at each --jobs."""
    from tests.media import make_video

    inputs = work / "minute"
    inputs.mkdir()
    template = make_video(work / "m.mp4", duration=60.0, width=224, height=224)
    for i in range(args.minute):
        (inputs / f"m{i}.mp4").write_bytes(template.read_bytes())
    ok = True
    for jobs in args.jobs:
        r = run(inputs, work / f"mout{jobs}", jobs, args.minute)
        print(
            f"1-minute videos, --jobs {jobs}: {args.minute} files in {r['seconds']:.0f} s = "
            f"{args.minute * 3600 / r['seconds']:.0f} files/h (exit {r['code']}); worker RSS MB {r['memory_mb']}"
        )
        ok = ok and r["code"] == 0
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--jobs", default="2", help="comma-separated job counts")
    parser.add_argument("--minute", type=int, default=0, help="instead: N one-minute videos, files/hour")
    args = parser.parse_args()
    args.jobs = [int(j) for j in args.jobs.split(",")]
    from avsep.machine import machine_info

    print(json.dumps(machine_info()))
    with tempfile.TemporaryDirectory(prefix="avsep-soak-") as tmp:
        ok = (minute if args.minute else soak)(args, Path(tmp))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
