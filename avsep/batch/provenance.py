"""Which video made these outputs: one record per video, so ``--skip-existing`` skips a video
only when the files it would write are provably its own, and a re-run replaces exactly the
files the previous run of that video wrote.

Output names alone prove nothing: ``day1/x.mp4`` and ``day2/x.mp4`` of another run, another
model or other options write files with the same names. Every written video leaves a record
naming the input (absolute path, size, modification time and a digest of its content), the model
(its file's sha256) and the options that shape the sound, the outputs written (relative to the
record's folder) and what was written (each output's sample rate and duration, the boxes and
names used).

The input is known by its content, not by its path or times: an archive moved, copied without
``cp -p`` or mounted elsewhere keeps its videos' records. The digest covers the size and the
first and last :data:`ENDS` bytes (:func:`content_digest`): 6-16 ms on a 1-GB file, where a
whole-file sha256 took 0.75-1.1 s from a local SSD (about 10 s at a network share's 100 MB/s),
a price every skipped video would pay at every run. The ends are enough for video: they hold
the first and last seconds of the encoded streams, and a container keeps its index of every
frame's size and place (MP4's ``moov``, MKV's cues, AVI's ``idx1``) at its start or its end, so
a re-encode, a trim or another take changes the ends or the size; only an edit in place of the
same length confined to the middle (a patch of bytes, not what an editor writes) goes unseen.
Records written before the digest (version 2) keep the rule of their time: the same path, size
and modification time.

The record's place depends on the video and the output template only, never on the output
names (:meth:`avsep.batch.job.BatchJob.record_path`: ``OUT/<stem>/.avsep.json`` for the default
template), because the names may come from the players found in the video: a skip is then
decided from the record before the video is decoded, and a re-run that names its outputs
otherwise (``--names`` given once, found the next time) still finds the files of the last run
to replace. It is written just before the outputs are renamed into place, so a run killed
between two renames still finds its own record and completes the set on the next run.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from avsep.boxes.request import GIVEN, STRIPS, BoxRequest
from avsep.errors import InputError, already_exists
from avsep.io.atomic import atomic_write
from avsep.options import BatchOptions
from avsep.timerange import TimeRange

#: 3: the input known by its content (2: by its path, size and time, still read; 1: beside the
#: first output, proves nothing).
RECORD_VERSION = 3
#: The versions whose records are read (a version 2 record is judged by its path, size and time).
READ_VERSIONS = (2, RECORD_VERSION)
#: Bytes of each end of an input that its content digest covers (see the module's docstring).
ENDS = 4 << 20


def content_digest(video: Path) -> str:
    """The sha256 of the size and the first and last :data:`ENDS` bytes of ``video`` (all of a
    smaller file): what says that a moved or touched input is still the one whose outputs exist."""
    with video.open("rb") as f:
        size = os.fstat(f.fileno()).st_size
        digest = hashlib.sha256(f"{size}\n".encode())
        digest.update(f.read(ENDS))
        if size > ENDS:
            f.seek(max(ENDS, size - ENDS))
            digest.update(f.read(ENDS))
    return digest.hexdigest()


def identity(video: Path, model: str, options: dict) -> dict:
    """What makes outputs a video's own: the input file as it is now, the model and the options."""
    stat = video.stat()
    return {
        "version": RECORD_VERSION,
        "input": {
            "path": str(video.resolve()),
            "size": stat.st_size,
            "mtime_ns": stat.st_mtime_ns,
            "content": content_digest(video),
        },
        "model": model,
        "options": options,
    }


def record_options(request: BoxRequest, names: list[str] | None, options: BatchOptions, span: TimeRange) -> dict:
    """The options that shape a video's outputs, as its record names them: the boxes asked for
    (``request``: a sidecar's or the given ones, strips or auto), ``names``, counts, format, range."""
    if request.kind == GIVEN:
        boxes: object = request.plan.to_json()["boxes"]
    else:
        boxes = "strips" if request.kind == STRIPS else "auto"
    return {
        "boxes": boxes,
        "names": names,
        "sources": request.sources,
        "format": options.fmt,
        "bitrate": options.bitrate,
        "sample_rate": options.sample_rate,
        "residual": options.residual,
        "mono": options.mono,
        "audio_stream": options.audio_stream,
        "video_stream": options.video_stream,
        "range": span.to_json(),
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
    missing: list[Path] = field(default_factory=list)
    #: what a skip says besides (the outputs were made from the same content at another path)
    note: str = ""
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
    return found if isinstance(found, dict) and found.get("version") in READ_VERSIONS else None


def same_content(found: dict, expected: dict) -> tuple[bool, str]:
    """Whether the input a record names (``found``) is ``expected``'s (both :func:`identity`'s
    ``input``): by its content digest (which covers the size), or, for a record without one
    (version 2), by path, size and modification time. The second item says what changed at the
    same path."""
    if "content" in found:
        return found["content"] == expected["content"], "its content changed"
    keys = ("path", "size", "mtime_ns")
    return all(found.get(k) == expected[k] for k in keys), "its size or time changed"


def check(record: Path, expected: dict, paths: list[Path] | None = None) -> Verdict:
    """Compare the record at ``record`` with ``expected`` (from :func:`identity`); ``paths``:
    the outputs this run would write, when known before the video is read (none when the names
    come from the players found)."""
    found = read(record)
    if found is None:
        return Verdict(False, "no record says which video made them (written by another tool or an older avsep)")
    outputs = [_normal(record.parent / p) for p in found.get("outputs", [])]
    written = found.get("written", {})
    was = found.get("input", {})
    same_path = was.get("path") == expected["input"]["path"]
    content, changed = same_content(was, expected["input"])
    verdict = Verdict(False, "", written, outputs, [p for p in outputs if not p.exists()])
    if not content:
        verdict.reason = f"they were made from {was.get('path', '?')}"
        if same_path:
            verdict.reason = f"they were made with another version of the input file ({changed})"
        else:
            verdict.made_from = str(was.get("path", "?"))
        return verdict
    for key, what in (("model", "another model"), ("options", "other options")):
        if found.get(key) != expected[key]:
            verdict.reason = f"they were made with {what}"
            return verdict
    if paths is not None and outputs != [_normal(p) for p in paths]:
        verdict.reason = "they were made with other outputs"
        return verdict
    verdict.own = True
    verdict.note = "" if same_path else f"made from {was.get('path')}, the same file content"
    return verdict


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
    _refuse_another_input(video, earlier, options)  # again: another run may have written since
    if not existing or options.overwrite or (options.skip_existing and earlier.own):
        return replaced  # a set of its own cut short by a kill completes under --skip-existing
    if options.skip_existing:
        raise _not_its_own(video, earlier, options)
    note = " (an output of this video's last run, by its record)" if existing[0] in replaced else ""
    raise already_exists(existing[0], say("overwrite"), more=f"{note} or {say('skip_existing')} to skip this video")


def skip_note(verdict: Verdict, options: BatchOptions) -> str:
    """Why ``--skip-existing`` skips a video whose record proves its outputs its own (``verdict``
    complete), and from which path they were made when not this one."""
    return f"its outputs exist ({options.wording('skip_existing')})" + (f"; {verdict.note}" if verdict.note else "")


def refuse_early(video: Path, verdict: Verdict, options: BatchOptions) -> None:
    """Fail ``video`` before it is read (no probe, no search for players) when the record in its
    place (``verdict``) already says the run would stop at existing outputs: those of another
    input (unless ``overwrite``), or under ``--skip-existing`` any not provably its own. The
    record and its outputs decide, so a refused video costs no decoding."""
    _refuse_another_input(video, verdict, options)
    if options.skip_existing and not verdict.own and any(p.exists() for p in verdict.outputs):
        raise _not_its_own(video, verdict, options)


def _refuse_another_input(video: Path, verdict: Verdict, options: BatchOptions) -> None:
    """Raise when outputs that another input's record lists exist in ``video``'s place: two
    videos' stems never mix. ``overwrite`` replaces that video's outputs; ``skip_existing``
    refuses them as not this video's own (:func:`_not_its_own`)."""
    theirs = [p for p in verdict.outputs if p.exists()]
    if verdict.made_from is None or not theirs or options.overwrite or options.skip_existing:
        return
    say = options.wording
    raise InputError(
        f"{video}: {theirs[0]} is an output of another video, {verdict.made_from} (by the record beside it); "
        f"pass {say('overwrite')} to replace that video's outputs, or choose another {say('out_dir')}"
    )


def _not_its_own(video: Path, verdict: Verdict, options: BatchOptions) -> InputError:
    """The error of a video whose outputs exist and are not its own, under ``--skip-existing``."""
    say = options.wording
    return InputError(
        f"{video}: its outputs exist but {verdict.reason}; {say('skip_existing')} skips a video only for "
        f"outputs it made: pass {say('overwrite')} to replace them, or choose another {say('out_dir')}"
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
