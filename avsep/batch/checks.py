"""The batch's options checked before anything heavy loads: names, rates, skip/overwrite, ``-o -``,
the output template.

:meth:`avsep.batch.job.BatchJob.create` runs these checks first; the command line runs them itself
before it imports :mod:`avsep.batch.job` (which brings PyAV and the separation), so a mistake in
the options answers at once. Standard library, :mod:`avsep.errors`, :mod:`avsep.options` and the
(light) :mod:`avsep.boxes.request` only. :func:`output_names`, :func:`find_videos` and
:func:`render_template` live here because the checks need them, and :func:`mirror_dirs` beside
:func:`find_videos` (where the videos found in a folder go); :mod:`avsep.batch.job` uses them
from here, and checks with :func:`check_shared_places` that no two videos share one place.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from avsep.boxes.request import BoxRequest
from avsep.errors import InputError
from avsep.options import API, VIDEO_EXTENSIONS, BatchOptions, Wording

#: The fields of ``--output-template``, as its messages list them.
TEMPLATE_FIELDS = "{stem} {name} {index} {ext} {parent}"


class DuplicateInputWarning(UserWarning):
    """A file given twice (or given and found again in a folder given): separated once."""


def find_videos(inputs: Iterable[Path]) -> tuple[list[Path], list[tuple[Path, str]]]:
    """Files as given plus video files found (recursively) in folders; missing paths are errors.
    A file met again (the same path, or the same file by another path or link) is dropped with a
    :class:`DuplicateInputWarning`: separating it twice would only find its own outputs in the way."""
    videos, problems = _gather(inputs)
    kept: dict[object, Path] = {}
    for video in videos:
        first = kept.setdefault(_identity(video), video)
        if first is not video:
            warnings.warn(
                f"{video} is the same file as {first}; dropped the duplicate, separating it once", DuplicateInputWarning
            )
    return list(kept.values()), problems


def _identity(path: Path) -> object:
    """What tells two input paths apart: the file itself (device and inode, as
    :func:`os.path.samefile` compares) when it exists, else its resolved path."""
    try:
        stat = path.stat()
    except OSError:
        return path.resolve()
    return (stat.st_dev, stat.st_ino)


def _gather(inputs: Iterable[Path]) -> tuple[list[Path], list[tuple[Path, str]]]:
    """Every input file as given and every video in the input folders, in order, duplicates kept."""
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


def render_template(
    template: str, out_dir: Path, video: Path, name: str, index: int, ext: str = "wav", say: Wording = API
) -> Path:
    """``--output-template`` filled in for one output, under ``out_dir`` (``say``: how the
    messages name the option). A path that leaves ``out_dir`` (``../x``, ``/x``, a ``{parent}``
    of ``..``) is refused: the outputs must stay where ``-o`` says, and a batch's claims, records
    and clean-up only look there."""
    said = say("template", template, quoted=True)
    try:
        rel = template.format(stem=video.stem, name=name, index=index, ext=ext, parent=_parent_name(video))
    except (KeyError, IndexError, ValueError, AttributeError) as exc:
        problem = f"unknown field {exc}" if isinstance(exc, KeyError) else str(exc)
        raise InputError(f"{said}: {problem}; the fields are {TEMPLATE_FIELDS}") from None
    if not rel or rel.endswith(("/", "\\")) or os.path.normpath(rel) == ".":  # "{stem}/..": the folder itself
        raise InputError(f"{said} gives no file name; end it with {{name}}.{{ext}}")
    if Path(rel).is_absolute() or Path(os.path.normpath(rel)).parts[0] == "..":
        raise InputError(
            f"{said} gives {rel}, outside the output folder; keep its paths inside {say('out_dir')} (no / or .. first)"
        )
    return out_dir / rel


def _parent_name(video: Path) -> str:
    """The template's ``{parent}``: the name of the folder holding ``video``, even for a bare
    ``clip.mp4`` (the current folder's, where ``video.parent.name`` is empty)."""
    return Path(os.path.abspath(video)).parent.name


def check_template(options: BatchOptions) -> None:
    """Refuse an ``--output-template`` that cannot work for any video (an unknown field, no file
    name, a path out of ``-o``) before anything loads, not once per video of the batch."""
    render_template(
        options.template, Path(options.out_dir), Path("folder", "video.mp4"), "name", 1, "wav", options.wording
    )


def check_shared_places(records: Mapping[Path, Path], say: Wording = API) -> None:
    """Refuse a batch in which two videos (``records``: each video's provenance record) would
    write into one place (``odd.mp4`` and ``odd.avi`` both into ``OUT/odd/``): their outputs
    would mix and the second record would disown the first video's files. Checked before any
    video is read, so nothing of either is written."""
    first: dict[Path, Path] = {}
    for video, record in records.items():
        other = first.setdefault(record, video)
        if other is video:
            continue
        why = "same name" if video.name == other.name else "same name but for the extension"
        if video.stem != other.stem:
            why, fix = "the template does not tell them apart", f"put {{stem}} in {say('template')}"
        elif _parent_name(video) != _parent_name(other):
            fix = f"put their folder in the path ({say('template')} '{{parent}}/{{stem}}/{{name}}.{{ext}}')"
        else:
            fix = "rename one of them"
        raise InputError(
            f"{video}: its outputs would go to {record.parent} with those of {other} in this batch ({why}); "
            f"{fix}, or run them apart with different {say('out_dir')}"
        )


def mirror_dirs(inputs: Iterable[Path], videos: Iterable[Path]) -> dict[Path, Path]:
    """Each video found inside an input folder -> its folder relative to that input folder
    (videos given as files are not in it: their outputs go straight under the output folder)."""
    folders = [p for p in inputs if p.is_dir() and p.suffix.lower() not in VIDEO_EXTENSIONS]
    out: dict[Path, Path] = {}
    for video in videos:
        for folder in folders:
            if video.is_relative_to(folder):
                out[video] = video.parent.relative_to(folder)
                break
    return out


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
    taken = next((n for n in out if n.casefold() == "residual"), None) if residual else None
    if taken is not None:  # "Residual" too: one file with residual.wav on macOS and Windows
        raise InputError(
            f"{say('names')} {taken}: {say('residual')} writes residual.wav itself; give that box another name"
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
        check_template(options)
        return None
    stdout = say("out_dir", "-")
    with warnings.catch_warnings():  # counted here; the batch itself says what it drops
        warnings.simplefilter("ignore", DuplicateInputWarning)
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
