"""A tiny dataset in the ``avsep data build`` / MUSIC index layout, made on demand.

Three classes of steady tones far apart in frequency (so an ideal binary mask separates them
almost perfectly), each with a frame colour of its own::

    root/audio/<class>/<id>.wav            mono 11025 Hz
    root/frames/<class>/<id>/000001.jpg    224 x 224, 1 fps (meta.json)
    root/train.csv, val.csv, test.csv      audio_path,frames_dir,num_frames (relative)

Train has a 7 s and a 4 s clip per class (the 4 s one is shorter than a window: padding);
val and test one 7 s clip per class. ``tests/train/conftest.py`` serves them as fixtures.
"""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import numpy as np
import soundfile as sf

SR = 11025
FPS = 1.0
CLASSES = {"low": (220.0, (200, 40, 40)), "mid": (880.0, (40, 200, 40)), "high": (3000.0, (40, 40, 200))}
TINY_PCN = (4, 4, 8, 8, 8, 8, 8)


def _tone(freq: float, seconds: float, seed: int) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    rng = np.random.default_rng(seed)
    env = 0.6 + 0.4 * np.sin(2 * np.pi * rng.uniform(0.3, 1.0) * t + rng.uniform(0, 6))
    x = 0.4 * env * np.sin(2 * np.pi * freq * t + rng.uniform(0, 6))
    return x.astype(np.float32)


def _frames(folder: Path, colour: tuple[int, int, int], count: int, seed: int) -> None:
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for k in range(1, count + 1):
        img = np.empty((224, 224, 3), dtype=np.uint8)
        img[:] = np.clip(np.array(colour) + rng.integers(-20, 20, 3), 0, 255)
        img[80:144, 80:144] = 255 - img[0, 0]  # a patch, so frames are not flat
        Image.fromarray(img).save(folder / f"{k:06d}.jpg", quality=90)


def make_dataset(root: Path) -> Path:
    """Write the fixture dataset under ``root``; returns ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "meta.json").write_text(json.dumps({"fps": FPS}))
    splits: dict[str, list[str]] = {"train": [], "val": [], "test": []}
    plan = [("train", 7.0), ("train", 4.0), ("val", 7.0), ("test", 7.0)]
    for c, (cls, (freq, colour)) in enumerate(CLASSES.items()):
        for j, (split, seconds) in enumerate(plan):
            clip_id = f"{cls}{j}"
            seed = 100 * c + j
            audio = root / "audio" / cls / f"{clip_id}.wav"
            audio.parent.mkdir(parents=True, exist_ok=True)
            sf.write(audio, _tone(freq * (1.0 + 0.03 * j), seconds, seed), SR, subtype="FLOAT")
            frames = root / "frames" / cls / clip_id
            count = int(math.ceil(seconds * FPS))
            _frames(frames, colour, count, seed)
            splits[split].append(f"audio/{cls}/{clip_id}.wav,frames/{cls}/{clip_id},{count}")
    for split, rows in splits.items():
        (root / f"{split}.csv").write_text("\n".join(rows) + "\n")
    return root


def make_cache(
    root: Path, trunk: str = "resnet18", splits: tuple[str, ...] = ("train", "val", "test"), out: Path | None = None
) -> Path:
    """A real cache: the (random, seeded) trunk run over every frame of ``splits``."""
    from avsep.train.features import build_feature_cache

    out = out or root / f"features-{trunk}.pt"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import torch

        torch.manual_seed(0)
        build_feature_cache([root / f"{s}.csv" for s in splits], trunk, out, device="cpu", progress=False)
    return out


def make_synthetic_cache(root: Path, dim: int = 512) -> Path:
    """A cache in the real format whose vectors depend on the class (fast: no trunk run).

    Each class has a fixed random non-negative pattern; every frame adds a little noise. It
    stands in for ImageNet features, which separate instrument pictures, whereas a random
    trunk's features of flat colours barely do.
    """
    import torch

    from avsep.models.imagenet_music import MUSIC_INDICES
    from avsep.train.features import FORMAT, VERSION, cache_key
    from avsep.train.index import read_index

    rng = np.random.default_rng(7)
    patterns = {c: np.abs(rng.standard_normal(dim)) for c in CLASSES}
    # the classifier "recognises" each class as one music class of its own
    music = {c: 8.0 * np.eye(len(MUSIC_INDICES))[3 * k] for k, c in enumerate(CLASSES)}
    keys, offsets, counts, rows, logits = [], [], [], [], []
    for split in ("train", "val", "test"):
        for clip in read_index(root / f"{split}.csv").clips:
            keys.append(cache_key(clip.frames_dir))
            offsets.append(sum(counts))
            counts.append(clip.num_frames)
            rows.append(patterns[clip.label] + 0.1 * np.abs(rng.standard_normal((clip.num_frames, dim))))
            logits.append(music[clip.label] + rng.standard_normal((clip.num_frames, len(MUSIC_INDICES))))
    out = root / "features-synthetic.pt"
    torch.save(
        {
            "format": FORMAT,
            "version": VERSION,
            "trunk": "resnet18",
            "feature_dim": dim,
            "pretrained": False,
            "weights_sha256": None,
            "keys": keys,
            "offsets": torch.tensor(offsets),
            "counts": torch.tensor(counts),
            "features": torch.from_numpy(np.concatenate(rows)).to(torch.float16),
            "music_logits": torch.from_numpy(np.concatenate(logits)).to(torch.float16),
            "logsumexp": torch.full((sum(counts),), 9.0),
        },
        out,
    )
    return out
