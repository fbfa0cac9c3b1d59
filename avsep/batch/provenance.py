"""Which video made these outputs: a small record beside them, so ``--skip-existing`` skips a
video only when the files it would write are provably its own.

Output names alone prove nothing: ``day1/x.mp4`` and ``day2/x.mp4`` of another run, another
model or other options write files with the same names. Every written video leaves
``.<first output>.avsep.json`` beside its first output, naming the input (absolute path, size,
modification time), the model (its file's sha256) and the options that shape the sound, plus
what was written (each output's sample rate and duration, the boxes and names used). It is
written just before the outputs are renamed into place, so a run killed between two renames
still finds its own record and completes the set on the next run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from avsep.io.atomic import atomic_write

RECORD_VERSION = 1


def record_path(paths: list[Path]) -> Path:
    """Where the record of a video whose outputs are ``paths`` lives."""
    return paths[0].parent / f".{paths[0].name}.avsep.json"


def identity(video: Path, model: str, options: dict, paths: list[Path]) -> dict:
    """What makes outputs a video's own: the input file as it is now, the model, the options
    and the output files (named relative to the record's folder)."""
    stat = video.stat()
    folder = paths[0].parent
    return {
        "version": RECORD_VERSION,
        "input": {"path": str(video.resolve()), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns},
        "model": model,
        "options": options,
        "outputs": [str(p.relative_to(folder)) if p.is_relative_to(folder) else str(p) for p in paths],
    }


@dataclass
class Verdict:
    """What the record beside a video's outputs says: ``own`` when it names this very input,
    model, options and outputs; otherwise ``reason`` says what differs."""

    own: bool
    reason: str
    #: the record's details (what was written), for a report of a skipped video
    written: dict


def check(paths: list[Path], expected: dict) -> Verdict:
    """Compare the record beside ``paths`` with ``expected`` (from :func:`identity`)."""
    path = record_path(paths)
    try:
        found = json.loads(path.read_text())
    except FileNotFoundError:
        return Verdict(False, "no record says which video made them (written by another tool or an older avsep)", {})
    except (OSError, ValueError) as exc:
        return Verdict(False, f"its record {path} is unreadable ({exc})", {})
    written = found.get("written", {})
    for key, what in (
        ("input", "another input file"),
        ("model", "another model"),
        ("options", "other options"),
        ("outputs", "other outputs"),
    ):
        if found.get(key) != expected[key]:
            if key == "input" and found.get("input", {}).get("path") == expected["input"]["path"]:
                what = "another version of the input file (its size or time changed)"
            elif key == "input":
                return Verdict(False, f"they were made from {found.get('input', {}).get('path', '?')}", written)
            return Verdict(False, f"they were made with {what}", written)
    return Verdict(True, "", written)


def write(paths: list[Path], expected: dict, written: dict) -> Path:
    """Leave the record of ``paths`` (atomically): ``expected`` plus what was ``written``."""
    body = json.dumps({**expected, "written": written}, indent=1).encode()
    return atomic_write(record_path(paths), lambda f: f.write(body))
