"""Which frame guide separates better: duets of real recordings, each box one held-out photo.

    python -m benchmarks.guide_separation                       # val split, ~3 min on 1 core
    python -m benchmarks.guide_separation --split test --json runs/bench/guide-separation-test.json

The frame guide tells a label-trained model which instrument a box shows. This benchmark asks
what that costs or gains in the separation, on material this project may choose by: each duet
adds two real recordings of different classes (``data/real4/{split}-real.csv``: the build's
held-out real-audio clips, 6 s from the start, equal RMS), and each box is one rendering of a
photo of that class from the guide head's same split (``avsep train-guide``: split by file; a
tight box or a composed scene, as the head's cache renders them), so neither the head nor the
separation network saw the pictures or the sounds. Systems (``--systems``):

* ``imagenet``: the frozen classifier's ImageNet music classes gathered into avsep's 11
  (``Separator(guide_head=False)``);
* ``head``: the bundled guide head, a box it is unsure of taking what the other leaves (the
  default);
* ``labels``: the true classes (what ``--names`` gives): the ceiling of any frame guide.

``--outside data/other1/{split}-real.csv`` makes the second part of each duet a recording of
an instrument outside the 11, shown by a photo of one (banjo, drums, harp, piano ...); its
true name is then ``other``.

Reported per system: SDRi (BSS Eval v3, ratio masks), right box, and how often the guide's
largest coordinate names the box's class. ``val`` chooses; ``test`` reports.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

import numpy as np
import soundfile as sf

from benchmarks import json_out

ROOT = Path(__file__).resolve().parents[1]
PHOTOS = ROOT.parent / "shared" / "datasets" / "photos"
SR = 11025
WINDOW = 65535
SYSTEMS = ("imagenet", "head", "labels")


def recordings(index: Path) -> dict[str, list[Path]]:
    """class -> the real-audio clips of an index CSV (``audio/<class>/<file>.wav,...``)."""
    out: dict[str, list[Path]] = {}
    for line in index.read_text().splitlines():
        rel = line.split(",")[0]
        out.setdefault(rel.split("/")[1], []).append(index.parent / rel)
    return out


def pictures(split: str) -> dict[str, list]:
    """class -> the guide head's ``split`` photos of it (GuidePicture)."""
    from avsep.train.guide_photos import list_pictures, split_pictures

    found = list_pictures(PHOTOS)
    split_of = split_pictures(found)
    out: dict[str, list] = {}
    for p in found:
        if split_of[p.key] == split:
            out.setdefault(p.target, []).append(p)
    return out


def make_duets(index: Path, split: str, count: int, seed: int, outside: Path | None = None) -> list[dict]:
    """``count`` duets: two classes with both sounds and pictures, one clip and one rendering each.
    With ``outside`` (an index of recordings of instruments outside the 11), the second part of
    each is one of those, shown by a photo of an instrument outside the 11."""
    from avsep.models.guide import OTHER
    from avsep.train.dataset.system import check_toolchain
    from avsep.train.guide_photos import render_variant

    sounds, photos = recordings(index), pictures(split)
    classes = sorted(set(sounds) & set(photos) - {OTHER})
    if outside is not None:
        sounds[OTHER] = recordings(outside)[OTHER]
    rng = np.random.default_rng(seed)
    tools = check_toolchain()
    duets = []
    for _ in range(count):
        pair = [classes[i] for i in rng.choice(len(classes), 2, replace=False)]
        if outside is not None:
            pair[1] = OTHER
        refs, frames = [], []
        for cls in pair:
            audio, rate = sf.read(sounds[cls][rng.integers(len(sounds[cls]))], dtype="float32", always_2d=True)
            if rate != SR:
                raise SystemExit(f"{index}: clips must be {SR} Hz (got {rate})")
            clip = audio.mean(1)[:WINDOW]
            refs.append(0.1 * clip / max(float(np.sqrt(np.mean(clip**2))), 1e-6))
            pic = photos[cls][rng.integers(len(photos[cls]))]
            frames.append(render_variant(pic, int(rng.integers(2)), tools)[None])
        duets.append({"pair": pair, "refs": np.stack(refs), "frames": frames})
    return duets


def said(sep, guides) -> list[str]:
    """What each box's guide names, as the separation reads it
    (:meth:`avsep.separation.engine.Engine.model_guides`): ``other`` where the box takes what
    the others leave, else the largest of its classes."""
    from avsep.models.guide import LABELS, OTHER

    to_model, rest = sep.model_guides(guides[None])
    taking = rest[0] if rest is not None else [False] * len(guides)
    return [OTHER if bool(r) else LABELS[int(g[: len(LABELS)].argmax())] for g, r in zip(to_model[0], taking)]


def run(system: str, duets: list[dict], model: str | None) -> dict:
    """Separate every duet with one guide; SDRi, right box, guide named right."""
    from avsep.separation.separator import Separator
    from avsep.train.eval.scores import aggregate_items, per_instrument, score_clip

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sep = Separator(model, device="cpu", guide_head=system == "head")
    items, skipped, named = [], [], []
    for d in duets:
        mix = d["refs"].sum(0)
        if system == "labels":
            est = sep.separate_arrays(mix, SR, names=d["pair"])
        else:
            est = sep.separate_arrays(mix, SR, d["frames"], names=None)
            guides = sep.guide(np.stack(d["frames"])[None])[0]  # [2, 12]: each box's one frame
            named += [n == c for n, c in zip(said(sep, guides), d["pair"])]
        got = score_clip(d["refs"], est, mix, "+".join(d["pair"]), skipped)
        if got is not None:
            items.append({"pair": d["pair"], **got})
    agg = aggregate_items(items)
    return {
        "sdri": agg["sdri"]["mean"],
        "right_box": agg["right_box_rate"],
        "guide_right": float(np.mean(named)) if named else None,
        "per_class": {c: r["sdri"]["mean"] for c, r in per_instrument(items).items()},
        "scored": len(items),
        "skipped": skipped,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--split", choices=("val", "test"), default="val")
    ap.add_argument("--data", type=Path, default=ROOT / "data" / "real4", help="a build with {split}-real.csv")
    ap.add_argument("--duets", type=int, default=60)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--systems", default=",".join(SYSTEMS))
    ap.add_argument("--model", default=None)
    ap.add_argument("--outside", type=Path, help="an index of outside recordings (data/other1/{split}-real.csv)")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    index = args.data / f"{args.split}-real.csv"
    if not index.is_file() or not PHOTOS.is_dir():
        sys.exit(f"needs {index} (avsep data build) and {PHOTOS}")
    duets = make_duets(index, args.split, args.duets, args.seed, args.outside)
    report = {"split": args.split, "duets": len(duets), "systems": {}}
    for system in args.systems.split(","):
        r = report["systems"][system] = run(system, duets, args.model)
        right = "" if r["guide_right"] is None else f", guide names the class {100 * r['guide_right']:.0f}%"
        cells = ", ".join(f"{c} {v:+.2f}" for c, v in r["per_class"].items())
        print(f"{system:>9}: SDRi {r['sdri']:+.2f} dB, right box {100 * r['right_box']:.0f}%{right}; {cells}")
    if args.json:
        json_out(args.json).write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
