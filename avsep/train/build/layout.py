"""The MUSIC / Sound of Pixels index layout, shared by the builder and the trainer's reader.

::

    OUT/audio/<class>/<id>.wav                 mono, 11025 Hz
    OUT/frames/<class>/<id>/000001.jpg ...     224 x 224, frame i covers [(i - 1) / fps, i / fps)
    OUT/train.csv, val.csv, test.csv           rows "audio_path,frames_dir,num_frames"
    OUT/meta.json, clips.jsonl, README.txt

The CSVs follow the Sound of Pixels convention: no header, three comma-separated columns, paths
relative to the dataset directory (an absolute path is also accepted when reading, which is
what the real MUSIC index files hold). The class is the name of the audio file's folder.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from avsep.errors import InputError

SPLITS = ("train", "val", "test")


@dataclass(frozen=True)
class IndexRow:
    audio: str  # as written in the CSV
    frames: str
    num_frames: int

    @property
    def label(self) -> str:
        return Path(self.audio).parent.name


def audio_rel(label: str, clip_id: str) -> str:
    return f"audio/{label}/{clip_id}.wav"


def frames_rel(label: str, clip_id: str) -> str:
    return f"frames/{label}/{clip_id}"


def frame_name(index: int) -> str:
    """The file name of frame ``index`` (1-based)."""
    return f"{index:06d}.jpg"


def write_index(path: Path, rows: list[IndexRow]) -> None:
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        for r in rows:
            w.writerow([r.audio, r.frames, r.num_frames])


def read_index(path: Path) -> list[IndexRow]:
    """Rows of a SoP-style index CSV; raises :class:`InputError` naming a malformed line."""
    rows: list[IndexRow] = []
    try:
        text = Path(path).read_text()
    except OSError as e:
        raise InputError(f"cannot read index {path}: {e.strerror}; build one with 'avsep data build'") from e
    for n, line in enumerate(csv.reader(text.splitlines()), 1):
        if not line or not "".join(line).strip():
            continue
        if len(line) != 3:
            raise InputError(f"{path}:{n}: expected 'audio_path,frames_dir,num_frames', got {len(line)} fields")
        try:
            num = int(line[2])
        except ValueError:
            raise InputError(f"{path}:{n}: num_frames {line[2]!r} is not a whole number") from None
        rows.append(IndexRow(line[0].strip(), line[1].strip(), num))
    return rows


def resolve(root: Path, rel: str) -> Path:
    """An index path made absolute against the dataset directory."""
    p = Path(rel)
    return p if p.is_absolute() else Path(root) / p
