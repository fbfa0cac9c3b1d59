"""End-to-end speed and memory of ``avsep separate`` on long videos, on the CPU.

    python -m benchmarks.bench_separate                        # 1, 5 and 10 min, bundled model
    python -m benchmarks.bench_separate --minutes 1 --repeat 3 --json results.json
    python -m benchmarks.bench_separate --random-model --minutes 0.25   # no trained model yet
    python -m benchmarks.bench_separate --minutes 1,10 --modes band-limited,full-band --repeat 2

For each length it generates (once, then cached) a synthetic 640x360 video with 44.1 kHz stereo
sound, and separates it with 2 boxes (the left and right halves) on the CPU, every run in a
fresh process. Reported per run:

* ``wall``: seconds from starting the process to its exit, as a user sees it (Python start,
  imports and model loading included);
* ``RTF``: real-time factor, wall / media duration (0.5 = twice as fast as real time);
* ``peak RSS``: the process's maximum resident memory (``wait4`` rusage of that child), plus
  RSS sampled after the first window and after the last, which shows whether memory grows;
* a per-stage breakdown of where the time went (exclusive seconds: a stage's time excludes the
  stages it calls).

The breakdown comes from the pipeline's own stage-timing hook (:mod:`avsep.timing`): the child
process runs the ordinary ``avsep separate`` command in-process inside
``avsep.timing.report_stages``, and the pipeline reports each stage (decoders, visual trunk,
mask network, STFT, stitcher, resamplers, WAV writer) as it ends. ``--no-profile`` runs the
installed ``avsep`` console script instead (wall time and peak RSS only), to confirm the hook
costs nothing measurable.

``--modes`` compares the full-band path (the default: masks applied to the soundtrack at its
rate and channels, :mod:`avsep.separation.fullband`) with the band-limited one (the model's mono 11,025 Hz
output resampled up, as before issue 19: ``Separator(full_band=False)``, which the child selects
by changing that parameter's default). The runs of the modes are interleaved (run 1 of each
mode, then run 2 of each, ...) so that a change in the machine's load hits every mode alike,
and each mode's median is printed against the first mode's.

Timings are only meaningful on an otherwise idle machine; say which CPU they came from.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: Bump when the generated content changes, so stale cached videos are not reused.
GENERATOR_VERSION = 1
WIDTH, HEIGHT = 640, 360
SAMPLE_RATE = 44100
BOXES = ["0,0,320,360", "320,0,640,360"]

#: ``--modes``: the separator's ``full_band`` in each.
MODES = {"full-band": True, "band-limited": False}

#: What is compared across ``--modes``, as medians over the repeats.
MEDIANS = ("wall_s", "cpu_s", "peak_rss_mb")

#: What the command does outside the pipeline's stages (the last row of the table's legend).
OTHER = "everything else inside the command (glue, progress bars, imports)"


def stages_legend() -> dict[str, str]:
    """Stage name -> what is in it: the pipeline's stages (:data:`avsep.timing.STAGES`), then other."""
    from avsep.timing import STAGES

    return {**STAGES, "other": OTHER}


# ------------------------------------------------------------------------------------------------
# test videos
# ------------------------------------------------------------------------------------------------


def cache_dir(arg: str | None) -> Path:
    if arg:
        return Path(arg)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "avsep-bench"


def video_path(folder: Path, minutes: float, fps: float, gop_s: float) -> Path:
    tag = f"{minutes:g}min-{WIDTH}x{HEIGHT}-{fps:g}fps-gop{gop_s:g}-v{GENERATOR_VERSION}"
    return folder / f"bench-{tag}.mp4"


def instrument(t, base_freqs, note_s, harmonics, decay):
    """A plucked-string-like part: a new note every ``note_s`` seconds, harmonics, decay."""
    import numpy as np

    note = np.floor(t / note_s).astype(np.int64)
    freq = np.asarray(base_freqs)[note % len(base_freqs)]
    since = t - note * note_s
    env = np.exp(-since / decay)
    x = np.zeros_like(t)
    for h in range(1, harmonics + 1):
        x += np.sin(2 * np.pi * freq * h * since) / h
    return env * x


def make_bench_video(path: Path, minutes: float, fps: float = 5.0, gop_s: float = 2.0) -> Path:
    """A ``minutes``-long 640x360 video: two coloured halves with a moving bar each, and two
    "instruments" (low, high) panned left/right in 44.1 kHz stereo AAC.

    Cheap to make: a frame is a few numpy slices, video is x264 ultrafast (mpeg4 if this FFmpeg
    lacks x264) at a low frame rate, audio is made and encoded a frame at a time, so a 10-minute
    file takes seconds and never sits in memory whole.
    """
    import av
    import numpy as np

    path.parent.mkdir(parents=True, exist_ok=True)
    duration = minutes * 60.0
    tmp = path.with_name(path.name + ".part.mp4")
    container = av.open(str(tmp), "w")
    rate = Fraction(fps).limit_denominator(1001)
    try:
        vcodec = "libx264" if "libx264" in av.codecs_available else "mpeg4"
        vstream = container.add_stream(vcodec, rate=rate)
        vstream.width, vstream.height, vstream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        vstream.codec_context.gop_size = max(1, round(gop_s * fps))
        if vcodec == "libx264":
            vstream.codec_context.options = {"preset": "ultrafast"}
        else:
            vstream.bit_rate = 1_000_000
        astream = container.add_stream("aac", rate=SAMPLE_RATE)
        astream.layout = "stereo"

        base = np.zeros((HEIGHT, WIDTH, 3), np.uint8)
        base[:, : WIDTH // 2] = (180, 60, 40)
        base[:, WIDTH // 2 :] = (40, 70, 170)
        frames = int(np.ceil(duration * fps))
        audio_pos = 0
        total = round(duration * SAMPLE_RATE)
        step = 1024

        def push_audio(until_s: float) -> None:
            nonlocal audio_pos
            end = min(total, round(until_s * SAMPLE_RATE))
            while audio_pos < end:
                n = min(step, end - audio_pos)
                t = (audio_pos + np.arange(n)) / SAMPLE_RATE
                low = instrument(t, (110.0, 147.0, 165.0, 196.0), 0.5, 6, 0.4)
                high = instrument(t, (880.0, 988.0, 1175.0, 1319.0, 1047.0), 0.3, 4, 0.15)
                left, right = 0.3 * low + 0.1 * high, 0.1 * low + 0.3 * high
                packed = np.stack([left, right], 1).astype(np.float32).reshape(1, -1)
                frame = av.AudioFrame.from_ndarray(packed, format="flt", layout="stereo")
                frame.sample_rate = SAMPLE_RATE
                frame.pts = audio_pos
                frame.time_base = Fraction(1, SAMPLE_RATE)
                for packet in astream.encode(frame):
                    container.mux(packet)
                audio_pos += n

        for k in range(frames):
            push_audio(k / fps)
            img = base.copy()
            x = int((k * 7) % (WIDTH // 2 - 40))
            img[100:260, x : x + 40] = 230  # a bar moving in the left half
            img[60:300, WIDTH // 2 + (WIDTH // 2 - 40 - x) :][:, :40] = 20  # and one in the right
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts = k
            frame.time_base = 1 / rate
            for packet in vstream.encode(frame):
                container.mux(packet)
        for packet in vstream.encode():
            container.mux(packet)
        push_audio(duration)
        for packet in astream.encode():
            container.mux(packet)
    except BaseException:
        container.close()
        tmp.unlink(missing_ok=True)
        raise
    container.close()
    os.replace(tmp, path)
    return path


# ------------------------------------------------------------------------------------------------
# models
# ------------------------------------------------------------------------------------------------


def random_default_model(folder: Path) -> Path:
    """A randomly initialised PCN with the default (product) configuration, saved like a bundled
    model. Its speed equals the trained model's; its output is noise."""
    import torch

    from avsep.models.pcn import PCN, PCNConfig
    from avsep.models.serialize import save_checkpoint
    from avsep.models.weights import DEFAULT_MODEL

    torch.manual_seed(0)
    model = PCN(PCNConfig(visual_dim=1280, channels=(16, 32, 64, 128, 128, 128, 128), cycles=4))
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / "tmp.pt"
    digest = save_checkpoint(tmp, model, backbone="efficientnet_lite0", training={"note": "random benchmark model"})
    final = folder / f"{DEFAULT_MODEL}-{digest[:8]}.pt"
    tmp.replace(final)
    return final


def resolve(model: str | None, random_model: bool, scratch: Path) -> Path:
    if random_model:
        return random_default_model(scratch / "weights")
    from avsep.errors import ModelError
    from avsep.models.weights import resolve_model

    try:
        return resolve_model(model).resolve()
    except ModelError as exc:
        sys.exit(f"{exc}\n(use --random-model to time a random model of the default configuration)")


# ------------------------------------------------------------------------------------------------
# the child: one profiled `avsep separate` run
# ------------------------------------------------------------------------------------------------


def _rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def child(spec_path: str) -> None:
    """Run one ``avsep separate`` in this process, listening to its stages; write a JSON.

    Memory is sampled each time a window is stitched (the stitcher's last run, which finishes
    the file rather than a window, is dropped).
    """
    started = time.perf_counter()
    spec = json.loads(Path(spec_path).read_text())
    from avsep.timing import StageTotals, report_stages, stage

    try:
        from avsep.__main__ import exit_process
    except ImportError:  # an older tree (--trees), whose command ends with Python's finalisation
        exit_process = sys.exit
    try:
        from avsep.__main__ import prepare_process
    except ImportError:  # an older tree, whose command sets nothing before torch loads
        pass
    else:
        prepare_process()  # as the command does, before torch loads

    totals = StageTotals()
    rss: list[int] = []

    def on_stage(name: str, seconds: float) -> None:
        totals(name, seconds)
        if name == "stitch":
            rss.append(_rss_bytes())

    code = 0
    with report_stages(on_stage), stage("other"):
        import torch

        from avsep.cli.app import app
        from avsep.separation.separator import Separator

        Separator.__init__.__kwdefaults__["full_band"] = MODES[spec.get("mode", "full-band")]

        try:
            app(args=spec["argv"], prog_name="avsep")
        except SystemExit as exc:
            code = exc.code or 0
    import resource

    windows = rss[:-1] or rss
    result = {
        "exit_code": code,
        "inside_s": time.perf_counter() - started,
        "stages": totals.seconds,
        "calls": totals.calls,
        "rss_trace": [(i + 1, len(windows), b) for i, b in enumerate(windows)],
        "maxrss_self_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "avsep_source": str(Path(sys.modules["avsep"].__file__).parent),
        "torch_threads": torch.get_num_threads(),
        "torch_interop_threads": torch.get_num_interop_threads(),
    }
    Path(spec["out"]).write_text(json.dumps(result))
    exit_process(code)  # ends as the avsep command does, so its peak memory is the command's


# ------------------------------------------------------------------------------------------------
# the parent
# ------------------------------------------------------------------------------------------------


def avsep_argv(
    video: Path, model: Path, out_dir: Path, batch_size: int | None, boxes: list[str] | None = BOXES
) -> list[str]:
    argv = [
        "separate",
        str(video),
        *(["--boxes", *boxes] if boxes else ["--sources", "2"]),
        "--model",
        str(model),
        "--device",
        "cpu",
        "-o",
        str(out_dir),
        "-q",
        "--overwrite",
    ]
    if batch_size:
        argv += ["--batch-size", str(batch_size)]
    return argv


def run_once(
    video: Path,
    model: Path,
    threads: int | None,
    profile: bool,
    scratch: Path,
    batch_size: int | None,
    mode: str = "full-band",
    boxes: list[str] | None = BOXES,
    tree: Path | None = None,
    python: str | None = None,
) -> dict:
    """One fresh process separating ``video``; ``boxes`` None finds the players (2 sources),
    ``tree``: the avsep source tree the child imports (another commit's checkout, so that
    before and after run interleaved in one invocation), ``python``: the interpreter it runs
    with (another venv; default this one)."""
    env = dict(os.environ)
    env.pop("AVSEP_WEIGHTS_DIR", None)
    if threads:
        env["OMP_NUM_THREADS"] = str(threads)
        env["MKL_NUM_THREADS"] = str(threads)
    if tree is not None:
        env["PYTHONPATH"] = str(tree)
    out_dir = Path(tempfile.mkdtemp(prefix="out-", dir=scratch))
    argv = avsep_argv(video, model, out_dir, batch_size, boxes)
    report = scratch / f"child-{time.monotonic_ns()}.json"
    if profile:
        spec = scratch / f"spec-{time.monotonic_ns()}.json"
        spec.write_text(json.dumps({"argv": argv, "out": str(report), "mode": mode}))
        cmd = [python or sys.executable, str(Path(__file__).resolve()), "--child", str(spec)]
    else:
        exe = None if python else shutil.which("avsep")  # another venv's avsep is its python's
        cmd = [exe, *argv] if exe else [python or sys.executable, "-m", "avsep", *argv]
    err_path = scratch / f"stderr-{time.monotonic_ns()}.txt"
    with err_path.open("w") as err:  # a file, not a pipe: a chatty child cannot block on it
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, cwd=scratch, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)  # this child's own rusage (peak RSS)
        wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    stderr = err_path.read_text(errors="replace")
    err_path.unlink()
    if proc.returncode != 0:
        sys.exit(f"avsep separate failed (exit {proc.returncode}):\n{stderr}")
    outputs = sorted(out_dir.rglob("*.wav"))
    if len(outputs) != 2:
        sys.exit(f"expected 2 output files, found {[str(p) for p in outputs]}")
    result = {
        "wall_s": wall,
        "peak_rss_bytes": usage.ru_maxrss * 1024,
        "user_s": usage.ru_utime,
        "sys_s": usage.ru_stime,
        "warnings": [line for line in stderr.splitlines() if line.strip()],
    }
    if profile:
        result.update(json.loads(report.read_text()))
        report.unlink()
    shutil.rmtree(out_dir, ignore_errors=True)
    return result


def result_row(minutes: float, threads: int | None, mode: str, video: Path, runs: list[dict]) -> dict:
    """One setting's runs: the median run by wall time, and each stage's median."""
    duration = minutes * 60.0
    best = sorted(runs, key=lambda r: r["wall_s"])[len(runs) // 2]  # the median run
    stage_names = {k for r in runs for k in r.get("stages", {})}
    stages = {k: statistics.median(r.get("stages", {}).get(k, 0.0) for r in runs) for k in stage_names}
    return {
        "minutes": minutes,
        "duration_s": duration,
        "threads": threads,
        "mode": mode,
        "video": str(video),
        "summary": summarise(best, duration),
        "medians": {k: statistics.median(summarise(r, duration)[k] for r in runs) for k in MEDIANS},
        "stages": stages,
        "runs": runs,
    }


def print_ratios(rows: list[dict]) -> None:
    """Each mode's medians against the first mode's, per length and thread count."""
    first = rows[0]["mode"]
    for r in rows:
        base = next(b for b in rows if (b["minutes"], b["threads"], b["mode"]) == (r["minutes"], r["threads"], first))
        if r is base:
            continue
        ratios = ", ".join(f"{k} {r['medians'][k] / base['medians'][k]:.2f}x" for k in MEDIANS)
        print(f"{r['minutes']:g} min, {r['mode']} / {first} (medians): {ratios}")


def mb(n: float) -> str:
    return f"{n / 2**20:.0f}"


def summarise(run: dict, duration: float) -> dict:
    trace = run.get("rss_trace") or []
    out = {
        "wall_s": run["wall_s"],
        "rtf": run["wall_s"] / duration,
        "peak_rss_mb": run["peak_rss_bytes"] / 2**20,
        "cpu_s": run["user_s"] + run["sys_s"],
    }
    if trace:
        out["rss_first_window_mb"] = trace[0][2] / 2**20
        out["rss_last_window_mb"] = trace[-1][2] / 2**20
        out["windows"] = trace[-1][0]
    return out


def print_table(rows: list[dict]) -> None:
    head = (
        f"{'minutes':>7} {'mode':>13} {'thr':>4} {'wall s':>8} {'RTF':>6} {'peak RSS MB':>12} "
        f"{'RSS 1st->last win MB':>21} {'CPU s':>7}"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        s = r["summary"]
        trace = (
            f"{s['rss_first_window_mb']:.0f} -> {s['rss_last_window_mb']:.0f}" if "rss_first_window_mb" in s else "-"
        )
        print(
            f"{r['minutes']:>7g} {r.get('mode', '-'):>13} {r['threads'] or '-':>4} "
            f"{s['wall_s']:>8.1f} {s['rtf']:>6.3f} "
            f"{s['peak_rss_mb']:>12.0f} {trace:>21} {s['cpu_s']:>7.1f}"
        )
    staged = [r for r in rows if r["stages"]]
    if not staged:
        return
    print()
    legend = stages_legend()
    names = list(legend)
    print("Per-stage time, seconds (median over repeats; exclusive):")
    head = f"{'stage':<14}" + "".join(
        f"{str(r['minutes']) + 'min/' + r['mode'][:4] + '/' + str(r['threads'] or '-') + 't':>16}" for r in staged
    )
    print(head)
    print("-" * len(head))
    for name in names:
        print(f"{name:<14}" + "".join(f"{r['stages'].get(name, 0.0):>16.2f}" for r in staged))
    print(f"{'(in command)':<14}" + "".join(f"{sum(r['stages'].values()):>16.2f}" for r in staged))
    print(f"{'(wall)':<14}" + "".join(f"{r['summary']['wall_s']:>16.2f}" for r in staged))
    print()
    for name, what in legend.items():
        print(f"  {name:<13} {what}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", default="1,5,10", help="comma-separated video lengths (default 1,5,10)")
    parser.add_argument("--model", help="checkpoint path or bundled name (default: the bundled model)")
    parser.add_argument(
        "--random-model",
        action="store_true",
        help="time a random PCN of the default configuration instead (same speed)",
    )
    parser.add_argument(
        "--threads", default="", help="comma-separated OMP_NUM_THREADS values to run with (default: torch's default)"
    )
    parser.add_argument("--repeat", type=int, default=1, help="runs per setting; the median is reported")
    parser.add_argument("--batch-size", type=int, help="pass --batch-size to avsep separate")
    parser.add_argument("--fps", type=float, default=5.0, help="frame rate of the generated videos")
    parser.add_argument("--gop", type=float, default=2.0, help="keyframe interval of the generated videos, s")
    parser.add_argument(
        "--no-profile", action="store_true", help="run the avsep console script itself: wall time and peak RSS only"
    )
    parser.add_argument(
        "--modes", default="full-band", help=f"comma-separated separation paths, interleaved ({', '.join(MODES)})"
    )
    parser.add_argument("--cache-dir", help="where generated videos are kept (default ~/.cache/avsep-bench)")
    parser.add_argument("--json", type=Path, help="write all results here")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child)
        return

    minutes = [float(m) for m in args.minutes.split(",") if m.strip()]
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    if not modes or set(modes) - set(MODES):
        parser.error(f"--modes takes {', '.join(MODES)}")
    if modes != ["full-band"] and args.no_profile:
        parser.error("--modes other than full-band need the in-process child (drop --no-profile)")
    threads = [int(t) for t in args.threads.split(",") if t.strip()] or [None]
    cache = cache_dir(args.cache_dir)
    from avsep.machine import machine_info

    info = machine_info(ROOT)
    print(
        f"CPU: {info['cpu']} ({info['logical_cpus']} logical), load {info['load_avg_at_start'][0]:.2f}, "
        f"torch {info['torch']} ({info['torch_threads']} threads by default)",
        flush=True,
    )
    rows = []
    with tempfile.TemporaryDirectory(prefix="avsep-bench-") as tmp:
        scratch = Path(tmp)
        model = resolve(args.model, args.random_model, scratch)
        print(f"model: {model}{' (random weights)' if args.random_model else ''}", flush=True)
        for m in minutes:
            video = video_path(cache, m, args.fps, args.gop)
            if not video.exists():
                t0 = time.perf_counter()
                make_bench_video(video, m, args.fps, args.gop)
                print(f"generated {video} in {time.perf_counter() - t0:.1f} s", flush=True)
            duration = m * 60.0
            for t in threads:
                runs: dict[str, list[dict]] = {mode: [] for mode in modes}
                for i in range(args.repeat):
                    for mode in modes:  # interleaved: a change of load hits every mode alike
                        run = run_once(video, model, t, not args.no_profile, scratch, args.batch_size, mode)
                        s = summarise(run, duration)
                        print(
                            f"  {m:g} min, {mode}, threads {t or 'default'}, run {i + 1}/{args.repeat}: "
                            f"{s['wall_s']:.1f} s wall, RTF {s['rtf']:.3f}, peak RSS {s['peak_rss_mb']:.0f} MB, "
                            f"CPU {s['cpu_s']:.1f} s",
                            flush=True,
                        )
                        runs[mode].append(run)
                rows += [result_row(m, t, mode, video, mode_runs) for mode, mode_runs in runs.items()]
    print()
    print_table(rows)
    if len(modes) > 1:
        print_ratios(rows)
    if len(rows) > 1:
        base = rows[0]["summary"]["peak_rss_mb"]
        for r in rows[1:]:
            if (r["threads"], r["mode"]) == (rows[0]["threads"], rows[0]["mode"]):
                growth = r["summary"]["peak_rss_mb"] / base - 1
                print(f"peak RSS at {r['minutes']:g} min vs {rows[0]['minutes']:g} min: {growth:+.1%}")
    if args.json:
        from benchmarks import json_out  # here: the profiled child runs this file as a script

        json_out(args.json).write_text(
            json.dumps(
                {
                    "machine": info,
                    "model": str(model),
                    "random_model": args.random_model,
                    "boxes": BOXES,
                    "profiled": not args.no_profile,
                    "stages_legend": stages_legend(),
                    "results": rows,
                },
                indent=2,
            )
        )
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
