"""Folders of real material (recordings, photos) as the builder sees them.

``avsep data build --real-audio DIR --photos DIR`` accepts any ``<class>/<files>`` tree, or a
tree of such trees (``<source>/<class>/<files>``, the layout of ``shared/datasets``). This
module finds the files, names each one's class and source, sorts audio into *notes* (a file
that names one pitch: ``violin_A3_05_forte_arco-normal.ogg``, ``cello-As2.mp3``,
``G4_pp.ogg``) and *recordings* (everything else: phrases, performances, excerpts), reads the
licence of each source, and deals files to splits.

Licences come from a ``MANIFEST.tsv`` (columns ``path, source, commit, licence, class``, as in
``shared/datasets``) in the tree or its parent, else from a ``LICENCE``/``LICENSE`` text file in
the source folder, else are reported as unknown.

Splits are made by file and by a stable hash of the file's path below the tree, never by
segment: the same folders give the same split in every build, so the test split of one build
is never training material of another (the ablation builds share their held-out sets). Note
libraries are split by *pitch* instead (:func:`pitch_split`): all dynamics and articulations
of a pitch of a class go to one split, so a test note is never the louder twin of a training
note.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from avsep.errors import InputError
from avsep.models.guide import OTHER
from avsep.train.dataset.layout import SPLITS
from avsep.train.dataset.melodies import stable_hash

AUDIO_SUFFIXES = {".wav", ".flac", ".ogg", ".mp3", ".oga", ".m4a", ".aiff", ".aif"}
PICTURE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp"}

#: Folder names that mean one of avsep's classes. ``guitar_mixed`` (Kaggle) holds acoustic and
#: some electric guitars; it is the only guitar photo set there is.
CLASS_ALIASES = {
    "guitar": "acoustic_guitar",
    "guitar_mixed": "acoustic_guitar",
    "classical_guitar": "acoustic_guitar",
    "sax": "saxophone",
}
#: Folders of instruments outside avsep's 11 (the registries' and shared/datasets' extra
#: classes): all of them are the class ``other`` when a build makes it, else ignored.
OTHER_FOLDERS = frozenset(
    {
        "viola", "double_bass", "french_horn", "bassoon", "trombone", "oboe", "banjo", "mandolin",
        "piano", "voice", "electric_guitar", "drums", "drum", "harp", "harmonica", "sitar", "tabla",
    }
)  # fmt: skip

_NOTE = re.compile(r"^(?P<step>[A-Ga-g])(?P<acc>s|#|b)?(?P<octave>-?\d)$")
_STEPS = {"c": 0, "d": 2, "e": 4, "f": 5, "g": 7, "a": 9, "b": 11}
#: dynamic word or abbreviation -> level 0 (pianissimo) .. 5 (fortissimo)
DYNAMICS = {
    "pianissimo": 0, "pp": 0, "piano": 1, "p": 1, "mezzo-piano": 2, "mp": 2,
    "mezzo-forte": 3, "mf": 3, "forte": 4, "f": 4, "fortissimo": 5, "ff": 5,
}  # fmt: skip
#: articulations a melody is not played with (effects, not notes)
EFFECTS = ("trill", "tremolo", "gliss", "harmonic", "flutter", "slap", "col-legno", "snap", "tonguing", "sul-")


def note_midi(token: str) -> int | None:
    """``A3`` -> 57, ``Cs6``/``C#6`` -> 85, ``Bb2`` -> 46; None if ``token`` is not a note
    name (the step letter must be upper case: ``b2`` inside a hash is not a B)."""
    m = _NOTE.match(token)
    if m is None or not token[0].isupper():
        return None
    acc = {"s": 1, "#": 1, "b": -1}.get(m["acc"] or "", 0)
    return 12 * (int(m["octave"]) + 1) + _STEPS[m["step"].lower()] + acc


@dataclass(frozen=True)
class AudioFile:
    """One real recording: its class, where it came from and what kind of file it is."""

    path: Path
    rel: str  # path below the tree given on the command line (the split hash key)
    label: str
    source: str  # the first folder below the tree ("philharmonia"), or the tree's own name
    licence: str
    #: MIDI pitch for a single note, None for a recording (phrase, performance)
    pitch: int | None = None
    dynamic: int = 3
    articulation: str = "normal"

    @property
    def is_note(self) -> bool:
        return self.pitch is not None


@dataclass(frozen=True)
class PictureFile:
    path: Path
    rel: str
    label: str
    source: str
    licence: str


@dataclass
class Library:
    """Everything found under the given folders, by class."""

    audio: dict[str, list[AudioFile]] = field(default_factory=dict)
    pictures: dict[str, list[PictureFile]] = field(default_factory=dict)
    #: folder classes that are not avsep classes, with their file counts (reported, not used)
    ignored: dict[str, int] = field(default_factory=dict)
    audio_roots: list[Path] = field(default_factory=list)
    picture_roots: list[Path] = field(default_factory=list)

    def notes(self, label: str) -> list[AudioFile]:
        return [f for f in self.audio.get(label, []) if f.is_note]

    def recordings(self, label: str) -> list[AudioFile]:
        return [f for f in self.audio.get(label, []) if not f.is_note]


def parse_audio_name(stem: str) -> tuple[int | None, int, str]:
    """(pitch, dynamic, articulation) from a file name.

    The pitch is None (a recording) unless exactly one note name appears, as a ``_``/space
    separated token or a ``-`` separated part of one (``cello-As2``), and the name does not say
    ``phrase`` (a Philharmonia phrase names its first note). Philharmonia names are
    ``instrument_note_duration_dynamic_articulation``; elsewhere the articulation is "normal".
    """
    tokens = [t for t in re.split(r"[_\s]+", stem) if t]
    parts = [p for t in tokens for p in t.split("-")]
    lowered = [t.lower() for t in tokens]
    if "phrase" in lowered:
        return None, 3, "phrase"
    pitches = {p for p in map(note_midi, parts) if p is not None}
    # whole tokens first ("mezzo-forte", "pp"); a one-letter part of "x-p" is not a dynamic
    found = [DYNAMICS[t] for t in lowered if t in DYNAMICS]
    found += [DYNAMICS[q] for q in (p.lower() for p in parts) if q in DYNAMICS and len(q) > 1]
    dynamic = found[0] if found else DYNAMICS["mf"]
    art = lowered[-1] if len(tokens) >= 5 and pitches else "normal"
    return (pitches.pop() if len(pitches) == 1 else None), dynamic, art


def _licences(root: Path) -> dict[str, str]:
    """rel path -> licence from a MANIFEST.tsv in ``root`` or its parent (paths may be
    relative to either)."""
    out: dict[str, str] = {}
    for manifest in (root / "MANIFEST.tsv", root.parent / "MANIFEST.tsv"):
        if not manifest.is_file():
            continue
        prefix = "" if manifest.parent == root else root.name + "/"
        with manifest.open(newline="") as f:
            for row in csv.DictReader(f, delimiter="\t"):
                path, licence = row.get("path") or "", row.get("licence") or ""
                if path.startswith(prefix) and licence:
                    out[path[len(prefix) :]] = licence
        break
    return out


def _source_licence(folder: Path) -> str | None:
    for name in ("LICENCE", "LICENSE", "LICENCE.txt", "LICENSE.txt", "LICENCE.md", "LICENSE.md"):
        p = folder / name
        if p.is_file():
            text = p.read_text(errors="replace").strip().splitlines()
            return text[0].strip() if text else None
    return None


def _walk(root: Path, suffixes: set[str]) -> Iterable[tuple[Path, str, str, str]]:
    """(file, rel, folder class, source) for every file under ``root`` whose parent folder is
    its class: ``root/<class>/f`` (source = root's name) or ``root/<source>/<class>/f``."""
    if not root.is_dir():
        raise InputError(f"{root}: folder not found; give a <class>/<files> or <source>/<class>/<files> tree")
    for path in sorted(root.rglob("*")):
        if path.suffix.lower() not in suffixes or not path.is_file() or path.name.startswith("."):
            continue
        rel = path.relative_to(root).as_posix()
        parts = rel.split("/")
        if len(parts) == 2:
            yield path, rel, parts[0], root.name
        elif len(parts) >= 3:
            yield path, rel, parts[-2], parts[0]


def _canonical(folder: str, classes: Sequence[str]) -> str | None:
    name = CLASS_ALIASES.get(folder.lower(), folder.lower())
    if name in OTHER_FOLDERS:
        name = OTHER
    return name if name in classes else None


def scan(audio_roots: Sequence[Path], picture_roots: Sequence[Path], classes: Sequence[str]) -> Library:
    """Find the real recordings and photos of ``classes`` under the given folders."""
    lib = Library(audio_roots=[Path(p) for p in audio_roots], picture_roots=[Path(p) for p in picture_roots])
    for root in map(Path, audio_roots):
        licences = _licences(root)
        for path, rel, folder, source in _walk(root, AUDIO_SUFFIXES):
            label = _canonical(folder, classes)
            if label is None:
                lib.ignored[folder] = lib.ignored.get(folder, 0) + 1
                continue
            pitch, dynamic, art = parse_audio_name(path.stem)
            licence = (
                licences.get(rel)
                or _source_licence(root / source)
                or _source_licence(root)
                or "unknown (see the files' source)"
            )
            key = f"{root.name}/{rel}"
            lib.audio.setdefault(label, []).append(AudioFile(path, key, label, source, licence, pitch, dynamic, art))
    for root in map(Path, picture_roots):
        licences = _licences(root)
        for path, rel, folder, source in _walk(root, PICTURE_SUFFIXES):
            label = _canonical(folder, classes)
            if label is None:
                lib.ignored[folder] = lib.ignored.get(folder, 0) + 1
                continue
            licence = (
                licences.get(rel)
                or _source_licence(root / source)
                or _source_licence(root)
                or "unknown (see the files' source)"
            )
            lib.pictures.setdefault(label, []).append(PictureFile(path, f"{root.name}/{rel}", label, source, licence))
    given = [*audio_roots, *picture_roots]
    if given and not lib.audio and not lib.pictures:
        raise InputError(
            f"{', '.join(map(str, given))}: no audio or picture files of the classes {', '.join(classes)}; "
            "give <class>/<files> trees (class folders named like accordion, acoustic_guitar, ...)"
        )
    return lib


def file_split(items: Sequence, key=lambda f: f.rel, held_out: float = 0.1) -> dict[str, list]:
    """Deal files to splits by a stable hash of their path: ``held_out`` of them (at least one
    each once there are three) to val and to test. Depends only on the set of paths."""
    ordered = sorted(items, key=lambda f: (stable_hash("split", key(f)), key(f)))
    n = len(ordered)
    k = max(1, round(held_out * n)) if n >= 3 else 0
    return {"val": ordered[:k], "test": ordered[k : 2 * k], "train": ordered[2 * k :]}


def pitch_split(pitches: Iterable[int], period: int = 8) -> dict[int, str]:
    """Held-out pitches of one class: of its sorted distinct pitches, every ``period``-th from
    the 4th is val, every ``period``-th from the 8th is test: spread over the whole range, so a
    held-out melody can be played by shifting a held-out note a few semitones at most."""
    out = {}
    for i, p in enumerate(sorted(set(pitches))):
        r = i % period
        out[p] = "val" if r == period // 2 - 1 else "test" if r == period - 1 else "train"
    return out


assert set(SPLITS) == {"train", "val", "test"}
