"""``build_dataset``: plan the clips, render their audio, draw their frames, write the index."""

from __future__ import annotations

import json
import math
import os
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
from avsep.train.dataset.instruments import CLASSES, INSTRUMENTS, SPECS
from avsep.train.dataset.layout import SPLITS
from avsep.train.dataset.library import scan
from avsep.train.dataset.melodies import default_cache_dir, select_melodies
from avsep.train.dataset.meta import FORMAT, write_build_index
from avsep.train.dataset.scene import Scene, write_frames
from avsep.train.dataset.sources import AUDIO_SOURCES, AudioSource, ClipPlan
from avsep.train.dataset.system import check_python_packages, check_toolchain

HELD_OUT_FRACTION = 0.1  # of each instrument's clips, for val and for test
#: default share of each audio source in a class's clips (renormalised over the sources the
#: class has; recordings are capped at what exists, the rest goes to the next source)
DEFAULT_MIX = {"recordings": 0.4, "sampled-notes": 0.4, "soundfont": 0.2}


def resolve_instruments(instruments: Sequence[str] | str | None) -> list[str]:
    if instruments is None:
        return list(INSTRUMENTS)
    if isinstance(instruments, str):
        instruments = [s for s in instruments.split(",")]
    names = [s.strip() for s in instruments if s.strip()]
    unknown = [n for n in names if n not in CLASSES]
    if unknown or not names:
        raise InputError(f"unknown instrument {', '.join(unknown) or '(none given)'}; choose from {','.join(CLASSES)}")
    return sorted(set(names), key=CLASSES.index)


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
    with building(out_dir) as partial:
        plan, clips = _make_files(
            partial, names, allocation, pic_split, melody_need, sources, tools, cache, progress, **timing
        )
        summary = write_build_index(
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
def building(out_dir: Path) -> Iterator[Path]:
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
            gorder = np.random.default_rng([seed, 0x677270, si, CLASSES.index(name)]).permutation(len(groups))
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
    scene = Scene(sprite, SPECS[clip.label], rng, tools, photo=photo)
    write_frames(scene, root / layout.frames_rel(clip.label, clip.id), n_frames, fps)
    clip.record["scene"] = scene.recipe
