"""Path mistakes the command line catches before it loads anything heavy.

A missing video or an ``-o`` that names a file would otherwise be found only after torch, PyAV
and the model have loaded (seconds), or, for ``-o``, after the separation itself. These checks
need only the file system, so they run first and answer at once, with the usage exit code.
Standard library, :mod:`avsep.errors` and :mod:`avsep.options` only.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

from avsep.errors import InputError, already_exists, no_such_file, write_error
from avsep.options import picture_format


def check_inputs_exist(inputs: Sequence[Path]) -> None:
    """When none of ``inputs`` exists there is nothing to do: say so now. (With some present,
    the batch runs and reports each missing one in its place.)"""
    missing = [p for p in inputs if not p.exists()]
    if not missing or len(missing) < len(inputs):
        return
    if len(missing) == 1:
        raise no_such_file(missing[0])
    raise InputError(f"{', '.join(map(str, missing))}: no such files; check the paths")


def check_output_folder(out: str | Path, option: str = "-o") -> None:
    """``out`` must be a folder (made if missing) that takes files: refuse a path that is, or lies
    under, a file, or whose nearest existing folder refuses new files (:func:`check_can_write`)."""
    if str(out) == "-":
        return
    path = Path(out)
    nearest = _nearest_existing(path)
    if not nearest.is_dir():
        what = "is a file" if nearest == path else f"lies under the file {nearest}"
        raise InputError(f"{option} {out}: {what}, not a folder; give a folder for the outputs (made if missing)")
    _probe(nearest, path)


def check_picture_file(path: Path | None, option: str, overwrite: bool) -> None:
    """A picture to write (``info --preview``), checked before the video is read: an extension
    that names a format avsep writes, and no existing file replaced without ``--overwrite``."""
    if path is None:
        return
    picture_format(path, option)
    if path.is_dir():
        raise InputError(f"{option} {path}: is a folder; give a file name for the picture")
    if path.exists() and not overwrite:
        raise already_exists(path)
    check_can_write(path)


def check_can_write(path: Path) -> None:
    """Refuse now, with the one line of a failed write, a file ``path`` whose nearest existing
    folder takes no new file (:func:`_probe`)."""
    _probe(_nearest_existing(path.parent), path)


def _nearest_existing(path: Path) -> Path:
    """``path`` itself or the nearest of its parents that exists ("." or "/" at the last)."""
    return next(p for p in (path, *path.parents) if p.exists())


def _probe(folder: Path, path: Path) -> None:
    """Make and remove a temporary file in the existing ``folder`` that ``path`` (a file, or a
    folder to write in) would be made in: a read-only mount, an immutable folder or a pseudo file
    system refuses it, as root passes any permission test but not these. Found at the end, the
    refusal came after the video was read and its players were searched for."""
    try:
        fd, probe = tempfile.mkstemp(prefix=".avsep-probe.", dir=folder)
    except OSError as exc:
        raise write_error(path, exc) from None
    os.close(fd)
    os.unlink(probe)
