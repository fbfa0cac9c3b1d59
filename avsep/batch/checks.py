"""The batch's options checked before anything heavy loads: names, rates, skip/overwrite, ``-o -``.

:meth:`avsep.batch.job.BatchJob.create` runs these checks first; the command line runs them itself
before it imports :mod:`avsep.batch.job` (which brings PyAV and the separation), so a mistake in
the options answers at once. Standard library, :mod:`avsep.errors`, :mod:`avsep.options` and the
(light) :mod:`avsep.boxes.request` only. :func:`output_names` and :func:`find_videos` live here
because the checks need them; :mod:`avsep.batch.job` uses them from here.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from avsep.boxes.request import BoxRequest
from avsep.errors import InputError
from avsep.options import VIDEO_EXTENSIONS


def find_videos(inputs: Iterable[Path]) -> tuple[list[Path], list[tuple[Path, str]]]:
    """Files as given plus video files found (recursively) in folders; missing paths are errors."""
    videos: list[Path] = []
    problems: list[tuple[Path, str]] = []
    for p in inputs:
        if p.is_dir() and p.suffix.lower() not in VIDEO_EXTENSIONS:
            found = sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in VIDEO_EXTENSIONS)
            if not found:
                extensions = " ".join(sorted(VIDEO_EXTENSIONS))
                problems.append(
                    (p, f"{p}: folder holds no video files ({extensions}); give a video or a folder of videos")
                )
            videos.extend(found)
        else:
            videos.append(p)  # missing files, directories named like videos: probe reports them
    return videos, problems


def output_names(count: int, names: list[str] | None, residual: bool) -> list[str]:
    """One file name per output row: the given names or ``sourceN``, then ``residual``."""
    if names and len(names) != count:
        raise InputError(f"--names gives {len(names)} names for {count} boxes; give one per box")
    out = list(names) if names else [f"source{i + 1}" for i in range(count)]
    bad = [n for n in out if not n or n in (".", "..") or any(c in "/\\" or ord(c) < 32 for c in n)]
    if bad:
        raise InputError(f"output name {bad[0]!r} is not usable as a file name; use letters, digits, - or _")
    twice = [n for i, n in enumerate(out) if n in out[:i]]
    if twice:
        raise InputError(f"output names must differ: {twice[0]!r} is given twice; give each box its own name")
    if residual and "residual" in out:
        raise InputError("--names residual: --residual writes residual.wav itself; give that box another name")
    return out + (["residual"] if residual else [])


def check_options(
    inputs: Iterable[Path],
    request: BoxRequest,
    *,
    names: list[str] | None = None,
    out: str | Path = "separated",
    source: int | None = None,
    **options,
) -> int | None:
    """Refuse what is wrong with a batch's options before any video is read (the keyword
    arguments of :meth:`~avsep.batch.job.BatchJob.create`; ``--format`` is checked there). Returns
    the source to write to stdout when ``out`` is ``"-"`` (1 when there is one box), else None."""
    residual = options.get("residual", False)
    sample_rate = options.get("sample_rate")
    names = names or request.names
    count = request.count
    if count is not None or names:
        output_names(len(names) if count is None else count, names, residual)  # found players: counted later
    if sample_rate is not None and not 1000 <= sample_rate <= 384000:
        raise InputError(f"--sample-rate {sample_rate}: use a rate between 1000 and 384000 Hz")
    if options.get("skip_existing") and options.get("overwrite"):
        raise InputError("--skip-existing and --overwrite contradict each other; pick one")
    if str(out) != "-":
        if source is not None:
            raise InputError("--source only applies with -o - (stdout)")
        return None
    videos, problems = find_videos(Path(p) for p in inputs)
    if len(videos) + len(problems) != 1:
        raise InputError("-o - writes one source of one video; give exactly one input")
    if residual:
        raise InputError("-o - writes a single source; --residual needs an output folder")
    source = 1 if source is None and count == 1 else source
    if source is None or source < 1 or (count is not None and source > count):
        raise InputError(f"-o - needs --source N with N between 1 and {count or 'the number of sources'}")
    return source
