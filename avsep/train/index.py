"""Index files: the clips of a MUSIC / Sound of Pixels layout dataset, and their frames.

Index layout (Sound of Pixels / MUSIC): a header-less CSV per split with rows
``audio_path,frames_dir,num_frames``. Paths are relative to the CSV's folder or absolute (the
real MUSIC index files use absolute paths). A clip's *class* is the name of its audio file's
parent folder (``audio/<class>/<id>.wav``). Frames are ``frames_dir/000001.jpg ...`` at a fixed
rate: ``meta.json`` beside the CSV gives it as ``"fps"``; without one, pass ``fps`` (Sound of
Pixels extracted MUSIC at 8 fps, which is the fallback). An optional fourth column names the
ensemble a clip was played in (:mod:`avsep.train.dataset.ensembles`).

Frame timing: frame ``k`` (1-based) shows the time span ``[(k-1)/fps, k/fps)``, so the frame
at time ``t`` is ``floor(t * fps) + 1`` (clamped to ``1..num_frames``), which is Sound of
Pixels' convention (``center_time = (center_frame - 0.5) / fps``).

This is what both the dataset (:mod:`avsep.train.data`) and the feature cache
(:mod:`avsep.train.features`) read; neither imports the other.
"""

from __future__ import annotations

import csv
import json
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from avsep.errors import InputError
from avsep.io.video import crop_boxes
from avsep.signal.chunking import FRAME_OFFSETS

#: Frame rate assumed for an index without ``meta.json`` (Sound of Pixels' MUSIC frames).
DEFAULT_FPS = 8.0
FRAME_SIZE = 224


@dataclass(frozen=True)
class Clip:
    """One row of an index: a solo recording and its extracted frames."""

    audio: Path
    frames_dir: Path
    num_frames: int
    #: the ensemble the clip was played in (:mod:`avsep.train.dataset.ensembles`), "" for a
    #: solo: the clips of one group are aligned, so parts of one piece can be mixed as played
    group: str = ""

    @property
    def label(self) -> str:
        """The clip's class: the name of the folder that holds its audio file."""
        return self.audio.parent.name

    def frame_path(self, number: int) -> Path:
        return self.frames_dir / f"{number:06d}.jpg"


@dataclass
class Index:
    """The clips of one or more index CSVs, with their frame rate."""

    clips: list[Clip]
    fps: float
    sources: list[str] = field(default_factory=list)  # the CSV files read

    @property
    def classes(self) -> list[str]:
        return sorted({c.label for c in self.clips})

    def __len__(self) -> int:
        return len(self.clips)


def _read_fps(csv_path: Path, fps: float | None) -> float:
    if fps is not None:
        if not fps > 0:
            raise InputError(f"--fps must be positive, got {fps}")
        return float(fps)
    meta = csv_path.parent / "meta.json"
    if meta.is_file():
        try:
            value = float(json.loads(meta.read_text())["fps"])
        except (ValueError, KeyError, TypeError) as exc:
            raise InputError(
                f"{meta}: no numeric 'fps' field ({type(exc).__name__}); fix the file or pass --fps"
            ) from exc
        if value > 0:
            return value
        raise InputError(f"{meta}: fps must be positive, got {value}")
    return DEFAULT_FPS


def read_index(paths: str | Path | Sequence[str | Path], fps: float | None = None) -> Index:
    """Read one index CSV (or several, concatenated; they must agree on the frame rate)."""
    if isinstance(paths, (str, Path)):
        paths = [paths]
    clips: list[Clip] = []
    rates: set[float] = set()
    for p in paths:
        path = Path(p)
        if not path.is_file():
            raise InputError(f"{path}: index file not found (expected a CSV of audio,frames,num_frames)")
        rates.add(_read_fps(path, fps))
        base = path.parent
        with path.open(newline="") as f:
            for line_no, row in enumerate(csv.reader(f), 1):
                if not row or all(not cell.strip() for cell in row):
                    continue
                if len(row) < 3:
                    raise InputError(
                        f"{path}:{line_no}: expected 'audio_path,frames_dir,num_frames', got {','.join(row)!r}"
                    )
                try:
                    num_frames = int(row[2])
                except ValueError:
                    raise InputError(f"{path}:{line_no}: num_frames {row[2]!r} is not an integer") from None
                if num_frames < 1:
                    raise InputError(f"{path}:{line_no}: num_frames must be at least 1, got {num_frames}")
                audio, frames = Path(row[0].strip()), Path(row[1].strip())
                clips.append(  # normalised: an ensembles build reaches its base's clips through ../
                    Clip(
                        Path(os.path.normpath(audio if audio.is_absolute() else base / audio)),
                        Path(os.path.normpath(frames if frames.is_absolute() else base / frames)),
                        num_frames,
                        row[3].strip() if len(row) > 3 else "",
                    )
                )
    if not clips:
        raise InputError(f"{', '.join(map(str, paths))}: the index is empty")
    if len(rates) > 1:
        raise InputError(f"index files disagree on the frame rate ({sorted(rates)}); pass --fps")
    return Index(clips, rates.pop(), [str(p) for p in paths])


def write_index(path: Path, clips: Sequence[Clip]) -> None:
    """An index CSV of ``clips`` (no header), paths relative to the CSV's folder, which
    :func:`read_index` resolves against it again; a clip of an ensemble has a fourth column,
    its group."""
    base = Path(path).parent
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        for c in clips:
            row = [Path(os.path.relpath(p, base)).as_posix() for p in (c.audio, c.frames_dir)] + [c.num_frames]
            w.writerow(row + [c.group] if c.group else row)


def resolve_split(path: str | Path, split: str) -> Path:
    """``path`` itself if it is a CSV, else ``path/<split>.csv`` (a built dataset folder)."""
    path = Path(path)
    if path.is_dir():
        path = path / f"{split}.csv"
    return path


def frame_numbers(centre: float, fps: float, num_frames: int, offsets: Sequence[float] = FRAME_OFFSETS) -> list[int]:
    """1-based frame numbers shown at ``centre + offset`` seconds, clamped to the clip."""
    return [min(max(int(math.floor((centre + off) * fps)) + 1, 1), num_frames) for off in offsets]


def read_frames(clip: Clip, numbers: Sequence[int], size: int = FRAME_SIZE) -> np.ndarray:
    """Frames ``[len(numbers), size, size, 3]`` uint8.

    Frames of another size are resized as the separator resizes a box
    (:func:`avsep.io.video.crop_boxes` with the whole frame as the box).
    """
    from PIL import Image

    out = np.empty((len(numbers), size, size, 3), dtype=np.uint8)
    for i, n in enumerate(numbers):
        path = clip.frame_path(n)
        try:
            with Image.open(path) as im:
                pixels = np.asarray(im.convert("RGB"))
            if pixels.shape[:2] != (size, size):
                pixels = crop_boxes(pixels, [(0, 0, pixels.shape[1], pixels.shape[0])], size)[0]
            out[i] = pixels
        except FileNotFoundError:
            raise InputError(f"{path}: frame of the index not found (num_frames says {clip.num_frames})") from None
    return out
