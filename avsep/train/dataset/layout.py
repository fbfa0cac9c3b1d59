"""The MUSIC / Sound of Pixels index layout, shared by the builder and the trainer's reader.

::

    OUT/audio/<class>/<id>.wav                 mono, 11025 Hz
    OUT/frames/<class>/<id>/000001.jpg ...     224 x 224, frame i covers [(i - 1) / fps, i / fps)
    OUT/train.csv, val.csv, test.csv           rows "audio_path,frames_dir,num_frames"
    OUT/meta.json, clips.jsonl, README.txt

The CSVs follow the Sound of Pixels convention (no header, three comma-separated columns, paths
relative to the dataset directory); :mod:`avsep.train.index` writes and reads them, with
:class:`avsep.train.index.Clip` as the one row type. This module names the files.
"""

from __future__ import annotations

SPLITS = ("train", "val", "test")


def audio_rel(label: str, clip_id: str) -> str:
    return f"audio/{label}/{clip_id}.wav"


def frames_rel(label: str, clip_id: str) -> str:
    return f"frames/{label}/{clip_id}"
