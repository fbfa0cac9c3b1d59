"""Separation with automatic boxes vs the true boxes, on side-by-side real duets.

    python -m benchmarks.auto_boxes_separation                    # held-out clips, ~5 min on 2 cores
    python -m benchmarks.auto_boxes_separation --duets 40 --json out.json
    python -m benchmarks.auto_boxes_separation --seconds 3 --masks soft   # short cuts (1 or 3 s duets)

Each duet is made as ``avsep evaluate-real`` makes its music-solo duets: two solo recordings of
different instruments, a 6 s segment at the same offset in both where both play, each scaled to
the same RMS, summed. Here the pictures go into a real video file, as a user would have it: the
two solo frames side by side (1280 x 360, 1 fps, H.264) with the mixture as lossless PCM (so
the separated signals stay sample-aligned with the references) in a Matroska file in a
temporary folder (nothing is kept: the clips are for evaluation only).

The shipped model then separates each video twice through :meth:`avsep.Separator.separate_file`:
with the true boxes (the left and right halves) and with no boxes (automatic mode, exactly what
``avsep separate VIDEO`` does). Each automatic source is assigned to the player whose half holds
its box centre (in the middle of the clip); a player with no source is scored with the
unseparated mixture (SDRi 0), one with several gets the most confident. Reported per mask
(binary and soft): SDR improvement (BSS Eval v3, no permutation) and the right-box rate (the
output correlates best with its own player), both for the true and the automatic boxes, and
how often automatic mode found exactly one source per player.

It uses only the four music-solo videos that never chose a finder knob
(``benchmarks.detect_players.solo_videos``).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from fractions import Fraction
from pathlib import Path

import numpy as np

from benchmarks import json_out
from benchmarks.detect_players import REAL, load, solo_videos

SR = 11025
SECONDS = 6.0


def recordings() -> list[tuple[str, Path, int]]:
    out = []
    for rec in solo_videos():
        frames = sorted((rec / "frames").glob("*.jpg"))
        if (rec / "audio.mp4").is_file() and frames:
            out.append((rec.parent.name, rec, len(frames)))
    return out


def make_duets(recs, count: int, seed: int, seconds: float = SECONDS):
    """``count`` (mixture, references [2, n], frame paths [seconds][2], names) tuples of
    ``seconds`` each (a short cut: 1 or 3 s, as a user's clip may be)."""
    from avsep.io.audio import load_audio

    pairs = [(a, b) for a in range(len(recs)) for b in range(a + 1, len(recs)) if recs[a][0] != recs[b][0]]
    rng = np.random.default_rng([seed, 0xD0E7])
    order = [pairs[i] for i in rng.permutation(len(pairs))]
    audio = {}
    seg = int(seconds * SR)
    duets = []
    for n in range(count):
        pair = order[n % len(order)]
        for i in pair:
            if i not in audio:
                audio[i] = np.asarray(load_audio(recs[i][1] / "audio.mp4", sample_rate=SR)[0], np.float32)
        a, b = audio[pair[0]], audio[pair[1]]
        usable = min(len(a), len(b), min(recs[i][2] for i in pair) * SR) - seg - SR
        for _ in range(50):  # a segment where both play
            start = int(rng.integers(SR, usable))
            sa, sb = a[start : start + seg], b[start : start + seg]
            if np.sqrt(np.mean(sa**2)) > 0.3 * np.sqrt(np.mean(a**2)) and np.sqrt(np.mean(sb**2)) > 0.3 * np.sqrt(
                np.mean(b**2)
            ):
                break
        refs = (
            np.stack([sa / (np.sqrt(np.mean(sa**2)) + 1e-9), sb / (np.sqrt(np.mean(sb**2)) + 1e-9)]).astype(np.float32)
            * 0.05
        )
        t0 = start / SR
        frames = [
            [recs[i][1] / "frames" / f"{min(int(t0 + k + 0.5) + 1, recs[i][2]):06d}.jpg" for i in pair]
            for k in range(max(1, int(seconds)))
        ]
        duets.append((refs.sum(0), refs, frames, [f"{recs[i][0]}/{recs[i][1].name}" for i in pair]))
    return duets


def write_video(path: Path, mix: np.ndarray, frames: list[list[Path]]) -> None:
    """Side-by-side pictures at 1 fps and the mixture as 32-bit float PCM, in Matroska."""
    import av

    with av.open(str(path), "w") as out:
        video = out.add_stream("libx264", rate=1)
        video.width, video.height, video.pix_fmt = 1280, 360, "yuv420p"
        video.codec_context.options = {"preset": "ultrafast", "crf": "18"}
        audio = out.add_stream("pcm_f32le", rate=SR)
        audio.layout = "mono"
        for k, pair in enumerate(frames):
            picture = np.concatenate([np.asarray(load(p)) for p in pair], axis=1)
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(picture), format="rgb24")
            frame.pts, frame.time_base = k, Fraction(1, 1)
            for packet in video.encode(frame):
                out.mux(packet)
        for packet in video.encode():
            out.mux(packet)
        samples = av.AudioFrame.from_ndarray(mix[None].astype(np.float32), format="flt", layout="mono")
        samples.sample_rate, samples.pts, samples.time_base = SR, 0, Fraction(1, SR)
        for packet in audio.encode(samples):
            out.mux(packet)
        for packet in audio.encode():
            out.mux(packet)


def assign(plan, time: float, width: int = 1280) -> tuple[list[int | None], str]:
    """Per player (left, right half): the automatic source whose box centre is in its half."""
    boxes = plan.boxes_at(time)
    owners: list[list[int]] = [[], []]
    for s, box in enumerate(boxes):
        if box is not None:
            owners[int((box[0] + box[2]) / 2 >= width / 2)].append(s)
    conf = [src.confidence or 0.0 for src in plan.sources]
    picked = [max(o, key=conf.__getitem__) if o else None for o in owners]
    status = (
        "one each"
        if all(len(o) == 1 for o in owners) and len(boxes) == 2
        else ("fallback strips" if plan.note else f"{len(owners[0])}+{len(owners[1])} of {len(boxes)}")
    )
    return picked, status


def score(refs: np.ndarray, est: np.ndarray, mix: np.ndarray) -> tuple[list[float], list[bool]]:
    from avsep.train.metrics import bss_eval, mixture_floor, right_box

    n = min(refs.shape[1], est.shape[1])
    refs, est, mix = refs[:, :n], est[:, :n], mix[:n]
    model, floor = bss_eval(refs, est), bss_eval(refs, mixture_floor(mix, 2))
    return [float(model["sdr"][k] - floor["sdr"][k]) for k in range(2)], [bool(v) for v in right_box(refs, est)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duets", type=int, default=30)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--model", default=None)
    ap.add_argument("--json", type=Path)
    ap.add_argument("--masks", default="binary,soft", help="comma-separated (a 1-s binary mask may be all 0)")
    ap.add_argument("--seconds", type=float, default=SECONDS, help="length of each duet (6; 1 or 3: short cuts)")
    args = ap.parse_args()
    if not (REAL / "music-solo").is_dir():
        sys.exit(f"{REAL}/music-solo not found: this benchmark needs ../shared/realclips")

    import warnings

    from avsep import Separator

    warnings.simplefilter("ignore")  # fallback notes are counted, not printed
    recs = recordings()
    duets = make_duets(recs, args.duets, args.seed, args.seconds)
    masks = args.masks.split(",")
    results: dict[str, dict] = {}
    statuses: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        videos = []
        for k, (mix, _, frames, _) in enumerate(duets):
            path = Path(tmp) / f"duet{k}.mkv"
            write_video(path, mix, frames)
            videos.append(path)
        for mask in masks:
            sep = Separator(args.model, device="cpu", mask=mask)
            rows = {"true": ([], []), "auto": ([], [])}
            for k, ((mix, refs, _, names), video) in enumerate(zip(duets, videos)):
                true = sep.separate_file(video, [(0, 0, 640, 360), (640, 0, 1280, 360)]).sources
                plan = sep.find_players(video)
                auto = sep.separate_file(video, plan).sources
                picked, status = assign(plan, args.seconds / 2)
                if mask == masks[0]:
                    statuses.append(status)
                est = np.stack([auto[p] if p is not None else mix[: auto.shape[1]] for p in picked])
                for name, e in (("true", true), ("auto", est)):
                    sdri, right = score(refs, e, mix)
                    rows[name][0].extend(sdri)
                    rows[name][1].extend(right)
                print(
                    f"{mask} {k:>3} {' + '.join(names):<48} {status:<16} "
                    f"true {np.mean(rows['true'][0][-2:]):+6.2f}  auto {np.mean(rows['auto'][0][-2:]):+6.2f} dB",
                    flush=True,
                )
            results[mask] = {
                name: {
                    "sdri_mean": float(np.mean(v[0])),
                    "sdri_median": float(np.median(v[0])),
                    "right_box_rate": float(np.mean(v[1])),
                    "outputs": len(v[0]),
                }
                for name, v in rows.items()
            }
            diff = np.array(rows["auto"][0]) - np.array(rows["true"][0])
            results[mask]["auto_minus_true_db"] = {
                "mean": float(diff.mean()),
                "median": float(np.median(diff)),
                "max_abs": float(np.abs(diff).max()),
            }
    one_each = statuses.count("one each") / len(statuses)
    print(f"\n{args.duets} duets: automatic mode found one source per player in {one_each:.0%}")
    print(f"{'mask':<7} {'boxes':<6} {'SDRi mean':>9} {'median':>7} {'right box':>9}")
    for mask, r in results.items():
        for name in ("true", "auto"):
            print(
                f"{mask:<7} {name:<6} {r[name]['sdri_mean']:>+9.2f} {r[name]['sdri_median']:>+7.2f} "
                f"{r[name]['right_box_rate']:>9.0%}"
            )
        d = r["auto_minus_true_db"]
        print(
            f"{mask:<7} auto - true: mean {d['mean']:+.2f} dB, median {d['median']:+.2f}, "
            f"largest |diff| {d['max_abs']:.2f}"
        )
    if args.json:
        json_out(args.json).write_text(
            json.dumps(
                {
                    "duets": args.duets,
                    "one_source_per_player": one_each,
                    "statuses": statuses,
                    **results,
                },
                indent=2,
            )
            + "\n"
        )


if __name__ == "__main__":
    main()
