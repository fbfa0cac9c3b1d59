"""``build_dataset``: plan the clips, render their audio, draw their frames, write the index."""

from __future__ import annotations

import json
import math
import os
import platform
import shutil
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from avsep.errors import InputError
from avsep.progress import make_progress
from avsep.train.dataset import layout, pictures
from avsep.train.dataset.instruments import INSTRUMENTS, SPECS
from avsep.train.dataset.layout import SPLITS
from avsep.train.dataset.library import Library, scan
from avsep.train.dataset.melodies import default_cache_dir, select_melodies
from avsep.train.dataset.render import SAMPLE_RATE
from avsep.train.dataset.sources import AUDIO_SOURCES, KINDS, AudioSource, ClipPlan
from avsep.train.dataset.system import check_python_packages, check_toolchain, tool_version
from avsep.train.index import Clip, write_index

FORMAT = "avsep-music-index/1"
HELD_OUT_FRACTION = 0.1  # of each instrument's clips, for val and for test
#: default share of each audio source in a class's clips (renormalised over the sources the
#: class has; recordings are capped at what exists, the rest goes to the next source)
DEFAULT_MIX = {"recordings": 0.4, "sampled-notes": 0.4, "soundfont": 0.2}
#: kinds whose clips count as real audio (test-real.csv, the statistics)
REAL_KINDS = ("recorded", "sampled")


def resolve_instruments(instruments: Sequence[str] | str | None) -> list[str]:
    if instruments is None:
        return list(INSTRUMENTS)
    if isinstance(instruments, str):
        instruments = [s for s in instruments.split(",")]
    names = [s.strip() for s in instruments if s.strip()]
    unknown = [n for n in names if n not in SPECS]
    if unknown or not names:
        raise InputError(
            f"unknown instrument {', '.join(unknown) or '(none given)'}; choose from {','.join(INSTRUMENTS)}"
        )
    return sorted(set(names), key=INSTRUMENTS.index)


def plan_counts(names: list[str], hours: float, clip_seconds: float) -> dict[str, dict[str, int]]:
    """Clips per instrument and split: ``hours`` of audio shared evenly, but at least one clip
    per instrument in each split."""
    total = math.ceil(hours * 3600 / clip_seconds - 1e-9)
    base, extra = divmod(total, len(names))
    out: dict[str, dict[str, int]] = {}
    for i, n in enumerate(names):
        k = max(3, base + (1 if i < extra else 0))
        held = max(1, round(HELD_OUT_FRACTION * k))
        out[n] = {"train": k - 2 * held, "val": held, "test": held}
    return out


def _check_args(hours: float, clip_seconds: float, fps: int) -> None:
    if not (hours > 0 and math.isfinite(hours)) or hours > 10_000:
        raise InputError(f"--hours {hours} must be a positive number of hours (e.g. 0.02 or 10)")
    if not 3 <= clip_seconds <= 120:
        raise InputError(f"--clip-seconds {clip_seconds} must be between 3 and 120")
    if int(fps) != fps or not 1 <= fps <= 30:
        raise InputError(f"--fps {fps} must be a whole number between 1 and 30")


def _check_out_dir(out: Path, overwrite: bool) -> None:
    if not out.exists():
        return
    if not out.is_dir():
        raise InputError(f"{out} exists and is not a directory; choose another output directory")
    if not any(out.iterdir()):
        return
    ours = (out / "meta.json").is_file()
    if ours:
        try:
            ours = json.loads((out / "meta.json").read_text()).get("format") == FORMAT
        except (ValueError, OSError, AttributeError):
            ours = False
    if not ours:
        raise InputError(f"{out} is not empty and holds no avsep dataset; choose an empty or new directory")
    if not overwrite:
        raise InputError(f"{out} already holds a dataset; pass --overwrite to replace it")


class _Stopped(Exception):
    """The frame drawing failed: the audio thread stops at its next clip."""


class _Reporter:
    """Rich progress bars on stderr, or nothing."""

    def __init__(self, enabled: bool) -> None:
        self.progress = None
        if enabled:
            self.progress = make_progress(True)
        self.tasks: dict[str, object] = {}

    def __enter__(self) -> _Reporter:
        if self.progress is not None:
            self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.stop()

    def add(self, name: str, total: int) -> None:
        if self.progress is not None:
            self.tasks[name] = self.progress.add_task(name, total=total)

    def set(self, name: str, done: int) -> None:
        if self.progress is not None:
            self.progress.update(self.tasks[name], completed=done)  # type: ignore[arg-type]

    def advance(self, name: str) -> None:
        if self.progress is not None:
            self.progress.advance(self.tasks[name])  # type: ignore[arg-type]


def parse_mix(text: str | dict[str, float] | None) -> dict[str, float]:
    """``"recordings=2,sampled-notes=2,soundfont=1"`` -> shares by source name."""
    if text is None:
        return dict(DEFAULT_MIX)
    if isinstance(text, dict):
        items = list(text.items())
    else:
        items = []
        for part in filter(None, (p.strip() for p in text.split(","))):
            name, _, value = part.partition("=")
            try:
                items.append((name.strip(), float(value)))
            except ValueError:
                raise InputError(
                    f"--mix {text!r}: expected NAME=SHARE,... (e.g. recordings=2,sampled-notes=2,soundfont=1)"
                ) from None
    unknown = [n for n, _ in items if n not in AUDIO_SOURCES]
    if unknown or any(v < 0 for _, v in items) or not any(v > 0 for _, v in items):
        raise InputError(
            f"--mix {text!r}: shares must be >= 0, one of them > 0, for the sources {', '.join(AUDIO_SOURCES)}"
            + (f" (unknown: {', '.join(unknown)})" if unknown else "")
        )
    return dict(items)


def build_dataset(
    out_dir: Path,
    *,
    seed: int = 0,
    hours: float = 1.0,
    instruments: Sequence[str] | None = None,
    clip_seconds: float = 12.0,
    fps: int = 2,
    progress: bool = True,
    cache_dir: Path | None = None,
    overwrite: bool = False,
    soundfonts: Sequence[Path] | None = None,
    real_audio: Sequence[Path] = (),
    photos: Sequence[Path] = (),
    mix: str | dict[str, float] | None = None,
) -> dict:
    """Build a solo-instrument set in the MUSIC index layout under ``out_dir``.

    ``hours`` of audio (at least one clip per instrument and split) in ``clip_seconds`` clips,
    frames at ``fps``. Sound comes from the registered audio sources
    (:mod:`avsep.train.dataset.sources`) in the shares of ``mix``: cut real recordings and
    sampled real notes from ``real_audio`` folders where a class has them, soundfont renders
    otherwise; pictures from ``photos`` where a class has them, drawings otherwise. Melodies
    (corpus works), recordings (files), notes (pitches) and pictures (files, drawings) are
    disjoint between train and val/test, by rules that depend on the material, not on the
    build's size. The same ``seed`` and inputs on the same machine give the same files byte
    for byte. The directory is built beside ``out_dir`` and renamed into place at the end.
    Returns the summary (also in ``meta.json``). Raises :class:`AvsepError` for missing
    Debian packages (with the ``apt-get install`` line) and :class:`InputError` for bad
    arguments.
    """
    started = time.monotonic()
    names = resolve_instruments(instruments)
    _check_args(hours, clip_seconds, fps)
    shares = parse_mix(mix)
    fps = int(fps)
    clip_seconds = float(clip_seconds)
    tools = check_toolchain([Path(p) for p in soundfonts] if soundfonts is not None else None)
    py_versions = check_python_packages()
    out_dir = Path(out_dir)
    _check_out_dir(out_dir, overwrite)
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    library = scan([Path(p) for p in real_audio], [Path(p) for p in photos], names)

    sources = [cls() for name, cls in AUDIO_SOURCES.items() if shares.get(name, 0) > 0 or name == "soundfont"]
    for src in sources:
        src.setup(library, names, clip_seconds, tools)
    counts = plan_counts(names, hours, clip_seconds)
    allocation = allocate(names, counts, sources, shares)
    cat = pictures.catalogue(names, tools, library.pictures)
    pic_split = {n: pictures.split_catalogue(cat[n], seed, n) for n in names}
    melody_need = {s: sum(k for (n, sp, src), k in allocation.items() if sp == s and src.needs_melody) for s in SPLITS}
    n_frames = max(1, int(math.floor(clip_seconds * fps + 1e-9)))
    timing = dict(seed=seed, clip_seconds=clip_seconds, fps=fps, n_frames=n_frames)
    with _building(out_dir) as partial:
        plan, clips = _make_files(
            partial, names, allocation, pic_split, melody_need, sources, tools, cache, progress, **timing
        )
        summary = _write_index(
            partial,
            clips,
            names,
            counts,
            plan,
            pic_split,
            tools,
            py_versions,
            sources,
            library,
            hours=hours,
            shares=shares,
            **timing,
        )
    summary["out_dir"] = str(out_dir)
    summary["elapsed_s"] = round(time.monotonic() - started, 1)
    return summary


def _make_files(
    partial: Path,
    names: list[str],
    allocation: dict,
    pic_split: dict,
    melody_need: dict[str, int],
    sources: list[AudioSource],
    tools,
    cache: Path,
    progress: bool,
    *,
    seed: int,
    clip_seconds: float,
    fps: int,
    n_frames: int,
):
    """The melodies chosen, then every clip's audio rendered (in a thread) beside its frames
    drawn, into ``partial``, under progress bars; returns the melody plan and the clips."""
    with _Reporter(progress) as rep:
        rep.add("melodies", sum(melody_need.values()))
        plan = select_melodies(melody_need, seed, cache, on_work=lambda done, total: rep.set("melodies", done))
        rep.set("melodies", sum(melody_need.values()))
        clips = _plan_clips(names, allocation, plan.pools, pic_split, seed)
        rep.add("audio", len(clips))
        rep.add("frames", len(clips))
        # fluidsynth, decoding and the FFTs run beside the frame drawing (they release the GIL)
        stop = threading.Event()

        def audio_tick() -> None:
            if stop.is_set():
                raise _Stopped
            rep.advance("audio")

        with ThreadPoolExecutor(1, thread_name_prefix="avsep-audio") as pool:
            audio = pool.submit(_render_audio, sources, clips, partial, clip_seconds, seed, audio_tick)
            try:
                for clip in clips:
                    if audio.done() and audio.exception() is not None:
                        break
                    _draw_frames(clip, partial, tools, n_frames, fps, seed)
                    rep.advance("frames")
            except BaseException:
                stop.set()
                raise
            audio.result()
    return plan, clips


@contextmanager
def _building(out_dir: Path) -> Iterator[Path]:
    """A fresh folder beside ``out_dir`` to build in: renamed to ``out_dir`` when the block ends
    (a dataset already there is replaced only once the new one is in place), removed on error."""
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    partial = out_dir.parent / f".{out_dir.name}.partial-{os.getpid()}"
    if partial.exists():
        shutil.rmtree(partial)
    partial.mkdir()
    try:
        yield partial
        old = None
        if out_dir.exists():
            old = out_dir.parent / f".{out_dir.name}.old-{os.getpid()}"
            os.replace(out_dir, old)
        os.replace(partial, out_dir)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise


def allocate(
    names: list[str], counts: dict[str, dict[str, int]], sources: list[AudioSource], shares: dict[str, float]
) -> dict[tuple[str, str, AudioSource], int]:
    """Clips per (class, split, source): each class's count shared among the sources it has in
    that split by ``shares`` (largest remainder), a capped source's excess passed on to the
    uncapped ones; the soundfont takes what nothing else can (and all of a class with no real
    material)."""
    out: dict[tuple[str, str, AudioSource], int] = {}
    fallback = next(s for s in sources if s.name == "soundfont")
    for name in names:
        for split in SPLITS:
            n = counts[name][split]
            have = [s for s in sources if shares.get(s.name, 0) > 0 and s.available(name, split)] or [fallback]
            w = np.array([shares.get(s.name, 0) or 1.0 for s in have], dtype=float)
            exact = n * w / w.sum()
            k = np.floor(exact).astype(int)
            for i in np.argsort(-(exact - k), kind="stable")[: n - k.sum()]:
                k[i] += 1
            excess = 0
            for i, src in enumerate(have):
                cap = src.capacity(name, split)
                if cap is not None and k[i] > cap:
                    excess += k[i] - cap
                    k[i] = cap
            open_ = [i for i, src in enumerate(have) if src.capacity(name, split) is None]
            if excess:
                if open_:
                    k[open_[0]] += excess
                else:
                    out[(name, split, fallback)] = out.get((name, split, fallback), 0) + excess
            for i, src in enumerate(have):
                if k[i]:
                    out[(name, split, src)] = out.get((name, split, src), 0) + int(k[i])
    return out


def _plan_clips(
    names: list[str],
    allocation: dict[tuple[str, str, AudioSource], int],
    pools: dict[str, list],
    pic_split: dict[str, dict[str, list[pictures.PictureGroup]]],
    seed: int,
) -> list[ClipPlan]:
    prefix = {"recorded": "rec", "sampled": "smp", "soundfont": "syn"}
    clips: list[ClipPlan] = []
    for si, split in enumerate(SPLITS):
        pool = pools[split]
        order = np.random.default_rng([seed, 0x6173, si]).permutation(len(pool)) if pool else []
        j = 0
        for name in names:
            groups = pic_split[name][split]
            gorder = np.random.default_rng([seed, 0x677270, si, INSTRUMENTS.index(name)]).permutation(len(groups))
            g = 0
            for (n, sp, src), count in allocation.items():
                if n != name or sp != split:
                    continue
                for ordinal in range(count):
                    index = len(clips)
                    rng = np.random.default_rng([seed, index, 1])
                    group = groups[int(gorder[g % len(groups)])]
                    g += 1
                    melody = None
                    if src.needs_melody:
                        melody = pool[int(order[j % len(pool)])]
                        j += 1
                    clip = ClipPlan(
                        index=index,
                        id=f"{prefix[src.kind]}{index:06d}",
                        label=name,
                        split=split,
                        audio=src,
                        picture=group.sources[int(rng.integers(len(group.sources)))],
                        group=group,
                        melody=melody,
                    )
                    src.choose(clip, rng, ordinal)
                    clips.append(clip)
    return clips


def _render_audio(
    sources: list[AudioSource], clips: list[ClipPlan], root: Path, clip_s: float, seed: int, tick
) -> None:
    for src in sources:
        mine = [c for c in clips if c.audio is src]
        if mine:
            src.render(mine, root, clip_s, seed, tick)


def _draw_frames(clip: ClipPlan, root: Path, tools, n_frames: int, fps: int, seed: int) -> None:
    sprite = pictures.load_sprite(clip.picture, clip.label, tools)
    photo = clip.picture.ref if pictures.PICTURE_KINDS[clip.picture.kind].photographic else None
    rng = np.random.default_rng(list(clip.rng_seed(seed, "scene")))
    scene = pictures.Scene(sprite, SPECS[clip.label], rng, tools, photo=photo)
    pictures.write_frames(scene, root / layout.frames_rel(clip.label, clip.id), n_frames, fps)
    clip.record["scene"] = scene.recipe


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


def _write_index(
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
        "  Sounds: General MIDI soundfonts rendered with fluidsynth (LGPL-2.1):",
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
