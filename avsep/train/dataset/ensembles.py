"""Ensembles: the voices of one polyphonic work played together, each by another instrument.

Why: the real ensembles the model is chosen on (real-stems: URMP and Bach10 parts that played
together) mix parts of one piece, in one key and on one beat, whose partials meet far more often
than two unrelated solos'. Mix-and-separate on a solo index only ever mixes unrelated solos.

What is made: ``groups`` ensembles of 2 or 3 parts (``sizes``), each part one voice of a
Palestrina movement (the music21 corpus, train-split works only, :func:`~avsep.train.dataset.
melodies.work_split`; not Bach's chorales, ten of which Bach10 plays) played with the recorded
single notes of a class that has them (a train-split voice of its
:class:`~avsep.train.dataset.real_audio.NoteBank`), all parts with one tempo, start and rubato
(:func:`~avsep.train.dataset.performance.arrange_ensemble`), one class a part.

Layout: ``OUT/audio/<class>/<OUT's name>-<group>-<part>.wav`` and ``OUT/train.csv``: the ``base``
build's training clips and the ensembles' clips, the latter with their group in a fourth column
(what ``avsep train --coherent`` mixes together); ``OUT/val.csv`` is the base's. An ensemble
clip borrows the frames of one of the base build's training clips of its class: the label guide
reads none, and a picture-guided run gets a real picture of the class. ``meta.json`` keeps the
base's frame rate and the recipe.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from avsep.errors import InputError
from avsep.models.guide import LABELS
from avsep.train.dataset.build import building
from avsep.train.dataset.instruments import SPECS
from avsep.train.dataset.library import scan
from avsep.train.dataset.melodies import WorkRef, default_cache_dir, list_works, load_work, usable, work_split
from avsep.train.dataset.performance import arrange_ensemble
from avsep.train.dataset.real_audio import NoteBank, play, voice_program
from avsep.train.dataset.sources import write_audio
from avsep.train.index import Clip, Index, read_index, write_index

#: the corpus family the ensembles play (Bach's chorales are out: Bach10 plays ten of them)
FAMILY = "palestrina"
#: a part quieter than this (dBFS RMS of its rendered audio) has too few notes in the clip
SILENT_DB = -60.0


def build_ensembles(
    out: Path,
    base: Path,
    real_audio: Sequence[Path],
    groups: int,
    *,
    sizes: Sequence[int] = (2, 3),
    clip_s: float = 12.0,
    seed: int = 0,
    cache_dir: Path | None = None,
    tick: Callable[[], None] | None = None,
) -> dict:
    """Render ``groups`` ensembles into ``out`` beside ``base``'s training clips (see the module);
    ``tick`` is called after each ensemble. Returns the summary written to ``meta.json``."""
    if groups < 1 or not sizes or min(sizes) < 2:
        raise InputError("ensembles need --groups >= 1 and --sizes of 2 parts or more")
    if out.exists():
        raise InputError(f"{out} exists; give a new folder for the ensembles")
    base_index = read_index(base / "train.csv")
    if any(k.group for k in base_index.clips):
        raise InputError(f"{base} holds ensembles already; give the solo build (avsep data build) as --base")
    borrowed = {c: [k for k in base_index.clips if k.label == c] for c in LABELS}
    library = scan(list(real_audio), [], LABELS)
    banks = {c: NoteBank(library.notes(c)) for c in LABELS if library.notes(c) and borrowed[c]}
    banks = {c: b for c, b in banks.items() if b.has("train")}
    if len(banks) < max(sizes):
        raise InputError(f"recorded notes of {len(banks)} class(es) under --real-audio; {max(sizes)} parts need more")
    works = [w for w in list_works()[FAMILY] if work_split(w.id) == "train"]
    if not works:
        raise InputError(f"music21's corpus has no {FAMILY} works here; reinstall the train extra")
    material = _Material(base, base_index, borrowed, banks, works, cache_dir or default_cache_dir())
    with building(out) as partial:
        meta = _make(partial, out.name, material, groups, sizes, clip_s, seed, tick)
        if (base / "val.csv").is_file():  # so that --index OUT validates as the base does
            write_index(partial / "val.csv", read_index(base / "val.csv").clips)
        return meta


@dataclass
class _Material:
    """What the ensembles are made of: the base build (its clips lend frames), the recorded
    notes by class, the works that may be played, and where parsed works are cached."""

    base: Path
    index: Index
    borrowed: dict[str, list[Clip]]
    banks: dict[str, NoteBank]
    works: list[WorkRef]
    cache_dir: Path


def _make(
    out: Path,
    name: str,
    material: _Material,
    groups: int,
    sizes: Sequence[int],
    clip_s: float,
    seed: int,
    tick: Callable[[], None] | None,
) -> dict:
    """:func:`build_ensembles` in the folder ``out`` (renamed to the asked one, ``name``, when it
    returns). Groups are named after it, so that two builds' ensembles never share a name."""
    rng = np.random.default_rng([seed, 0xE45E])
    made: list[Clip] = []
    record = []
    tries = 0
    while len(record) < groups:
        tries += 1
        if tries > 20 * groups:
            raise InputError(
                f"made {len(record)} of {groups} ensembles in {tries} tries: the works drawn were shorter than "
                f"the clip, had too few voices or left a part silent; try a shorter --clip-seconds"
            )
        parts = _render(material, int(rng.choice(sizes)), clip_s, rng)
        if parts is None:
            continue
        group = f"{name}-{len(record):05d}"
        for k, (label, audio, info) in enumerate(parts):
            path = out / "audio" / label / f"{group}-{k}.wav"
            info["rms_dbfs"] = write_audio(path, audio, rng)
            lenders = material.borrowed[label]
            frames = lenders[int(rng.integers(len(lenders)))]
            made.append(Clip(path, frames.frames_dir, frames.num_frames, group))
        record.append({"group": group, "parts": [info for _, _, info in parts]})
        if tick:
            tick()
    write_index(out / "train.csv", [*material.index.clips, *made])
    meta = {
        "fps": material.index.fps,
        "base": str(material.base),
        "paths": "train.csv and val.csv reach the base build's clips by relative paths: keep the folders side by side",
        "ensembles": len(record),
        "clips": len(made),
        "family": FAMILY,
        "seed": seed,
        "clip_seconds": clip_s,
        "groups": record,
    }
    (out / "meta.json").write_text(json.dumps(meta, indent=1) + "\n")
    return meta


def _render(
    material: _Material, size: int, clip_s: float, rng: np.random.Generator
) -> list[tuple[str, np.ndarray, dict]] | None:
    """One ensemble of ``size`` parts, each (class, audio, recipe); None when the drawn work
    has too few usable voices, is shorter than the clip, or leaves a part silent."""
    work = material.works[int(rng.integers(len(material.works)))]
    voices = [(name, notes) for name, notes in load_work(work, material.cache_dir) if usable(name, notes)]
    if len(voices) < size:
        return None
    chosen = [voices[int(k)] for k in rng.choice(len(voices), size, replace=False)]
    labels = [str(c) for c in rng.choice(sorted(material.banks), size, replace=False)]
    players = [material.banks[c].pick_voice("train", rng) for c in labels]
    parts = [(notes, SPECS[c], voice_program(v)) for (_, notes), c, v in zip(chosen, labels, players)]
    perfs = arrange_ensemble(parts, FAMILY, clip_s, rng)
    if perfs is None:
        return None
    out = []
    for (part, _), label, voice, perf in zip(chosen, labels, players, perfs):
        audio, recipe = play(perf, voice, clip_s, rng, sustained=not SPECS[label].plucked)
        if 20 * np.log10(np.sqrt(np.mean(audio.astype(np.float64) ** 2)) + 1e-12) < SILENT_DB:
            return None
        out.append((label, audio, {"work": work.id, "part": part, **perf.info, **recipe}))
    return out
