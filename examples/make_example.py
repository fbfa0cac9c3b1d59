"""Make ``examples/duet.mp4``: two recorded instruments side by side, from a built dataset.

The example must be ours to ship and must be a held-out check. It takes two *test-split*
clips of different instruments (notes, melodies, recordings and pictures never seen in
training) whose audio may be redistributed: recorded notes played by ``avsep data build``'s
sampler from the CC-BY 3.0 tonejs sample packages, or CC BY / CC0 recordings (Medley-solos-DB,
VSCO); never Philharmonia samples (no redistribution as is) or GPL soundfont renders. The
pictures are the project's own procedural drawings of the two instruments, drawn into a scene
and degraded like video frames by the build's own code (photos from the Kaggle sets may not be
redistributed); each drawing is the first of its seeds that the frozen ImageNet classifier
names (``named_seed``; the saxophone's search starts at seed 115 because the player finder
takes the drawn saxophones of lower seeds for a clarinet and boxes only that one player: the
example should show the separation, so it uses drawings the finder leaves to the two strips).
The two clean stems are stored beside the video so the example can be scored
(``tests/test_bundled_model.py``), and ``duet.json`` credits every source.

    python examples/make_example.py data/real2 --left acoustic_guitar --right saxophone
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

SAMPLE_RATE = 44100  # a typical video's rate, so the example also exercises resampling
FPS = 8
#: audio licences that allow shipping the derived clip (with the attribution in duet.json)
SHIPPABLE = ("CC-BY", "CC BY", "CC0", "MIT", "public domain")


def _sources(clip: dict) -> set[str]:
    """The source folders a clip's audio came from (the sampler's library, the recordings')."""
    info = clip["audio_source"]
    if "library" in info:
        return {info["library"]}
    return {f.split("/")[1] for f in info.get("files", [])}


def pick_clip(dataset: Path, label: str) -> dict:
    """The first test clip of ``label`` whose audio comes only from shippable sources (the
    licence recorded for each of its source folders allows redistribution)."""
    meta = json.loads((dataset / "meta.json").read_text())
    for line in (dataset / "clips.jsonl").read_text().splitlines():
        clip = json.loads(line)
        if clip["split"] != "test" or clip["label"] != label or clip["audio_kind"] == "soundfont":
            continue
        known = meta["real_material"]["licences"][label][clip["audio_source"]["source"]]
        folders = _sources(clip)
        licences = [lic for lic in known if any(f.lower().split("-")[0] in lic.lower() for f in folders)]
        if folders and licences and all(any(ok in lic for ok in SHIPPABLE) for lic in licences):
            return clip | {"licences": licences}
    raise SystemExit(f"no shippable test clip of {label!r} in {dataset}")


def frames_for(label: str, count: int, seed: int) -> list[Image.Image]:
    """``count`` frames of a procedural drawing of ``label`` in a scene, at ``FPS``."""
    from avsep.train.dataset import pictures
    from avsep.train.dataset.instruments import SPECS
    from avsep.train.dataset.scene import Scene
    from avsep.train.dataset.system import check_toolchain

    tools = check_toolchain()
    src = pictures.PICTURE_KINDS["procedural"].groups(label, tools, [])[seed % pictures.PROCEDURAL_VARIANTS].sources[0]
    scene = Scene(pictures.load_sprite(src, label, tools), SPECS[label], np.random.default_rng([seed, 7]), tools)
    return [scene.frame((i + 0.5) / FPS) for i in range(count)]


def named_seed(trunk, label: str, count: int, first: int, tries: int = 12) -> int:
    """The first drawing seed from ``first`` on whose middle frames the frozen classifier names
    ``label`` (the bundled model's ``classes`` guide): the example checks the separation, and a
    drawing the classifier cannot read would check the classifier's reading of clipart instead.
    """
    import torch

    from avsep.models.guide import LABELS

    for seed in range(first, first + tries):
        frames = frames_for(label, count, seed)[count // 2 - 1 : count // 2 + 2]
        guide = trunk.guide(torch.from_numpy(np.stack([np.asarray(f.convert("RGB")) for f in frames]))[None], "classes")
        if LABELS[int(guide[0].argmax())] == label:
            return seed
    raise SystemExit(f"no drawing of {label!r} among seeds {first}..{first + tries - 1} is named by the classifier")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dataset", type=Path)
    ap.add_argument("--left", default="acoustic_guitar")
    ap.add_argument("--right", default="saxophone")
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--out", type=Path, default=Path(__file__).with_name("duet.mp4"))
    ap.add_argument(
        "--first-seeds", type=int, nargs=2, default=(0, 115), help="where each side's drawing search starts"
    )
    args = ap.parse_args()

    from avsep.io.audio import Resampler

    clips = [pick_clip(args.dataset, args.left), pick_clip(args.dataset, args.right)]
    stems, hi = [], []
    for clip in clips:
        audio, rate = sf.read(args.dataset / clip["audio"], dtype="float32")
        n = int(args.seconds * rate)
        audio = np.pad(audio[:n], (0, max(0, n - audio.shape[0])))
        audio = audio / (np.sqrt(np.mean(audio**2)) + 1e-9) * 0.08  # equal loudness, as in the duets test
        stems.append((audio, rate))
        r = Resampler(rate, SAMPLE_RATE)  # the resampler avsep itself uses
        hi.append(np.concatenate([r.push(audio), r.flush()]))
    mix = (hi[0] + hi[1]).astype(np.float32)
    n_frames = int(args.seconds * FPS)
    from avsep.models.visual import build_trunk

    trunk = build_trunk("efficientnet_lite0")  # one trunk for both sides' searches
    seeds = [named_seed(trunk, clip["label"], n_frames, first) for first, clip in zip(args.first_seeds, clips)]
    pictures = [frames_for(clip["label"], n_frames, seed) for seed, clip in zip(seeds, clips)]

    out = args.out
    with av.open(str(out), "w") as container:
        video = container.add_stream("libx264", rate=FPS)
        video.width, video.height, video.pix_fmt = 448, 224, "yuv420p"
        video.options = {"crf": "28", "preset": "slow"}
        audio = container.add_stream("aac", rate=SAMPLE_RATE)
        audio.layout = "mono"
        audio.bit_rate = 96000
        for i in range(n_frames):
            canvas = Image.new("RGB", (448, 224))
            for side in range(2):
                canvas.paste(pictures[side][i], (224 * side, 0))
            frame = av.VideoFrame.from_image(canvas)
            frame.pts = i
            frame.time_base = Fraction(1, FPS)
            for packet in video.encode(frame):
                container.mux(packet)
        for packet in video.encode():
            container.mux(packet)
        step = 1024
        for start in range(0, mix.shape[0], step):
            frame = av.AudioFrame.from_ndarray(mix[start : start + step][None], format="flt", layout="mono")
            frame.sample_rate = SAMPLE_RATE
            frame.pts = start
            for packet in audio.encode(frame):
                container.mux(packet)
        for packet in audio.encode():
            container.mux(packet)
    for name, (stem, sr) in zip(("left", "right"), stems):
        sf.write(out.with_name(f"duet_{name}.flac"), stem, sr)
    keys = ("id", "label", "audio_kind", "melody", "audio_source", "licences")
    credits = {
        name: {k: c[k] for k in keys if k in c}
        | {"picture": f"procedural drawing of a {c['label']} (this project), seed {seed}"}
        for name, c, seed in zip(("left", "right"), clips, seeds)
    }
    out.with_name("duet.json").write_text(json.dumps(credits, indent=2) + "\n")
    print(f"wrote {out} ({out.stat().st_size / 1e6:.2f} MB): {args.left} left, {args.right} right")


if __name__ == "__main__":
    main()
