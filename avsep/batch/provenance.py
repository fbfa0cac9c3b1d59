"""Which video made these outputs: one record per video, so ``--skip-existing`` skips a video
only when the files it would write are provably its own, and a re-run replaces exactly the
files the previous run of that video wrote.

Output names alone prove nothing: ``day1/x.mp4`` and ``day2/x.mp4`` of another run, another
model or other options write files with the same names. Every written video leaves a record
naming the input (absolute path, size, modification time), the model (its file's sha256) and the
options that shape the sound, the outputs written (relative to the record's folder) and what
was written (each output's sample rate and duration, the boxes and names used).

The record's place depends on the video and the output template only, never on the output
names (:meth:`avsep.batch.job.BatchJob.record_path`: ``OUT/<stem>/.avsep.json`` for the default
template), because the names may come from the players found in the video: a skip is then
decided from the record before the video is decoded, and a re-run that names its outputs
otherwise (``--names`` given once, found the next time) still finds the files of the last run
to replace. It is written just before the outputs are renamed into place, so a run killed
between two renames still finds its own record and completes the set on the next run.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from avsep.errors import InputError
from avsep.io.atomic import atomic_write
from avsep.options import BatchOptions

#: 2: one record per video, its place independent of the output names (1: beside the first output).
RECORD_VERSION = 2


def identity(video: Path, model: str, options: dict) -> dict:
    """What makes outputs a video's own: the input file as it is now, the model and the options."""
    stat = video.stat()
    return {
        "version": RECORD_VERSION,
        "input": {"path": str(video.resolve()), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns},
        "model": model,
        "options": options,
    }


@dataclass
class Verdict:
    """What the record of a video says: ``own`` when it names this very input, model and
    options (and, when given, the outputs expected); otherwise ``reason`` says what differs.
    ``outputs``: the files it lists; ``missing``: those of them not on disk (a run killed
    between two renames); a video is skipped only when its outputs are its own and none is missing."""

    own: bool
    reason: str
    #: the record's details (what was written), for a report of a skipped video
    written: dict = field(default_factory=dict)
    #: the outputs the record lists, as paths (none without a record)
    outputs: list[Path] = field(default_factory=list)
    #: whether the record names this very input file (at any size or time): its outputs are
    #: this video's earlier ones, which a re-run replaces
    same_input: bool = False
    missing: list[Path] = field(default_factory=list)
    #: the input the record names when it is another file (``odd.mp4`` for ``odd.avi``, whose
    #: outputs go to the same place): its outputs are not this video's to mix with or replace
    made_from: str | None = None

    @property
    def complete(self) -> bool:
        """The outputs are this video's own and all there: ``--skip-existing`` skips it."""
        return self.own and not self.missing


def read(record: Path) -> dict | None:
    """The record at ``record``; None when there is none, or it is unreadable or of an older avsep
    (so it proves nothing)."""
    try:
        found = json.loads(record.read_text())
    except (OSError, ValueError):
        return None
    return found if isinstance(found, dict) and found.get("version") == RECORD_VERSION else None


def check(record: Path, expected: dict, paths: list[Path] | None = None) -> Verdict:
    """Compare the record at ``record`` with ``expected`` (from :func:`identity`); ``paths``:
    the outputs this run would write, when known before the video is read (none when the names
    come from the players found)."""
    found = read(record)
    if found is None:
        return Verdict(False, "no record says which video made them (written by another tool or an older avsep)")
    outputs = [_normal(record.parent / p) for p in found.get("outputs", [])]
    written = found.get("written", {})
    same = found.get("input", {}).get("path") == expected["input"]["path"]
    missing = [p for p in outputs if not p.exists()]
    for key, what in (("input", "another input file"), ("model", "another model"), ("options", "other options")):
        if found.get(key) != expected[key]:
            if key == "input" and same:
                what = "another version of the input file (its size or time changed)"
            elif key == "input":
                other = str(found.get("input", {}).get("path", "?"))
                return Verdict(False, f"they were made from {other}", written, outputs, False, missing, other)
            return Verdict(False, f"they were made with {what}", written, outputs, same, missing)
    if paths is not None and outputs != [_normal(p) for p in paths]:
        return Verdict(False, "they were made with other outputs", written, outputs, same, missing)
    return Verdict(True, "", written, outputs, same, missing)


def write(record: Path, expected: dict, paths: list[Path], written: dict) -> Path:
    """Leave the record of a video (atomically): ``expected``, its outputs ``paths`` (relative
    to the record's folder, so a moved output folder keeps its records) and what was ``written``."""
    outputs = [os.path.relpath(p, record.parent) for p in paths]
    body = json.dumps({**expected, "outputs": outputs, "written": written}, indent=1).encode()
    return atomic_write(record, lambda f: f.write(body))


def check_existing(video: Path, paths: list[Path], earlier: Verdict, options: BatchOptions) -> list[Path]:
    """Raise when existing files stop ``video`` (the outputs it would write, ``paths``, or the
    outputs its last run recorded, unless ``overwrite``; with ``skip_existing``, outputs that are
    not provably its own: ``earlier``, its record's verdict; outputs another input's record
    lists, even under other names, unless ``overwrite``: two videos' stems never mix). Returns
    the files of the record's run (this video's, or under ``overwrite`` the other input's) that
    this run replaces and does not write again (removed once the new outputs are in place)."""
    say = options.wording
    replaced = [p for p in earlier.outputs if p not in paths and p.exists()]
    existing = [p for p in paths if p.exists()] + replaced
    theirs = [p for p in earlier.outputs if p.exists()]
    if earlier.made_from is not None and theirs and not (options.overwrite or options.skip_existing):
        raise InputError(
            f"{video}: {theirs[0]} is an output of another video, {earlier.made_from} (by the record beside it); "
            f"pass {say('overwrite')} to replace that video's outputs, or choose another {say('out_dir')}"
        )
    if not existing or options.overwrite or (options.skip_existing and earlier.own):
        return replaced  # a set of its own cut short by a kill completes under --skip-existing
    if options.skip_existing:
        raise InputError(
            f"{video}: its outputs exist but {earlier.reason}; {say('skip_existing')} skips a video only for "
            f"outputs it made: pass {say('overwrite')} to replace them, or choose another {say('out_dir')}"
        )
    raise InputError(
        f"{existing[0]} already exists; pass {say('overwrite')} to replace it"
        + (" (an output of this video's last run, by its record)" if existing[0] in replaced else "")
        + f" or {say('skip_existing')} to skip this video"
    )


def remove_replaced(files: list[Path], made_from: str | None = None) -> list[str]:
    """Remove the outputs of a video's last run that its new outputs replace under other
    names (``--names`` given once, found the next time), or, under ``--overwrite``, those of
    another input ``made_from`` that wrote to the same place: the record listed them, so they
    are that run's and nothing else. Returns the notes that say so."""
    whose = "this video's last run" if made_from is None else made_from
    notes = []
    for path in files:
        path.unlink(missing_ok=True)
        notes.append(f"removed {path}, an output of {whose} that this run replaces")
    return notes


def _normal(path: Path) -> Path:
    """``path`` with ``..`` and ``.`` resolved textually, so recorded and expected paths compare."""
    return Path(os.path.normpath(path))
