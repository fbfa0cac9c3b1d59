"""A tiny dataset in the ``avsep data build`` / MUSIC index layout, made on demand.

Three classes of steady tones far apart in frequency (so an ideal binary mask separates them
almost perfectly), each with a frame colour of its own::

    root/audio/<class>/<id>.wav            mono 11025 Hz
    root/frames/<class>/<id>/000001.jpg    224 x 224, 1 fps (meta.json)
    root/train.csv, val.csv, test.csv      audio_path,frames_dir,num_frames (relative)

Train has a 7 s and a 4 s clip per class (the 4 s one is shorter than a window: padding);
val and test one 7 s clip per class. Import the fixtures into a test module to use them.
"""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import numpy as np
import pytest
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


def make_cache(root: Path, trunk: str = "resnet18") -> Path:
    from avsep.train.features import build_feature_cache

    out = root / f"features-{trunk}.pt"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import torch

        torch.manual_seed(0)
        build_feature_cache([root / f"{s}.csv" for s in ("train", "val", "test")], trunk, out, device="cpu", progress=False)
    return out


@pytest.fixture(scope="session")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_dataset(tmp_path_factory.mktemp("avsep-train-data"))


@pytest.fixture(scope="session")
def feature_cache(dataset: Path) -> Path:
    return make_cache(dataset)
