"""``build_dataset``: plan the clips, render their audio, draw their frames, write the index."""

from __future__ import annotations

import json
import math
import os
import platform
import shutil
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from avsep.errors import InputError
from avsep.train.build import layout, pictures
from avsep.train.build.instruments import INSTRUMENTS, SPECS, Program
from avsep.train.build.layout import SPLITS, IndexRow
from avsep.train.build.melodies import Melody, arrange, default_cache_dir, select_melodies
from avsep.train.build.render import SAMPLE_RATE, RenderJob, render_batch
from avsep.train.build.system import SoundFont, check_python_packages, check_toolchain, tool_version

FORMAT = "avsep-music-index/1"
HELD_OUT_FRACTION = 0.1  # of each instrument's clips, for val and for test
_PURPOSE = {"choice": 1, "arrange": 2, "audio": 3, "scene": 4}


@dataclass
class Clip:
    index: int
    id: str
    label: str
    split: str
    melody: Melody
    font: SoundFont
    program: Program
    picture: pictures.PictureSource
    group: pictures.PictureGroup
    record: dict = field(default_factory=dict)

    def rng_seed(self, seed: int, purpose: str) -> tuple[int, ...]:
        return (seed, self.index, _PURPOSE[purpose])


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
            from avsep.progress import make_progress

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
) -> dict:
    """Build a synthetic solo-instrument set in the MUSIC index layout under ``out_dir``.

    ``hours`` of audio (at least one clip per instrument and split) in ``clip_seconds`` clips,
    frames at ``fps``; the same ``seed`` on the same machine and package versions gives the
    same files byte for byte. Melodies (corpus works) and pictures (clipart files, emoji,
    procedural variants) are disjoint between train and val/test. The directory is built
    beside ``out_dir`` and renamed into place at the end. Returns the summary (also in
    ``meta.json``). Raises :class:`AvsepError` for missing Debian packages (with the
    ``apt-get install`` line) and :class:`InputError` for bad arguments.
    """
    started = time.monotonic()
    names = resolve_instruments(instruments)
    _check_args(hours, clip_seconds, fps)
    fps = int(fps)
    clip_seconds = float(clip_seconds)
    tools = check_toolchain([Path(p) for p in soundfonts] if soundfonts is not None else None)
    py_versions = check_python_packages()
    out_dir = Path(out_dir)
    _check_out_dir(out_dir, overwrite)
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()

    counts = plan_counts(names, hours, clip_seconds)
    cat = pictures.catalogue(names, tools)
    pic_split = {n: pictures.split_groups(cat[n], seed, n) for n in names}
    need = {s: sum(counts[n][s] for n in names) for s in SPLITS}
    n_frames = max(1, int(math.floor(clip_seconds * fps + 1e-9)))

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    partial = out_dir.parent / f".{out_dir.name}.partial-{os.getpid()}"
    if partial.exists():
        shutil.rmtree(partial)
    partial.mkdir()
    try:
        with _Reporter(progress) as rep:
            rep.add("melodies", sum(need.values()))
            plan = select_melodies(need, seed, cache, on_work=lambda done, total: rep.set("melodies", done))
            rep.set("melodies", sum(need.values()))
            clips = _plan_clips(names, counts, plan.pools, pic_split, tools, seed)
            rep.add("audio", len(clips))
            rep.add("frames", len(clips))
            # fluidsynth and the FFTs run beside the frame drawing (they release the GIL)
            stop = threading.Event()

            def audio_tick() -> None:
                if stop.is_set():
                    raise _Stopped
                rep.advance("audio")

            with ThreadPoolExecutor(1, thread_name_prefix="avsep-audio") as pool:
                audio = pool.submit(_render_audio, clips, partial, tools, clip_seconds, seed, audio_tick)
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
        summary = _write_index(
            partial, clips, names, counts, plan, pic_split, tools, py_versions,
            seed=seed, hours=hours, clip_seconds=clip_seconds, fps=fps, n_frames=n_frames,
        )  # fmt: skip
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
    summary["out_dir"] = str(out_dir)
    summary["elapsed_s"] = round(time.monotonic() - started, 1)
    return summary


def _plan_clips(
    names: list[str],
    counts: dict[str, dict[str, int]],
    pools: dict[str, list[Melody]],
    pic_split: dict[str, dict[str, list[pictures.PictureGroup]]],
    tools,
    seed: int,
) -> list[Clip]:
    clips: list[Clip] = []
    for si, split in enumerate(SPLITS):
        pool = pools[split]
        order = np.random.default_rng([seed, 0x6173, si]).permutation(len(pool))
        j = 0
        for name in names:
            groups = pic_split[name][split]
            gorder = np.random.default_rng([seed, 0x677270, si, INSTRUMENTS.index(name)]).permutation(len(groups))
            for g in range(counts[name][split]):
                index = len(clips)
                rng = np.random.default_rng([seed, index, _PURPOSE["choice"]])
                group = groups[int(gorder[g % len(groups)])]
                spec = SPECS[name]
                clips.append(
                    Clip(
                        index=index,
                        id=f"syn{index:06d}",
                        label=name,
                        split=split,
                        melody=pool[int(order[j % len(pool)])],
                        font=tools.soundfonts[int(rng.integers(len(tools.soundfonts)))],
                        program=spec.programs[int(rng.integers(len(spec.programs)))],
                        picture=group.sources[int(rng.integers(len(group.sources)))],
                        group=group,
                    )
                )
                j += 1
    return clips


def _render_audio(clips: list[Clip], root: Path, tools, clip_s: float, seed: int, tick) -> None:
    tmp = root / ".render"
    tmp.mkdir()
    for font in tools.soundfonts:
        jobs: list[RenderJob] = []
        mine = [c for c in clips if c.font == font]
        for c in mine:
            perf = arrange(c.melody, SPECS[c.label], c.program, clip_s, np.random.default_rng(list(c.rng_seed(seed, "arrange"))))
            c.record["performance"] = perf.info | {"notes": len(perf.notes)}
            jobs.append(RenderJob(perf, root / layout.audio_rel(c.label, c.id), c.rng_seed(seed, "audio")))
        if not jobs:
            continue
        recipes = render_batch(tools.fluidsynth, font.path, jobs, clip_s, tmp, on_clip=tick)
        for c, r in zip(mine, recipes):
            c.record["augmentation"] = r
    shutil.rmtree(tmp)


def _draw_frames(clip: Clip, root: Path, tools, n_frames: int, fps: int, seed: int) -> None:
    sprite = pictures.load_sprite(clip.picture, clip.label, tools)
    scene = pictures.Scene(sprite, SPECS[clip.label], np.random.default_rng(list(clip.rng_seed(seed, "scene"))), tools)
    pictures.write_frames(scene, root / layout.frames_rel(clip.label, clip.id), n_frames, fps)
    clip.record["scene"] = scene.recipe


def _write_index(root: Path, clips: list[Clip], names, counts, plan, pic_split, tools, py_versions, *,
                 seed: int, hours: float, clip_seconds: float, fps: int, n_frames: int) -> dict:  # fmt: skip
    for split in SPLITS:
        rows = [
            IndexRow(layout.audio_rel(c.label, c.id), layout.frames_rel(c.label, c.id), n_frames)
            for c in clips
            if c.split == split
        ]
        layout.write_index(root / f"{split}.csv", rows)
    with open(root / "clips.jsonl", "w") as f:
        for c in clips:
            rec = {
                "id": c.id,
                "label": c.label,
                "split": c.split,
                "audio": layout.audio_rel(c.label, c.id),
                "frames": layout.frames_rel(c.label, c.id),
                "num_frames": n_frames,
                "melody": c.melody.id,
                "work": c.melody.work,
                "corpus": c.melody.family,
                "soundfont": c.font.key,
                "program": c.program.program,
                "program_name": c.program.name,
                "picture": c.picture.key,
                "picture_group": c.group.id,
            } | c.record
            f.write(json.dumps(rec, sort_keys=True) + "\n")
    count_table = {s: {n: counts[n][s] for n in names} for s in SPLITS}
    n_clips = len(clips)
    import PIL
    import scipy
    import soundfile

    meta = {
        "format": FORMAT,
        "layout": "MUSIC / Sound of Pixels: audio/<class>/<id>.wav, frames/<class>/<id>/NNNNNN.jpg",
        "csv": "no header; audio_path,frames_dir,num_frames; paths relative to this directory",
        "frame_time": "frame i (1-based) covers [(i - 1) / fps, i / fps) seconds and is drawn at its centre (Sound of Pixels)",
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
        "pictures": {
            n: {s: [g.id for g in pic_split[n][s]] for s in SPLITS} for n in names
        },
        "soundfonts": [{"key": f.key, "file": str(f.path), "package": f.package, "licence": f.licence} for f in tools.soundfonts],
        "erhu": "no soundfont has an erhu: Fiddle (GM 110) or Violin (GM 40) with pitch-bend portamento "
                "and wide vibrato, in the erhu's range; pictures are procedural drawings",
        "versions": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "scipy": scipy.__version__,
            "pillow": PIL.__version__,
            "soundfile": soundfile.__version__,
            "fluidsynth": tool_version(tools.fluidsynth),
            "rsvg-convert": tool_version(tools.rsvg_convert),
            **py_versions,
        },
    }  # fmt: skip
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
    }


def _readme(meta: dict, clips: list[Clip]) -> str:
    used_kinds: dict[str, set[str]] = {}
    for c in clips:
        used_kinds.setdefault(c.label, set()).add(c.picture.kind)
    lines = [
        "Synthetic solo-instrument clips for mix-and-separate training, built by `avsep data build`.",
        "",
        "LAYOUT (MUSIC / Sound of Pixels index layout)",
        "  audio/<class>/<id>.wav            mono, 11025 Hz, PCM16, {:g} s each".format(meta["clip_seconds"]),
        "  frames/<class>/<id>/000001.jpg    224x224 JPEG at {} fps; frame i covers [(i-1)/fps, i/fps)".format(meta["fps"]),
        "  train.csv val.csv test.csv        no header: audio_path,frames_dir,num_frames (relative paths)",
        "  clips.jsonl                       per clip: melody, soundfont, program, picture, augmentation",
        "  meta.json                         the recipe: seed, counts, sources, versions",
        "",
        "Splits: no corpus work, no tune (same first 20 intervals) and no source picture is shared",
        "between train and val/test.",
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
    lines += [
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
