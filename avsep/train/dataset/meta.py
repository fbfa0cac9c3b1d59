"""What a build writes about itself, beside the clips: the index CSVs of each split, ``meta.json``
(the format, the counts, the sources of every clip, the real material used, the tools' versions)
and the README a reader of the folder starts with."""

from __future__ import annotations

import json
import platform
from pathlib import Path

import numpy as np

from avsep.train.dataset import layout, pictures
from avsep.train.dataset.layout import SPLITS
from avsep.train.dataset.library import Library
from avsep.train.dataset.render import SAMPLE_RATE
from avsep.train.dataset.sources import KINDS, AudioSource, ClipPlan
from avsep.train.dataset.system import tool_version
from avsep.train.index import Clip, write_index

#: the format of the folder a build writes (meta.json's "format")
FORMAT = "avsep-music-index/1"
#: kinds whose clips count as real audio (test-real.csv, the statistics)
REAL_KINDS = ("recorded", "sampled")


def source_statistics(clips: list[ClipPlan], clip_s: float) -> dict[str, dict]:
    """Per class: minutes of audio by kind (recorded, sampled, soundfont) and pictures by
    kind (photo or drawn), over all splits and for train alone."""
    out: dict[str, dict] = {}
    for c in clips:
        row = out.setdefault(
            c.label,
            {
                "minutes": {k: 0.0 for k in KINDS},
                "train_minutes": {k: 0.0 for k in KINDS},
                "clips": {k: 0 for k in KINDS},
                "pictures": {"photo": 0, "drawn": 0},
                "picture_files": {"photo": set(), "drawn": set()},
            },
        )
        kind = c.audio.kind
        row["minutes"][kind] += clip_s / 60
        row["clips"][kind] += 1
        if c.split == "train":
            row["train_minutes"][kind] += clip_s / 60
        pk = "photo" if pictures.PICTURE_KINDS[c.picture.kind].photographic else "drawn"
        row["pictures"][pk] += 1
        row["picture_files"][pk].add(c.picture.key)
    for row in out.values():
        row["minutes"] = {k: round(v, 2) for k, v in row["minutes"].items()}
        row["train_minutes"] = {k: round(v, 2) for k, v in row["train_minutes"].items()}
        row["picture_files"] = {k: len(v) for k, v in row["picture_files"].items()}
    return dict(sorted(out.items()))


def _is_real(c: ClipPlan) -> bool:
    """Real audio and a photograph: what ``test-real.csv`` holds."""
    return c.audio.kind in REAL_KINDS and pictures.PICTURE_KINDS[c.picture.kind].photographic


def write_build_index(
    root: Path,
    clips: list[ClipPlan],
    names,
    counts,
    plan,
    pic_split,
    tools,
    py_versions,
    sources: list[AudioSource],
    library: Library,
    *,
    seed: int,
    hours: float,
    clip_seconds: float,
    fps: int,
    n_frames: int,
    shares: dict[str, float],
) -> dict:
    stats = source_statistics(clips, clip_seconds)
    _write_csvs(root, clips, n_frames)
    count_table = {s: {n: counts[n][s] for n in names} for s in SPLITS}
    n_clips = len(clips)
    meta = {
        **_FORMAT_NOTES,
        "seed": seed,
        "hours_requested": hours,
        "clip_seconds": clip_seconds,
        "sample_rate": SAMPLE_RATE,
        "audio_format": "WAV PCM16 mono",
        "fps": fps,
        "frames_per_clip": n_frames,
        "frame_size": [pictures.FRAME_SIZE, pictures.FRAME_SIZE],
        "instruments": names,
        "counts": count_table,
        "num_clips": n_clips,
        "audio_hours": round(n_clips * clip_seconds / 3600, 4),
        "melodies": {
            "source": "music21 corpus (bach chorales, Ryan's Mammoth Collection, Palestrina)",
            "works": {s: len(plan.works[s]) for s in SPLITS},
            "melodies": {s: len(plan.pools[s]) for s in SPLITS},
            "split_rule": "by corpus work and by tune (first 20 intervals)",
        },
        "pictures": {n: {s: [g.id for g in pic_split[n][s]] for s in SPLITS} for n in names},
        "audio_mix": shares,
        "sources_per_class": stats,
        "real_material": _real_material(clips, names, sources, library),
        "soundfonts": [
            {"key": f.key, "file": str(f.path), "package": f.package, "licence": f.licence} for f in tools.soundfonts
        ],
        "erhu": "no soundfont has an erhu: Fiddle (GM 110) or Violin (GM 40) with pitch-bend portamento "
        "and wide vibrato, in the erhu's range; pictures are procedural drawings",
        "versions": _versions(tools, py_versions),
    }
    (root / "meta.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    (root / "README.txt").write_text(_readme(meta, clips))
    return {
        "clips": n_clips,
        "audio_hours": meta["audio_hours"],
        "frames": n_clips * n_frames,
        "counts": count_table,
        "seed": seed,
        "works": meta["melodies"]["works"],
        "pictures": meta["pictures"],
        "sources_per_class": stats,
        "no_real_audio": meta["real_material"]["no_real_audio"],
        "ignored_classes": library.ignored,
    }


#: The fixed part of meta.json: what the files are.
_FORMAT_NOTES = {
    "format": FORMAT,
    "layout": "MUSIC / Sound of Pixels: audio/<class>/<id>.wav, frames/<class>/<id>/NNNNNN.jpg",
    "csv": "no header; audio_path,frames_dir,num_frames; paths relative to this directory",
    "frame_time": (
        "frame i (1-based) covers [(i - 1) / fps, i / fps) seconds and is drawn at its centre (Sound of Pixels)"
    ),
}


def _write_csvs(root: Path, clips: list[ClipPlan], n_frames: int) -> None:
    """The split indexes, the real-material ones, and clips.jsonl (one record per clip)."""

    def row(c: ClipPlan) -> Clip:
        return Clip(root / layout.audio_rel(c.label, c.id), root / layout.frames_rel(c.label, c.id), n_frames)

    for split in SPLITS:
        write_index(root / f"{split}.csv", [row(c) for c in clips if c.split == split])
    # the held-out clips made wholly of real material (real audio and photos), for the
    # real-audio test column; written only when there are such clips
    for split in ("val", "test"):
        real = [row(c) for c in clips if c.split == split and _is_real(c)]
        if real:
            write_index(root / f"{split}-real.csv", real)
    with open(root / "clips.jsonl", "w") as f:
        for c in clips:
            rec = {
                "id": c.id,
                "label": c.label,
                "split": c.split,
                "audio": layout.audio_rel(c.label, c.id),
                "frames": layout.frames_rel(c.label, c.id),
                "num_frames": n_frames,
                "audio_kind": c.audio.kind,
                "melody": c.melody.id if c.melody else None,
                "work": c.melody.work if c.melody else None,
                "corpus": c.melody.family if c.melody else None,
                "picture": c.picture.key,
                "picture_kind": c.picture.kind,
                "picture_group": c.group.id,
            } | c.record
            f.write(json.dumps(rec, sort_keys=True) + "\n")


def _real_material(clips: list[ClipPlan], names: list[str], sources: list[AudioSource], library: Library) -> dict:
    """meta.json's account of the real recordings and photos: folders, licences, held-out files."""
    photo_licence = {f"photo:{p.rel}": p.licence for ps in library.pictures.values() for p in ps}
    return {
        "audio_folders": [str(p) for p in library.audio_roots],
        "photo_folders": [str(p) for p in library.picture_roots],
        "ignored_classes": library.ignored,
        "licences": {
            n: {src.name: src.licences(n) for src in sources if any(c.audio is src and c.label == n for c in clips)}
            for n in names
        },
        "picture_licences": {
            n: sorted(
                {
                    photo_licence.get(c.picture.key) or pictures.PICTURE_KINDS[c.picture.kind].licence
                    for c in clips
                    if c.label == n
                }
            )
            for n in names
        },
        "held_out": {n: {src.name: src.held_out(n) for src in sources if src.held_out(n)} for n in names},
        "split_rules": {src.name: src.split_unit for src in sources}
        | {k.name: k.split_unit for k in pictures.PICTURE_KINDS.values()},
        "no_real_audio": [n for n in names if not any(c.label == n and c.audio.kind in REAL_KINDS for c in clips)],
    }


def _versions(tools, py_versions: dict[str, str]) -> dict[str, str]:
    """The versions of everything that shaped the files (for meta.json)."""
    import PIL
    import scipy
    import soundfile

    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "pillow": PIL.__version__,
        "soundfile": soundfile.__version__,
        "fluidsynth": tool_version(tools.fluidsynth),
        **({"timidity": tool_version(tools.timidity)} if any(f.player == "timidity" for f in tools.soundfonts) else {}),
        "rsvg-convert": tool_version(tools.rsvg_convert),
        **py_versions,
    }


def _readme(meta: dict, clips: list[ClipPlan]) -> str:
    used_kinds: dict[str, set[str]] = {}
    for c in clips:
        used_kinds.setdefault(c.label, set()).add(c.picture.kind)
    lines = [
        "Solo-instrument clips for mix-and-separate training, built by `avsep data build`.",
        "",
        "LAYOUT (MUSIC / Sound of Pixels index layout)",
        "  audio/<class>/<id>.wav            mono, 11025 Hz, PCM16, {:g} s each".format(meta["clip_seconds"]),
        "  frames/<class>/<id>/000001.jpg    224x224 JPEG at {} fps; frame i covers [(i-1)/fps, i/fps)".format(
            meta["fps"]
        ),
        "  train.csv val.csv test.csv        no header: audio_path,frames_dir,num_frames (relative paths)",
        "  clips.jsonl                       per clip: melody, soundfont, program, picture, augmentation",
        "  meta.json                         the recipe: seed, counts, sources, versions",
        "",
        "Splits: no corpus work, no tune (same first 20 intervals), no recording file, no pitch of a",
        "note library and no source picture is shared between train and val/test.",
        "test-real.csv / val-real.csv: the held-out clips with real audio and a photograph.",
        "",
        "SOURCES AND LICENCES",
        "  Melodies: the music21 corpus shipped with the music21 wheel (BSD-3-Clause; the works are",
        "    public domain): Bach chorales, Ryan's Mammoth Collection, Palestrina. Rendered as MIDI.",
        "  Sounds: General MIDI soundfonts rendered with fluidsynth (LGPL-2.1), a timidity .cfg with",
        "    timidity (GPL-2):",
    ]
    for f in meta["soundfonts"]:
        lines.append(f"    {f['file']} ({f['package']}): {f['licence']}")
    if any(f["licence"].startswith("GPL") for f in meta["soundfonts"]):
        lines += [
            "    Audio rendered with a GPL-2 font: keep this dataset out of source repositories unless",
            "    that is fine with the GPL; rebuild it where it is needed instead of shipping it.",
        ]
    real = meta["real_material"]
    if real["audio_folders"] or real["photo_folders"]:
        lines += ["  Real recordings and photos (read in place, not copied; their terms per class):"]
        for n in meta["instruments"]:
            for src, lic in real["licences"].get(n, {}).items():
                if src != "soundfont":
                    lines.append(f"    {n} / {src}: {'; '.join(lic)}")
            photos = [x for x in real["picture_licences"].get(n, []) if x not in pictures.LICENCES.values()]
            if photos:
                lines.append(f"    {n} / photos: {'; '.join(photos)}")
        lines += [
            "    Derived audio and frames may not be redistributed where a source's terms forbid it",
            "    (Philharmonia samples): keep this dataset out of repositories; ship only trained weights.",
        ]
    lines += ["", "MINUTES OF AUDIO (recorded / sampled notes / soundfont) AND PICTURES (photo / drawn) PER CLASS"]
    for n, st in meta["sources_per_class"].items():
        m, pc = st["minutes"], st["pictures"]
        lines.append(
            f"  {n:<16} {m['recorded']:7.1f} / {m['sampled']:7.1f} / {m['soundfont']:7.1f} min   "
            f"{pc['photo']:5d} / {pc['drawn']:5d} clips"
        )
    lines += [
        "",
        "  Pictures:",
        "    openclipart: " + pictures.LICENCES["openclipart"],
        "    emoji: " + pictures.LICENCES["emoji"],
        "    procedural: " + pictures.LICENCES["procedural"],
        "    distractor people: openclipart silhouettes (public domain) and procedural figures",
        "",
        "PICTURE SOURCES PER INSTRUMENT (groups; train | val | test)",
    ]
    for n, splits in meta["pictures"].items():
        kinds = ", ".join(sorted(used_kinds.get(n, set())))
        lines.append(f"  {n} [{kinds}]")
        for s in SPLITS:
            lines.append(f"    {s}: {', '.join(splits[s])}")
    lines += [
        "",
        "Notes:",
        "  erhu: " + meta["erhu"] + ".",
        "  clarinet: the clipart is an oboe drawing (the two look alike); the rest are procedural.",
        "  tuba: procedural drawings only (neither the clipart nor the emoji font has one).",
        "",
    ]
    return "\n".join(lines)
