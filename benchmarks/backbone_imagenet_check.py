"""Check that the visual trunks carry ImageNet knowledge, on the real MUSIC solo frames.

For every clip in ``../shared/realclips/music-solo/<instrument>/<id>/frames/`` it takes
``--frames`` evenly spaced frames (640 x 360 JPEG), makes a 224 x 224 picture two ways
(``squash``: resize the whole frame; ``centre``: centre square crop, then resize), runs
``efficientnet_lite0`` with both candidate normalisations and prints, per clip, how often the
instrument's ImageNet class is top-1 / in the top-3 and its mean probability. It ends with the
per-image CPU time of each trunk (random-init ResNet-18 for timing; pass ``--resnet18-weights``
to check a torchvision ImageNet file too).

    python -m benchmarks.backbone_imagenet_check [--frames 20] [--threads N]

Evaluation only: the frames are never copied or trained on.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from avsep.models.visual import UntrainedTrunkWarning, build_trunk

REALCLIPS = Path(__file__).resolve().parents[2] / "shared" / "realclips"
# ImageNet-1k class of each MUSIC-solo instrument present in realclips/music-solo.
TARGET = {"accordion": 401, "cello": 486, "flute": 558}
NORMS = {
    "tf[-1,1]": ((127.0, 127.0, 127.0), (128.0, 128.0, 128.0)),
    "imagenet": ((0.485 * 255, 0.456 * 255, 0.406 * 255), (0.229 * 255, 0.224 * 255, 0.225 * 255)),
}


def load_frame(path: Path, mode: str) -> torch.Tensor:
    """JPEG -> uint8 [224, 224, 3]; ``centre`` crops the central square first."""
    im = Image.open(path).convert("RGB")
    if mode == "centre":
        w, h = im.size
        s = min(w, h)
        left, top = (w - s) // 2, (h - s) // 2
        im = im.crop((left, top, left + s, top + s))
    im = im.resize((224, 224), Image.BILINEAR)
    return torch.from_numpy(np.asarray(im).copy())


def pick_frames(frames_dir: Path, n: int) -> list[Path]:
    """``n`` frames evenly spread over the clip, the first and last second excluded."""
    frames = sorted(frames_dir.glob("*.jpg"))
    idx = np.linspace(0, len(frames) - 1, n + 2)[1:-1].round().astype(int)
    return [frames[i] for i in idx]


def norm(x: torch.Tensor, mean, std) -> torch.Tensor:
    x = x.permute(0, 3, 1, 2).float()
    return (x - torch.tensor(mean).view(1, 3, 1, 1)) / torch.tensor(std).view(1, 3, 1, 1)


def time_trunk(trunk, batch: int, repeats: int) -> float:
    """Median seconds per image of ``guide`` on ``batch`` crops (median: the CPU is shared)."""
    x = torch.randint(0, 256, (1, batch, 224, 224, 3), dtype=torch.uint8)
    times = []
    with torch.inference_mode():
        trunk.guide(x)  # warm-up
        for _ in range(repeats):
            t0 = time.perf_counter()
            trunk.guide(x)
            times.append(time.perf_counter() - t0)
    return float(np.median(times)) / batch


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=20, help="frames per clip (default 20)")
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    ap.add_argument("--resnet18-weights", type=Path, default=None)
    ap.add_argument("--no-timing", action="store_true")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    root = REALCLIPS / "music-solo"
    if not root.is_dir():
        print(f"no real clips at {root}", file=sys.stderr)
        return 1
    clips = sorted(p for p in root.glob("*/*") if (p / "frames").is_dir() and p.parent.name in TARGET)

    trunks = {"efficientnet_lite0": build_trunk("efficientnet_lite0")}
    if args.resnet18_weights:
        trunks["resnet18"] = build_trunk("resnet18", args.resnet18_weights)

    print(f"{args.frames} frames per clip; cell = top-1 hits / top-3 hits / mean p(target)")
    for tname, trunk in trunks.items():
        norms = NORMS if tname == "efficientnet_lite0" else {"imagenet": NORMS["imagenet"]}
        totals: dict[tuple[str, str], list[int]] = {}
        header = f"{'clip':<28}" + "".join(f"{m + ' ' + n:>22}" for m in ("squash", "centre") for n in norms)
        print(f"\n== {tname} ==\n{header}")
        for clip in clips:
            target = TARGET[clip.parent.name]
            paths = pick_frames(clip / "frames", args.frames)
            cells = []
            for mode in ("squash", "centre"):
                x = torch.stack([load_frame(p, mode) for p in paths])
                for nname, (mean, std) in norms.items():
                    with torch.inference_mode():
                        prob = trunk.classify(norm(x, mean, std)).softmax(-1)
                    top1 = int((prob.argmax(-1) == target).sum())
                    top3 = int((prob.topk(3, -1).indices == target).any(-1).sum())
                    cells.append(f"{top1:>2}/{top3:>2}/{prob[:, target].mean():.2f}")
                    tot = totals.setdefault((mode, nname), [0, 0, 0, 0.0])
                    tot[0] += top1
                    tot[1] += top3
                    tot[2] += len(paths)
                    tot[3] += float(prob[:, target].sum())
            print(f"{clip.parent.name + '/' + clip.name:<28}" + "".join(f"{c:>22}" for c in cells))
        print(
            f"{'total top-1/top-3/p':<28}"
            + "".join(f"{f'{t[0]}/{t[1]} of {t[2]}/{t[3] / t[2]:.2f}':>22}" for t in totals.values())
        )

    if not args.no_timing:
        print(f"\nCPU time per image (torch threads = {torch.get_num_threads()}), guide() over B*F crops:")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UntrainedTrunkWarning)
            timing = {"resnet18": trunks.get("resnet18") or build_trunk("resnet18"), **trunks}
        for tname, trunk in timing.items():
            for batch in (3, 24):
                ms = 1000 * time_trunk(trunk, batch, repeats=max(3, 48 // batch))
                print(f"  {tname:<20} batch {batch:>2}: {ms:6.1f} ms/image")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
