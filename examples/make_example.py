"""Make ``examples/duet.mp4``: two rendered instruments side by side, from a built dataset.

The example must be ours to ship: it takes two *test-split* clips of different instruments
(melodies and pictures never seen in training) rendered through an MIT-licensed soundfont
(FluidR3 or MuseScore General, not the GPL TimGM6mb), puts their frames side by side (left,
right) and their sum on the sound track, and stores the two clean stems beside the video so
the example can be scored (``tests/test_example.py``).

    python examples/make_example.py data/synth --left violin --right flute
"""

from __future__ import annotations

import argparse
import json
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import soundfile as sf
from PIL import Image

MIT_FONTS = {"fluidr3", "musescore"}
SAMPLE_RATE = 44100  # a typical video's rate, so the example also exercises resampling


def pick_clip(dataset: Path, label: str) -> dict:
    """The first test clip of ``label`` rendered with an MIT soundfont."""
    for line in (dataset / "clips.jsonl").read_text().splitlines():
        clip = json.loads(line)
        if clip["split"] == "test" and clip["label"] == label and clip["soundfont"] in MIT_FONTS:
            return clip
    raise SystemExit(f"no MIT-licensed test clip of {label!r} in {dataset}")


def load_stem(dataset: Path, clip: dict, seconds: float) -> np.ndarray:
    audio, sr = sf.read(dataset / clip["audio"], dtype="float32")
    n = int(seconds * sr)
    audio = np.pad(audio[:n], (0, max(0, n - audio.shape[0])))
    return audio / max(1e-6, float(np.abs(audio).max())) * 0.45, sr


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dataset", type=Path)
    ap.add_argument("--left", default="violin")
    ap.add_argument("--right", default="flute")
    ap.add_argument("--seconds", type=float, default=12.0)
    ap.add_argument("--out", type=Path, default=Path(__file__).with_name("duet.mp4"))
    args = ap.parse_args()

    clips = [pick_clip(args.dataset, args.left), pick_clip(args.dataset, args.right)]
    stems = [load_stem(args.dataset, c, args.seconds) for c in clips]
    rate = stems[0][1]
    fps = json.loads((args.dataset / "meta.json").read_text())["fps"]

    # Resample the stems to the video's rate with PyAV (the same resampler avsep uses).
    from avsep.io.audio import Resampler

    hi = []
    for audio, _ in stems:
        r = Resampler(rate, SAMPLE_RATE)
        hi.append(np.concatenate([r.push(audio), r.flush()]))
    mix = (hi[0] + hi[1]).astype(np.float32)

    out = args.out
    with av.open(str(out), "w") as container:
        video = container.add_stream("libx264", rate=fps * 4)
        video.width, video.height, video.pix_fmt = 448, 224, "yuv420p"
        video.options = {"crf": "30", "preset": "slow"}
        audio = container.add_stream("aac", rate=SAMPLE_RATE)
        audio.layout = "mono"
        audio.bit_rate = 64000
        n_frames = int(args.seconds * fps * 4)
        for i in range(n_frames):
            src = min(int(i / 4) + 1, clips[0]["num_frames"], clips[1]["num_frames"])
            canvas = Image.new("RGB", (448, 224))
            for side, clip in enumerate(clips):
                canvas.paste(Image.open(args.dataset / clip["frames"] / f"{src:06d}.jpg"), (224 * side, 0))
            frame = av.VideoFrame.from_image(canvas)
            frame.pts = i
            frame.time_base = Fraction(1, fps * 4)
            for packet in video.encode(frame):
                container.mux(packet)
        for packet in video.encode():
            container.mux(packet)
        step = 1024
        for start in range(0, mix.shape[0], step):
            chunk = mix[start : start + step][None]
            frame = av.AudioFrame.from_ndarray(chunk, format="flt", layout="mono")
            frame.sample_rate = SAMPLE_RATE
            frame.pts = start
            for packet in audio.encode(frame):
                container.mux(packet)
        for packet in audio.encode():
            container.mux(packet)
    for name, (stem, sr) in zip(("left", "right"), stems):
        sf.write(out.with_name(f"duet_{name}.flac"), stem, sr)
    credits = {name: {k: c[k] for k in ("label", "melody", "soundfont", "program_name", "picture")}
               for name, c in zip(("left", "right"), clips)}
    out.with_name("duet.json").write_text(json.dumps(credits, indent=2) + "\n")
    print(f"wrote {out} ({out.stat().st_size / 1e6:.2f} MB) from {credits}")


if __name__ == "__main__":
    main()
