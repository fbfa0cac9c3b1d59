"""Claim an output before writing it, and clear what an interrupted run left behind.

Two runs into one folder (two shells, two machines of a cluster, a Ray task retried while the
lost one still writes) must never both write one file: whoever writes ``x.wav`` first creates
the marker ``.x.wav.claim`` beside it with ``O_CREAT | O_EXCL``, which exactly one process can
do; the other is told who holds it. A run killed with ``kill -9`` cannot remove its marker, so
a marker whose process is gone (same host: the pid is dead; another host: the marker was not
refreshed for :data:`STALE_AFTER` seconds) is stale and taken over, and so is one of the same
run and input: a Ray task retried on another machine after its first machine was lost. Once an
output is claimed,
any hidden temporary file of it (``.x.wav.<random>.tmp``, see :mod:`avsep.io.wav`) can only be
the remains of an interrupted write: they are removed, and the caller says so.
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from avsep.errors import InputError, write_error

#: Seconds without a refresh after which another host's claim counts as abandoned.
STALE_AFTER = 600.0
#: How often a held claim is refreshed (its marker's mtime), at most.
REFRESH_EVERY = 30.0


def marker(path: Path) -> Path:
    """The claim marker of output ``path``."""
    return path.parent / f".{path.name}.claim"


def stale_temporaries(path: Path) -> list[Path]:
    """Hidden temporary files of ``path`` left by writes that never finished."""
    return sorted(path.parent.glob(f".{path.name}.*.tmp"))


def remove_stale_temporaries(path: Path) -> list[str]:
    """Remove :func:`stale_temporaries` of ``path``; one note per file removed. Only for a path
    this process owns (claimed, or a report it alone writes)."""
    notes = []
    for tmp in stale_temporaries(path):
        tmp.unlink(missing_ok=True)
        notes.append(f"removed {tmp}, a temporary file left by an interrupted run")
    return notes


def _alive(pid: int) -> bool:
    """Whether process ``pid`` of this host still runs. A zombie does not: a worker killed with
    its batch stays one until something reaps it (in a container whose first process does not,
    for good), and it answers signal 0 like a live process."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # someone else's process: alive unless a zombie
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True  # no /proc (not Linux) or it just went: the signal's answer stands
    return state != "Z"


def _holder(mark: Path, run: str, owner: str) -> dict | None:
    """Who holds ``mark`` (``pid``, ``host``, ``input``, ``run``), or None when the claim is
    stale or an earlier attempt of this very run at this very input."""
    try:
        info = json.loads(mark.read_text())
        age = time.time() - mark.stat().st_mtime
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        info, age = {}, 0.0  # being written this instant, or unreadable: treat as held
    if info.get("run") == run and info.get("input") == owner:
        return None
    if info.get("host") == socket.gethostname():
        return info if _alive(int(info.get("pid", -1))) else None
    return info if age < STALE_AFTER else None


class Claim:
    """Outputs claimed by this process; :meth:`refresh` keeps a long write's claim fresh."""

    def __init__(self, markers: list[Path], notes: list[str]) -> None:
        self.markers = markers
        #: what was cleaned up on the way (stale claims taken over, temporary files removed)
        self.notes = notes
        self._refreshed = time.monotonic()

    def refresh(self) -> None:
        if time.monotonic() - self._refreshed >= REFRESH_EVERY:
            self._refreshed = time.monotonic()
            for m in self.markers:
                os.utime(m)


def _take(path: Path, owner: str, run: str, notes: list[str]) -> Path:
    mark = marker(path)
    body = json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "input": owner, "run": run}).encode()
    for _ in range(3):
        try:
            fd = os.open(mark, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            holder = _holder(mark, run, owner)
            if holder is not None:
                who = f"pid {holder.get('pid', '?')} on {holder.get('host', '?')}"
                raise InputError(
                    f"{path} is being written by another run ({who}, for {holder.get('input', '?')}); "
                    f"wait for it, or delete {mark} if that run is gone"
                ) from None
            mark.unlink(missing_ok=True)
            notes.append(f"took over the claim on {path} left by an interrupted run")
            continue
        try:
            os.write(fd, body)
        finally:
            os.close(fd)
        return mark
    raise InputError(f"{path}: could not claim it ({mark} keeps coming back); is another run writing it?")


@contextmanager
def claim(paths: Sequence[Path], owner: str, run: str) -> Iterator[Claim]:
    """Claim every output in ``paths`` for ``owner`` (the input's name) of batch ``run`` (an id
    unique to one invocation) while the block runs,
    after removing their stale temporary files; raises :class:`InputError` when another live
    run holds one. The markers go when the block ends, however it ends."""
    taken: list[Path] = []
    notes: list[str] = []
    made: list[Path] = []  # folders made for these outputs: removed again if they end up empty
    try:
        for p in paths:
            made += [d for d in (p.parent, *p.parent.parents) if not d.exists()]
            try:
                p.parent.mkdir(parents=True, exist_ok=True)
                taken.append(_take(p, owner, run, notes))
            except OSError as exc:  # a folder that refuses files (read-only, immutable, /sys)
                raise write_error(p, exc) from None
        for p in paths:
            notes += remove_stale_temporaries(p)
        yield Claim(taken, notes)
    finally:
        for m in taken:
            m.unlink(missing_ok=True)
        _remove_if_empty(made)


def _remove_if_empty(folders: list[Path]) -> None:
    """Remove the folders a claim made that hold nothing (the video failed or was interrupted
    before its outputs were renamed into them), deepest first: a stopped batch leaves no empty
    output folders behind. A folder with anything in it stays."""
    for folder in sorted(set(folders), key=lambda d: len(d.parts), reverse=True):
        try:
            folder.rmdir()
        except OSError:  # not empty (outputs, another video's), or already gone
            pass
