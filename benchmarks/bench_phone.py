"""Separating phone and concert videos: where the time and memory go (issue 30).

    python -m benchmarks.bench_phone                              # 720p, 2 min: boxes and automatic
    python -m benchmarks.bench_phone --videos 720p,1080p,cuts --repeat 3
    python -m benchmarks.bench_phone --trees /tmp/avsep-base,.   # before/after, interleaved
    python -m benchmarks.bench_phone --trees /tmp/avsep-base=/tmp/old-venv/bin/python,.   # two venvs
    python -m benchmarks.bench_phone --videos 720p-10min --modes boxes

The videos look like what a phone records, which the 640x360 5 fps videos of
``bench_separate.py`` do not: 30 fps H.264 with the encoder's default keyframe interval (x264:
250 frames, so a seek decodes up to 8 s of pictures), 48 kHz stereo AAC, two players (a body
and a bowing arm each, on a textured background that sways as a hand-held camera does). They
are made once with PyAV and cached (``--cache-dir``):

* ``720p``: 1280x720, 120 s;  ``1080p``: 1920x1080, 120 s;  ``720p-10min``: 1280x720, 600 s;
* ``cuts``: a 1280x640 60-s duet whose picture cuts every 2 s between two shots (a music
  video's editing: the finder of automatic mode runs again at every cut).

Each run is a fresh process (``bench_separate.py``'s profiled child: the ordinary ``avsep
separate`` in-process under :mod:`avsep.timing`) with the bundled model on the CPU, ``--modes``
``boxes`` (the left and right halves given) and ``auto`` (``--sources 2``: the players found; on
these drawn players the finder may fall back to strips, which costs the same search). Printed:
per-stage seconds (median over ``--repeat``), wall, RTF and peak RSS (the child's ``wait4``
rusage). ``--trees`` runs the same settings with each source tree on ``PYTHONPATH`` (e.g. a
``git archive`` of the base commit and this checkout), interleaved run by run, so that a change
in the machine's load hits before and after alike; ``TREE=PYTHON`` runs a tree with another
venv's interpreter (a change of dependencies). Say the load average with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from benchmarks import json_out
from benchmarks.bench_separate import ROOT, cache_dir, instrument, resolve, run_once, stages_legend, summarise

#: Bump when the generated content changes, so stale cached videos are not reused.
GENERATOR_VERSION = 1
FPS = 30
SAMPLE_RATE = 48000
MODES = ("boxes", "auto")


@dataclass(frozen=True)
class PhoneVideo:
    width: int
    height: int
    seconds: float
    cut_s: float | None = None  # the picture cuts between two shots this often
    key_s: float | None = None  # a keyframe this often (phones: 1-2 s); None: x264's default, 250 frames

    def boxes(self) -> list[str]:
        """The two players' halves of the frame, as ``--boxes`` takes them."""
        half = self.width // 2
        return [f"0,0,{half},{self.height}", f"{half},0,{self.width},{self.height}"]

    def path(self, folder: Path, name: str) -> Path:
        return folder / f"phone-{name}-{self.width}x{self.height}-{self.seconds:g}s-v{GENERATOR_VERSION}.mp4"

    def encoder_options(self) -> dict[str, str]:
        """x264's: superfast (CABAC and B-frames, as a phone's encoder uses them), and the
        keyframe interval when one is set."""
        every = {"x264-params": f"keyint={round(self.key_s * FPS)}"} if self.key_s else {}
        return {"preset": "superfast", **every}


VIDEOS = {
    "720p": PhoneVideo(1280, 720, 120.0),
    "1080p": PhoneVideo(1920, 1080, 120.0),
    "720p-10min": PhoneVideo(1280, 720, 600.0),
    "cuts": PhoneVideo(1280, 640, 60.0, cut_s=2.0),
    "720p-key1s": PhoneVideo(1280, 720, 120.0, key_s=1.0),
}


def _shot(spec: PhoneVideo, seed: int):
    """One camera set-up: a textured background and two players' colours and places."""
    import numpy as np

    rng = np.random.default_rng(seed)
    pad = 16  # room for the sway
    texture = rng.integers(0, 48, (spec.height + 2 * pad, spec.width + 2 * pad, 1), np.uint8)
    tint = rng.integers(40, 160, 3).astype(np.uint8)
    background = np.clip(texture.astype(np.int16) + tint, 0, 255).astype(np.uint8)
    colours = rng.integers(60, 230, (2, 3)).astype(np.uint8)
    scale = 0.5 + 0.3 * rng.random()  # how much of the height a player fills
    return background, colours, scale, pad


def _picture(spec: PhoneVideo, shots: list, k: int):
    """Frame ``k``: the shot of its time, swayed, with each player's bow at its place."""
    import numpy as np

    t = k / FPS
    background, colours, scale, pad = shots[int(t // spec.cut_s) % 2 if spec.cut_s else 0]
    dx, dy = round(pad * 0.8 * np.sin(0.9 * t)), round(pad * 0.5 * np.sin(0.6 * t + 1))
    img = background[pad + dy : pad + dy + spec.height, pad + dx : pad + dx + spec.width].copy()
    h, w = spec.height, spec.width
    body_h, body_w = int(h * scale), int(w * 0.12)
    for p in range(2):
        cx, top = int(w * (0.25 + 0.5 * p)), h - body_h - h // 20
        img[top : top + body_h, cx - body_w // 2 : cx + body_w // 2] = colours[p]
        bow = int(body_w * np.sin(2 * np.pi * t / (1.3 + 0.4 * p)))
        y = top + body_h // 3
        img[y : y + h // 60, cx + bow - body_w : cx + bow + body_w] = 240 - 200 * p
    return img


def make_phone_video(path: Path, spec: PhoneVideo) -> Path:
    """Write ``spec`` to ``path`` with PyAV: H.264 (:meth:`PhoneVideo.encoder_options`) and
    48 kHz stereo AAC, a frame at a time (a 10-minute 1080p file never sits in memory)."""
    import av
    import numpy as np

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part.mp4")
    shots = [_shot(spec, seed) for seed in (1, 2)]
    with av.open(str(tmp), "w") as container:
        vstream = container.add_stream("libx264", rate=FPS)
        vstream.width, vstream.height, vstream.pix_fmt = spec.width, spec.height, "yuv420p"
        vstream.codec_context.options = spec.encoder_options()
        astream = container.add_stream("aac", rate=SAMPLE_RATE)
        astream.layout = "stereo"
        audio_pos, total, step = 0, round(spec.seconds * SAMPLE_RATE), 1024
        for k in range(int(spec.seconds * FPS)):
            end = min(total, round((k + 1) / FPS * SAMPLE_RATE))
            while audio_pos < end:
                n = min(step, end - audio_pos)
                t = (audio_pos + np.arange(n)) / SAMPLE_RATE
                low = instrument(t, (110.0, 147.0, 165.0, 196.0), 0.5, 6, 0.4)
                high = instrument(t, (880.0, 988.0, 1175.0, 1319.0, 1047.0), 0.3, 4, 0.15)
                packed = np.stack([0.3 * low + 0.1 * high, 0.1 * low + 0.3 * high], 1).astype(np.float32)
                frame = av.AudioFrame.from_ndarray(packed.reshape(1, -1), format="flt", layout="stereo")
                frame.sample_rate, frame.pts, frame.time_base = SAMPLE_RATE, audio_pos, Fraction(1, SAMPLE_RATE)
                container.mux(astream.encode(frame))
                audio_pos += n
            frame = av.VideoFrame.from_ndarray(_picture(spec, shots, k), format="rgb24")
            frame.pts, frame.time_base = k, Fraction(1, FPS)
            container.mux(vstream.encode(frame))
        container.mux(vstream.encode())
        container.mux(astream.encode())
    os.replace(tmp, path)
    return path


def keyframe_interval(path: Path) -> float:
    """Seconds between the first two keyframes (demuxed, not decoded)."""
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        keys = [float(p.pts * p.time_base) for p in container.demux(stream) if p.is_keyframe and p.pts is not None]
    return keys[1] - keys[0] if len(keys) > 1 else float("inf")


def print_table(rows: list[dict]) -> None:
    """Per-stage medians, then wall, RTF and peak RSS, one column per setting."""
    width = max(16, *(len(r["label"]) + 2 for r in rows))
    print(f"{'stage':<14}" + "".join(f"{r['label']:>{width}}" for r in rows))
    for name in stages_legend():
        if any(name in r["stages"] for r in rows):
            print(f"{name:<14}" + "".join(f"{r['stages'].get(name, 0.0):>{width}.2f}" for r in rows))
    figures = (("wall_s", "wall s", ".1f"), ("rtf", "RTF", ".3f"), ("cpu_s", "CPU s", ".1f"))
    for key, label, fmt in (*figures, ("peak_rss_mb", "peak RSS MB", ".0f")):
        print(f"{label:<14}" + "".join(f"{r['medians'][key]:>{width}{fmt}}" for r in rows))


def print_ratios(results: dict[tuple[str, str, str], list[dict]]) -> None:
    """Automatic over boxes for each video and tree, repeat by repeat (the two ran back to back,
    so a change of the machine's speed hits both alike), and their median: issue 30 asks for at
    most 1.1, a margin the machine's drift between minutes exceeds."""
    for (name, mode, label), runs in results.items():
        boxes = results.get((name, "boxes", label))
        if mode != "auto" or not boxes:
            continue
        pairs = [a["wall_s"] / b["wall_s"] for a, b in zip(runs, boxes)]
        each = " ".join(f"{p:.2f}" for p in pairs)
        print(f"{name} {label}: automatic / boxes {each}, median {statistics.median(pairs):.2f}")


def parse_trees(spec: str) -> list[tuple[Path, str | None]]:
    """``TREE[=PYTHON],...`` -> (source tree, interpreter or None for this one); default: this tree."""
    trees = []
    for item in filter(None, spec.split(",")):
        tree, _, python = item.partition("=")
        # abspath, not resolve(): a venv's python is a symlink to the base interpreter
        trees.append((Path(tree).resolve(), os.path.abspath(python) if python else None))
    return trees or [(ROOT, None)]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--videos", default="720p", help=f"comma-separated, of {', '.join(VIDEOS)} (default 720p)")
    parser.add_argument("--modes", default=",".join(MODES), help="comma-separated: boxes, auto")
    parser.add_argument(
        "--trees",
        default="",
        help="comma-separated avsep source trees to compare (default: this); TREE=PYTHON runs a tree with that "
        "interpreter (another venv: a change of dependencies)",
    )
    parser.add_argument("--repeat", type=int, default=1, help="runs per setting; medians are reported")
    parser.add_argument("--model", help="checkpoint path or bundled name (default: the bundled model)")
    parser.add_argument("--cache-dir", help="where generated videos are kept (default ~/.cache/avsep-bench)")
    parser.add_argument("--json", type=Path, help="write all results here")
    args = parser.parse_args(argv)
    names = [v for v in args.videos.split(",") if v]
    modes = [m for m in args.modes.split(",") if m]
    if set(names) - set(VIDEOS) or set(modes) - set(MODES):
        parser.error(f"--videos takes {', '.join(VIDEOS)}; --modes takes {', '.join(MODES)}")
    trees = parse_trees(args.trees)
    cache = cache_dir(args.cache_dir)
    print(f"load average at start: {os.getloadavg()}, {os.cpu_count()} CPUs", flush=True)
    results: dict[tuple[str, str, str], list[dict]] = {}
    with tempfile.TemporaryDirectory(prefix="avsep-phone-") as tmp:
        scratch = Path(tmp)
        model = resolve(args.model, False, scratch)
        for name in names:
            spec = VIDEOS[name]
            video = spec.path(cache, name)
            if not video.exists():
                t0 = time.perf_counter()
                make_phone_video(video, spec)
                print(f"made {video} in {time.perf_counter() - t0:.0f} s", flush=True)
            print(f"{video.name}: keyframe every {keyframe_interval(video):.2f} s", flush=True)
            for i in range(args.repeat):
                for mode in modes:
                    for tree, python in trees:  # interleaved: a change of load hits every tree alike
                        boxes = spec.boxes() if mode == "boxes" else None
                        run = run_once(video, model, None, True, scratch, None, boxes=boxes, tree=tree, python=python)
                        s = summarise(run, spec.seconds)
                        label = tree.name + (f"@{python}" if python else "")
                        print(
                            f"  {name} {mode} {label} run {i + 1}: {s['wall_s']:.1f} s, RTF {s['rtf']:.3f}, "
                            f"CPU {s['cpu_s']:.1f} s, peak RSS {s['peak_rss_mb']:.0f} MB, "
                            f"load {os.getloadavg()[0]:.2f}",
                            flush=True,
                        )
                        results.setdefault((name, mode, label), []).append(run)
    rows = []
    for (name, mode, label), runs in results.items():
        stage_names = {k for r in runs for k in r.get("stages", {})}
        rows.append(
            {
                "label": f"{name}/{mode}/{label}",
                "stages": {k: statistics.median(r["stages"].get(k, 0.0) for r in runs) for k in stage_names},
                "medians": {
                    k: statistics.median(summarise(r, VIDEOS[name].seconds)[k] for r in runs)
                    for k in ("wall_s", "rtf", "cpu_s", "peak_rss_mb")
                },
                "runs": runs,
            }
        )
    print()
    print_table(rows)
    print_ratios(results)
    if args.json:
        json_out(args.json).write_text(
            json.dumps({"load_at_end": os.getloadavg(), "model": str(model), "results": rows})
        )
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
