"""Melodies from the music21 corpus: the works, their voices, and the melodies a build deals to
its splits.

Three corpora ship with the music21 wheel (BSD-3-Clause; the works are public domain):

* ``bach``: the 408 four-voice chorales (``bach/*.mxl``), every voice a melody;
* ``ryans``: Ryan's Mammoth Collection, 1,059 fiddle tunes (reels, jigs, hornpipes);
* ``palestrina``: 1,318 movements of vocal polyphony (``palestrina/*.krn``), every voice a line.

A *work* is one corpus file; a *melody* one voice (part) of it. Parsing costs 0.05-0.3 s a
work, so works are parsed only when a build needs them and the notes are cached as JSON under
the cache directory (``$AVSEP_CACHE_DIR``, else ``$XDG_CACHE_HOME/avsep``, else
``~/.cache/avsep``); the music21 metadata cache (the slow first ``corpus.search``) is never
used. Works are dealt to train/val/test so that no work, and no tune that opens with the same
20 intervals (Bach harmonised many hymn tunes more than once), is in two splits.

How a melody is played and written as MIDI: :mod:`avsep.train.dataset.performance`.
"""

from __future__ import annotations

import json
import os
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from avsep.errors import AvsepError

CACHE_VERSION = 1

Note = tuple[float, float, int]  # onset (quarters), duration (quarters), MIDI pitch


@dataclass(frozen=True)
class Family:
    key: str
    corpus_dir: str
    suffix: str
    #: share of the works drawn from this family
    weight: float
    #: seconds the melody's median note lasts, drawn uniformly in this range
    median_note_s: tuple[float, float]
    #: at most this many voices of one work are used
    max_parts: int


FAMILIES: tuple[Family, ...] = (
    Family("bach", "bach", ".mxl", 0.4, (0.38, 0.8), 2),
    Family("ryans", "ryansMammoth", ".abc", 0.35, (0.13, 0.3), 1),
    Family("palestrina", "palestrina", ".krn", 0.25, (0.3, 0.65), 2),
)
FAMILY_OF_KEY = {f.key: f for f in FAMILIES}


@dataclass(frozen=True)
class WorkRef:
    id: str  # "bach/bwv1.6"
    family: str
    path: Path


@dataclass(frozen=True)
class Melody:
    id: str  # "bach/bwv1.6#2"
    work: str
    family: str
    part_name: str
    notes: tuple[Note, ...]


@dataclass
class Performance:
    """One clip's worth of MIDI on one channel; times in seconds from the clip's start."""

    program: int
    bend_range: int  # semitones
    notes: list[tuple[float, float, int, int]]  # start, end, pitch, velocity
    bends: list[tuple[float, int]] = field(default_factory=list)  # time, -8192..8191
    controls: list[tuple[float, int, int]] = field(default_factory=list)  # time, cc, value
    info: dict = field(default_factory=dict)


def default_cache_dir() -> Path:
    if os.environ.get("AVSEP_CACHE_DIR"):
        return Path(os.environ["AVSEP_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "avsep"


def music21_version() -> str:
    import music21

    return str(music21.__version__)


def list_works() -> dict[str, list[WorkRef]]:
    """The corpus files of each family, sorted by name (fast: no parsing, no metadata cache)."""
    from music21 import corpus

    found: dict[str, list[WorkRef]] = {f.key: [] for f in FAMILIES}
    for p in corpus.getPaths():
        p = Path(p)
        for f in FAMILIES:
            if p.parent.name == f.corpus_dir and p.suffix == f.suffix:
                found[f.key].append(WorkRef(f"{f.key}/{p.stem}", f.key, p))
    for k in found:
        found[k].sort(key=lambda w: w.id)
    if not any(found.values()):
        raise AvsepError(
            "the music21 corpus has none of the expected works; "
            "reinstall music21 (pip install --force-reinstall music21)"
        )
    return found


def _extract(part) -> list[Note]:
    """A monophonic line from a music21 part: ties merged, chords to their top note."""
    raw: list[Note] = []
    for n in part.flatten().stripTies().notes:
        ql = float(n.quarterLength)
        if ql <= 0:  # grace notes
            continue
        pitch = max(p.midi for p in n.pitches) if n.isChord else n.pitch.midi
        raw.append((float(n.offset), ql, int(pitch)))
    raw.sort(key=lambda x: (x[0], -x[2]))
    out: list[Note] = []
    for on, dur, p in raw:
        if out and abs(out[-1][0] - on) < 1e-9:
            continue  # a second note at the same onset: keep the higher one
        if out and out[-1][0] + out[-1][1] > on:
            prev = out[-1]
            out[-1] = (prev[0], on - prev[0], prev[2])
        out.append((on, dur, p))
    return out


def _cache_path(cache_dir: Path, ref: WorkRef) -> Path:
    safe = ref.id.replace("/", "__")
    return cache_dir / "melodies" / f"v{CACHE_VERSION}-music21-{music21_version()}" / f"{safe}.json"


def load_work(ref: WorkRef, cache_dir: Path) -> list[tuple[str, list[Note]]]:
    """The voices of one work as (part name, notes), from the cache or parsed and cached."""
    path = _cache_path(cache_dir, ref)
    if path.is_file():
        try:
            data = json.loads(path.read_text())
            return [(p["name"], [tuple(x) for x in p["notes"]]) for p in data["parts"]]  # type: ignore[misc]
        except (ValueError, KeyError, TypeError):
            pass  # a damaged cache file is parsed again
    from music21 import converter

    try:
        score = converter.parse(ref.path, forceSource=True, storePickle=False)
    except Exception:  # broad on purpose: a corpus file music21 cannot read is skipped
        parts: list[tuple[str, list[Note]]] = []
    else:
        voices = list(getattr(score, "parts", [])) or [score]
        parts = [(str(v.partName or f"part{i}"), _extract(v)) for i, v in enumerate(voices)]
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"work": ref.id, "parts": [{"name": n, "notes": x} for n, x in parts]}))
        os.replace(tmp, path)
    except OSError:
        pass  # an unwritable cache only costs time
    return parts


def usable(name: str, notes: Sequence[Note]) -> bool:
    if any(w in name.lower() for w in ("timp", "perc", "drum")):
        return False
    if len(notes) < 16:
        return False
    end = notes[-1][0] + notes[-1][1]
    if end < 8:
        return False
    covered = sum(d for _, d, _ in notes)
    pitches = [p for *_, p in notes]
    return covered / end >= 0.7 and max(pitches) - min(pitches) <= 28


def fingerprint(notes: Sequence[Note]) -> tuple[int, ...] | None:
    """The first 20 pitch intervals (repeated notes dropped): the same tune, any key or rhythm."""
    steps: list[int] = []
    prev = None
    for _, _, p in notes:
        if prev is not None and p != prev:
            steps.append(p - prev)
            if len(steps) == 20:
                break
        prev = p
    return tuple(steps) if len(steps) >= 8 else None


@dataclass
class MelodyPlan:
    pools: dict[str, list[Melody]]
    works: dict[str, list[str]]  # split -> work ids
    parsed: int


def select_melodies(
    need: Mapping[str, int],
    seed: int,
    cache_dir: Path,
    on_work: Callable[[int, int], None] | None = None,
) -> MelodyPlan:
    """Deal works to splits until each split has ``need[split]`` distinct melodies (or the
    corpus runs out, in which case melodies are reused with other segments/instruments).

    A work's split is a hash of its id (:func:`work_split`), not of the build's size, so a work
    held out in one build is held out in every build (ablation builds of different sizes share
    their test material); a work that shares a tune with a work already dealt follows it.
    Deterministic in ``seed`` and ``need``. ``on_work(done, total_needed)`` reports progress.
    """
    works = list_works()
    rng = np.random.default_rng([seed, 0x6D656C])
    fams = [f for f in FAMILIES if works[f.key]]
    order = {f.key: rng.permutation(len(works[f.key])) for f in fams}
    pos = {f.key: 0 for f in fams}
    splits = list(need)
    pools: dict[str, list[Melody]] = {s: [] for s in splits}
    split_works: dict[str, list[str]] = {s: [] for s in splits}
    fp_split: dict[tuple[int, ...], str] = {}
    total = sum(need.values())
    parsed = 0
    while True:
        deficit = {s: need[s] - len(pools[s]) for s in splits}
        if all(d <= 0 for d in deficit.values()):
            break
        live = [f for f in fams if pos[f.key] < len(works[f.key])]
        if not live:
            break
        w = np.array([f.weight for f in live])
        fam = live[int(rng.choice(len(live), p=w / w.sum()))]
        ref = works[fam.key][int(order[fam.key][pos[fam.key]])]
        pos[fam.key] += 1
        parts = [(i, n, x) for i, (n, x) in enumerate(load_work(ref, cache_dir)) if usable(n, x)]
        parsed += 1
        if not parts:
            continue
        fps = {fingerprint(x) for _, _, x in parts} - {None}
        forced = sorted({fp_split[f] for f in fps if f in fp_split})
        if len(forced) > 1:
            continue  # shares tunes with works in two splits: use it nowhere
        split = forced[0] if forced else work_split(ref.id)
        for f in fps:
            fp_split[f] = split
        if split not in deficit or deficit[split] <= 0:
            continue  # that split is full; the work stays out of the others
        pick = rng.permutation(len(parts))[: fam.max_parts]
        for j in sorted(int(k) for k in pick):
            i, name, notes = parts[j]
            pools[split].append(Melody(f"{ref.id}#{i}", ref.id, fam.key, name, tuple(notes)))
        split_works[split].append(ref.id)
        if on_work is not None:
            on_work(min(sum(len(p) for p in pools.values()), total), total)
    for s in splits:
        if need[s] > 0 and not pools[s]:
            raise AvsepError(f"the music21 corpus gave no melodies for the {s} split; reinstall music21")
    return MelodyPlan(pools, split_works, parsed)


def work_split(work_id: str) -> str:
    """The split of a corpus work: 10 % val, 10 % test, the rest train, by a stable hash."""
    r = stable_hash("work-split", work_id) % 10
    return "val" if r == 0 else "test" if r == 1 else "train"


# ---------------------------------------------------------------------------------------------
# performance


# ---------------------------------------------------------------------------------------------
# MIDI


def stable_hash(*parts: object) -> int:
    """A process-independent 32-bit hash (Python's ``hash`` of str is salted)."""
    return zlib.crc32("\x1f".join(str(p) for p in parts).encode())
