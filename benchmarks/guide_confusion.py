"""Does the guide name the instrument? The ImageNet classes gathered vs the guide head, per class.

    python -m benchmarks.guide_confusion                  # held-out photos + real frames, ~2 min on 1 core
    python -m benchmarks.guide_confusion --frames 40 --json out.json

Two sets, each scored per picture (the guide of one frame; a separation averages 3):

* **held-out photos**: the test split of the guide head's feature cache
  (``avsep train-guide``: ``runs/guide-head/features.pt``), every variant (a tight box around the
  photo, or the photo in a composed, degraded scene). Cello has no photos; erhu's are procedural
  drawings. "other" rows are the negatives (banjo, drums, harp ...): right when the head says
  "not one of ours" (the ImageNet gathering cannot say it).
* **real frames** (``../shared/realclips``, evaluation only, never trained or calibrated on):
  ``--frames`` frames of each music-solo video (accordion x3, cello x2, flute x2; whole frame as
  the box, as in ``avsep evaluate-real``'s duets), the FCSN player crops (xylophone, tuba,
  acoustic guitar, clarinet; the bass guitar, bagpipes and guzheng crops are "other"), the two
  halves of the FCSN real duet frame (clarinet left, guitar right) and the 3 frames of each
  clipsep-demo video (accordion, acoustic guitar, violin).

A guide's answer is its largest coordinate; the head's is "other" where it is less than even sure
the picture shows one of avsep's instruments. Both read the picture in two views (the crop and its
centre enlarged) as separation does.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

from avsep.io.video import crop_boxes
from avsep.models.guide import LABELS, class_views
from avsep.models.guide_head import OTHER
from avsep.models.serialize import load_guide_head
from avsep.models.visual import build_trunk, centre_zoom
from avsep.models.weights import guide_head_file
from avsep.train.guide_head import confusion, held_out_report, load_cache, named, per_class_accuracy
from benchmarks import json_out
from benchmarks.detect_players import FCSN_CROPS

ROOT = Path(__file__).resolve().parents[1]

REAL = ROOT.parent / "shared" / "realclips"
FCSN_NAMES = {"acoustic guitar": "acoustic_guitar", "clarinet": "clarinet", "tuba": "tuba", "xylophone": "xylophone"}


def load(path: Path) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as im:
        return np.array(im.convert("RGB"))


def whole(frame: np.ndarray) -> np.ndarray:
    """The whole picture as a box: letterboxed and resized to 224 x 224, as separation crops."""
    return crop_boxes(frame, [(0, 0, frame.shape[1], frame.shape[0])])[0]


def real_pictures(frames: int) -> list[tuple[str, str, np.ndarray]]:
    """(set, true class or OTHER, 224 x 224 picture) for every real frame scored."""
    import av

    out = []
    for clip in sorted(REAL.glob("music-solo/*/*")):
        files = sorted((clip / "frames").glob("*.jpg"))[3:-3]
        for i in np.linspace(0, len(files) - 1, frames).round().astype(int):
            out.append(("music-solo", clip.parent.name, whole(load(files[i]))))
    for rel, name in FCSN_CROPS.items():
        if (REAL / "fcsn" / rel).is_file():
            out.append(("fcsn crops", FCSN_NAMES.get(name, OTHER), whole(load(REAL / "fcsn" / rel))))
    duet = REAL / "fcsn" / "Real-mix_duet-separation" / "sample-1" / "frame.png"
    if duet.is_file():
        frame = load(duet)
        half = frame.shape[1] // 2
        for cls, box in (
            ("clarinet", (0, 0, half, frame.shape[0])),
            ("acoustic_guitar", (half, 0, 2 * half, frame.shape[0])),
        ):
            out.append(("fcsn duet halves", cls, crop_boxes(frame, [box])[0]))
    for clip in sorted(REAL.glob("clipsep-demo/*")):
        with av.open(str(clip / "av.mp4")) as container:
            for f in container.decode(video=0):
                out.append(("clipsep", clip.name.split("-")[0], whole(f.to_ndarray(format="rgb24"))))
    return out


@torch.no_grad()
def score_real(trunk, head, pictures: list[tuple[str, str, np.ndarray]]) -> dict[str, list[str]]:
    """The answers of the ImageNet gathering and of the head for every real picture."""
    answers: dict[str, list[str]] = {"imagenet": [], "head": []}
    for start in range(0, len(pictures), 16):
        x = torch.from_numpy(np.stack([p[2] for p in pictures[start : start + 16]]))
        flat = trunk.normalize(x)
        # the head's own features (a head with its own last stage reads that stage's map)
        crop, zoom = trunk.pooled_parts(flat, head), trunk.pooled_parts(centre_zoom(flat), head)
        n = len(x)
        old = class_views(crop[1].view(n, 1, -1), crop[2].view(n, 1), zoom[1].view(n, 1, -1), zoom[2].view(n, 1))
        answers["imagenet"] += [LABELS[int(i)] for i in old.argmax(-1)]
        answers["head"] += named(*head.view_frames(crop, zoom))
    return answers


def print_table(title: str, tables: dict[str, dict[str, dict[str, int]]]) -> None:
    acc = {s: per_class_accuracy(t) for s, t in tables.items()}
    print(f"\n== {title}: share of pictures named right, per class ==")
    print(f"{'class':<17}{'n':>5}{'ImageNet classes':>18}{'guide head':>12}")
    for cls in acc["head"]:
        n = sum(tables["head"][cls].values())
        print(f"{cls:<17}{n:>5}{acc['imagenet'][cls]:>18.1%}{acc['head'][cls]:>12.1%}")
    for system, table in tables.items():
        print(f"\nconfusion ({system}): true class -> answers")
        for cls, row in sorted(table.items()):
            cells = ", ".join(f"{a} {k}" for a, k in sorted(row.items(), key=lambda kv: -kv[1]))
            print(f"  {cls:<16} {cells}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=20, help="frames per music-solo video (default 20)")
    ap.add_argument("--cache", type=Path, default=ROOT / "runs" / "guide-head" / "features.pt")
    ap.add_argument("--head", type=Path, default=None, help="guide head file (default: the bundled one)")
    ap.add_argument("--json", type=Path, default=None, help="write every confusion table here")
    args = ap.parse_args()
    torch.set_num_threads(1)
    head_path = args.head or guide_head_file()
    if head_path is None:
        sys.exit("no guide head: run avsep train-guide, or pass --head")
    head = load_guide_head(head_path)
    print(f"guide head {head_path.name}")
    report: dict[str, dict] = {}
    if args.cache.is_file():
        held = held_out_report(head, load_cache(args.cache))
        report["held-out photos"] = {s: r["confusion"] for s, r in held.items()}
        print_table("held-out photos (test split, all variants)", report["held-out photos"])
    else:
        print(f"(no feature cache at {args.cache}: held-out photos skipped; avsep train-guide makes it)")
    if not REAL.is_dir():
        sys.exit(f"{REAL} not found: the real frames need ../shared/realclips")
    pictures = real_pictures(args.frames)
    answers = score_real(build_trunk("efficientnet_lite0"), head, pictures)
    truth = [p[1] for p in pictures]
    report["real frames"] = {s: confusion(truth, a) for s, a in answers.items()}
    print_table(f"real frames ({len(pictures)}: {', '.join(sorted({p[0] for p in pictures}))})", report["real frames"])
    for name in sorted({p[0] for p in pictures}):
        keep = [i for i, p in enumerate(pictures) if p[0] == name]
        right = {s: sum(a[i] == truth[i] for i in keep) for s, a in answers.items()}
        print(f"  {name:<18} {len(keep):>4} pictures: ImageNet {right['imagenet']}, head {right['head']} right")
    if args.json:
        json_out(args.json).write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
