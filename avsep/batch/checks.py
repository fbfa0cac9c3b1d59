"""The batch's options checked before anything heavy loads: names, rates, skip/overwrite, ``-o -``.

:meth:`avsep.batch.job.BatchJob.create` runs these checks first; the command line runs them itself
before it imports :mod:`avsep.batch.job` (which brings PyAV and the separation), so a mistake in
the options answers at once. Standard library, :mod:`avsep.errors`, :mod:`avsep.options` and the
(light) :mod:`avsep.boxes.request` only. :func:`output_names` and :func:`find_videos` live here
because the checks need them; :mod:`avsep.batch.job` uses them from here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from avsep.boxes.request import BoxRequest
from avsep.errors import InputError
from avsep.options import API, VIDEO_EXTENSIONS, BatchOptions, Wording


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


def output_names(count: int, names: Sequence[str] | None, residual: bool, say: Wording = API) -> list[str]:
    """One file name per output row: the given names or ``sourceN``, then ``residual``
    (``say``: how the messages name the options)."""
    if names and len(names) != count:
        raise InputError(f"{say('names')} gives {len(names)} names for {count} boxes; give one per box")
    out = list(names) if names else [f"source{i + 1}" for i in range(count)]
    bad = [n for n in out if not n or n in (".", "..") or any(c in "/\\" or ord(c) < 32 for c in n)]
    if bad:
        raise InputError(f"output name {bad[0]!r} is not usable as a file name; use letters, digits, - or _")
    for i, n in enumerate(out):
        same = next((m for m in out[:i] if m.casefold() == n.casefold()), None)
        if same == n:
            raise InputError(f"output names must differ: {n!r} is given twice; give each box its own name")
        if same is not None:  # one file on macOS and Windows, whose file systems ignore case
            raise InputError(
                f"output names must differ in more than case: {same!r} and {n!r} name one file on macOS and "
                "Windows; give each box its own name"
            )
    if residual and "residual" in out:
        raise InputError(
            f"{say('names')} residual: {say('residual')} writes residual.wav itself; give that box another name"
        )
    return out + (["residual"] if residual else [])


def check_options(inputs: Iterable[Path], request: BoxRequest, options: BatchOptions) -> int | str | None:
    """Refuse what is wrong with a batch's options and boxes together, before any video is read
    (what ``options`` alone can get wrong was refused when it was built; ``--format`` is checked
    by :meth:`~avsep.batch.job.BatchJob.create`). Returns the source to write to stdout when
    ``out_dir`` is ``"-"`` (1 when there is one box), else None."""
    say = options.wording
    names = options.names or request.names
    count = request.count
    labels = None  # found players: named and counted later
    if count is not None or names:
        labels = output_names(len(names) if count is None else count, names, options.residual, say)
    if not options.to_stdout:
        return None
    stdout = say("out_dir", "-")
    videos, problems = find_videos(Path(p) for p in inputs)
    if len(videos) + len(problems) != 1:
        raise InputError(f"{stdout} writes one source of one video; give exactly one input")
    if options.residual:
        raise InputError(f"{stdout} writes a single source; {say('residual')} needs an output folder")
    source = options.source
    if source is None and count == 1:
        return 1
    if isinstance(source, str):
        if names:
            return source_number(source, labels, say)
        if count is not None:
            raise InputError(f"{say('source', source)}: the boxes have no names; give {say('names')} or a number")
        return source  # a player's name: matched once the players are found
    if source is None or source < 1 or (count is not None and source > count):
        raise InputError(
            f"{stdout} needs {say('source')} N (between 1 and {count or 'the number of sources'}) or the source's name"
        )
    return source


def source_number(source: int | str, labels: Sequence[str], say: Wording, video: Path | None = None) -> int:
    """The 1-based number of ``--source`` (a number, or one of the outputs' ``labels``, which
    for found players are known only once they are found in ``video``)."""
    where = f" in {video}" if video is not None else ""
    if isinstance(source, int):
        if not 1 <= source <= len(labels):
            raise InputError(f"{say('source', source)}: there are {len(labels)} sources{where} ({', '.join(labels)})")
        return source
    if source not in labels:
        raise InputError(f"{say('source', source)}: no source of that name{where}; the sources are {', '.join(labels)}")
    return labels.index(source) + 1
