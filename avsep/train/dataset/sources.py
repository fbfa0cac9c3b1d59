"""Where a training clip's sound comes from: the audio-source registry of ``avsep data build``.

Each source has a name, a *kind* (what the build's statistics count it as: ``recorded``,
``sampled`` or ``soundfont``), a split unit and a licence per class, and knows how to make the
audio of the clips the planner gives it. A new source is one class registered with
:func:`register_audio_source`; the builder never branches on a source's name.

* ``recordings`` (:class:`RecordingsSource`): real performances and phrases, cut into clips.
  Split unit: the file.
* ``sampled-notes`` (:class:`SampledNotesSource`): recorded single notes played along a
  music21 melody (:mod:`avsep.train.dataset.real_audio`). Split unit: the pitch (all dynamics and
  articulations of a held-out pitch together) for the notes, and the corpus work for the
  melody.
* ``soundfont`` (:class:`SoundfontSource`): the melody rendered by fluidsynth through a
  General MIDI soundfont and roughened (:mod:`avsep.train.dataset.render`). Split unit: the
  corpus work. The only source for a class with no real material (erhu).

Real material is left as recorded at build time (only its level is set); rooms, microphones,
noise and codecs are applied when training (:mod:`avsep.train.augment`), differently every
epoch. Rendered audio keeps the build-time roughening it always had.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from avsep.models.guide import OTHER
from avsep.train.dataset import layout
from avsep.train.dataset.instruments import SPECS
from avsep.train.dataset.library import Library, file_split
from avsep.train.dataset.melodies import Melody
from avsep.train.dataset.performance import arrange
from avsep.train.dataset.real_audio import NoteBank, RecordingStream, play, voice_program
from avsep.train.dataset.render import SAMPLE_RATE, RenderJob, render_batch

if TYPE_CHECKING:
    from avsep.train.dataset.pictures import PictureGroup, PictureSource
    from avsep.train.dataset.system import Toolchain

KINDS = ("recorded", "sampled", "soundfont")


@dataclass
class ClipPlan:
    """One clip of the build: its class, split, sound source and picture, and what was made."""

    index: int
    id: str
    label: str
    split: str
    audio: AudioSource
    picture: PictureSource
    group: PictureGroup
    melody: Melody | None = None
    #: the source's own choices for this clip (font, program, voice, stream position)
    choice: dict[str, Any] = field(default_factory=dict)
    record: dict = field(default_factory=dict)

    def rng_seed(self, seed: int, purpose: str) -> tuple[int, ...]:
        return (seed, self.index, _PURPOSE[purpose])


_PURPOSE = {"choice": 1, "arrange": 2, "audio": 3, "scene": 4}


class AudioSource:
    """A registered source of solo audio. ``setup`` receives the scanned real material."""

    name: ClassVar[str] = ""
    kind: ClassVar[str] = ""
    split_unit: ClassVar[str] = ""
    #: the clip plays a music21 melody (the planner deals melodies by corpus work)
    needs_melody: ClassVar[bool] = False

    def setup(self, library: Library, classes: Sequence[str], clip_s: float, tools: Toolchain) -> None:
        """Look at what material exists; called once per build before any other method."""

    def available(self, label: str, split: str) -> bool:
        raise NotImplementedError

    def capacity(self, label: str, split: str) -> int | None:
        """Clips this source makes for ``label``/``split`` without reusing material (None: no
        limit; a melody source repeats no melody until the corpus runs out)."""
        return None

    def licences(self, label: str) -> list[str]:
        raise NotImplementedError

    def held_out(self, label: str) -> dict[str, list[str]]:
        """The split units of ``label`` held out for val and test (for meta.json)."""
        return {}

    def choose(self, clip: ClipPlan, rng: np.random.Generator, ordinal: int) -> None:
        """Fill ``clip.choice`` (``ordinal``: the clip's number among this source's clips of
        the same class and split)."""

    def render(self, clips: list[ClipPlan], root: Path, clip_s: float, seed: int, tick: Callable[[], None]) -> None:
        """Write the audio of ``clips`` to ``root/audio/<class>/<id>.wav`` (and their recipe
        to ``clip.record``), calling ``tick`` after each clip."""
        raise NotImplementedError


AUDIO_SOURCES: dict[str, type[AudioSource]] = {}


def register_audio_source(cls: type[AudioSource]) -> type[AudioSource]:
    assert cls.kind in KINDS, cls
    AUDIO_SOURCES[cls.name] = cls
    return cls


def write_clip(clip: ClipPlan, root: Path, audio: np.ndarray, rng: np.random.Generator) -> float:
    """Write real audio of ``clip`` (:func:`write_audio`) where the layout puts it; returns the level."""
    return write_audio(root / layout.audio_rel(clip.label, clip.id), audio, rng)


def write_audio(path: Path, audio: np.ndarray, rng: np.random.Generator) -> float:
    """Write real audio at a random level between -30 and -16 dBFS RMS (the renders' range),
    with 10 ms fades; returns the level."""
    import soundfile as sf

    level_db = float(rng.uniform(-30, -16))
    y = audio.astype(np.float64)
    y = y * (10 ** (level_db / 20) / (np.sqrt(np.mean(y * y)) + 1e-12))
    peak = float(np.max(np.abs(y)))
    if peak > 0.99:
        y *= 0.99 / peak
    fade = int(0.01 * SAMPLE_RATE)
    ramp = np.linspace(0.0, 1.0, fade)
    y[:fade] *= ramp
    y[-fade:] *= ramp[::-1]
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), y.astype(np.float32), SAMPLE_RATE, subtype="PCM_16")
    return round(level_db, 2)


@register_audio_source
class RecordingsSource(AudioSource):
    name = "recordings"
    kind = "recorded"
    split_unit = "file"

    def setup(self, library, classes, clip_s, tools):
        self.splits = {c: file_split(library.recordings(c)) for c in classes}
        self.streams = {
            (c, s): RecordingStream(fs, clip_s) for c, parts in self.splits.items() for s, fs in parts.items()
        }
        self._licences = {c: sorted({f.licence for f in library.recordings(c)}) for c in classes}

    def available(self, label, split):
        return bool(self.splits[label][split]) and self.capacity(label, split) > 0

    def capacity(self, label, split):
        return self.streams[(label, split)].capacity if self.splits[label][split] else 0

    def licences(self, label):
        return self._licences[label]

    def held_out(self, label):
        return {s: [f.rel for f in self.splits[label][s]] for s in ("val", "test")}

    def choose(self, clip, rng, ordinal):
        clip.choice = {"position": ordinal}

    def render(self, clips, root, clip_s, seed, tick):
        for c in clips:
            audio, files = self.streams[(c.label, c.split)].clip_at(c.choice["position"])
            rng = np.random.default_rng(list(c.rng_seed(seed, "audio")))
            c.record["audio_source"] = {
                "source": self.name,
                "files": files,
                "rms_dbfs": write_clip(c, root, audio, rng),
            }
            tick()


@register_audio_source
class SampledNotesSource(AudioSource):
    name = "sampled-notes"
    kind = "sampled"
    split_unit = "pitch (all dynamics and articulations of a pitch together)"
    needs_melody = True

    def setup(self, library, classes, clip_s, tools):
        # ``other`` gathers many instruments: a melody sampled from all their notes would be
        # no instrument at all, so its notes are not played (its recordings and fonts are)
        self.banks = {c: NoteBank(library.notes(c)) for c in classes if library.notes(c) and c != OTHER}
        self._licences = {c: sorted({f.licence for f in library.notes(c)}) for c in classes}

    def available(self, label, split):
        return label in self.banks and self.banks[label].has(split)

    def licences(self, label):
        return self._licences[label]

    def held_out(self, label):
        bank = self.banks.get(label)
        if bank is None:
            return {}
        return {s: [str(p) for p, sp in sorted(bank.split_of.items()) if sp == s] for s in ("val", "test")}

    def choose(self, clip, rng, ordinal):
        clip.choice = {"voice": self.banks[clip.label].pick_voice(clip.split, rng)}

    def render(self, clips, root, clip_s, seed, tick):
        for c in clips:
            voice = c.choice["voice"]
            spec = SPECS[c.label]
            assert c.melody is not None
            perf = arrange(
                c.melody, spec, voice_program(voice), clip_s, np.random.default_rng(list(c.rng_seed(seed, "arrange")))
            )
            rng = np.random.default_rng(list(c.rng_seed(seed, "audio")))
            reeds = (0.0,)
            if spec.reed_detune_cents[1] > 0 and rng.random() < 0.5:
                reeds = (0.0, float(rng.uniform(*spec.reed_detune_cents)))
            audio, recipe = play(perf, voice, clip_s, rng, sustained=not spec.plucked, reeds=reeds)
            c.record["performance"] = perf.info | {"notes": len(perf.notes)}
            c.record["audio_source"] = {"source": self.name, **recipe, "rms_dbfs": write_clip(c, root, audio, rng)}
            tick()


@register_audio_source
class SoundfontSource(AudioSource):
    name = "soundfont"
    kind = "soundfont"
    split_unit = "corpus work (melody)"
    needs_melody = True

    def setup(self, library, classes, clip_s, tools):
        self.tools = tools

    def available(self, label, split):
        return True

    def licences(self, label):
        return [f"{f.key}: {f.licence}" for f in self.tools.soundfonts]

    def choose(self, clip, rng, ordinal):
        spec = SPECS[clip.label]
        clip.choice = {
            "font": self.tools.soundfonts[int(rng.integers(len(self.tools.soundfonts)))],
            "program": spec.programs[int(rng.integers(len(spec.programs)))],
        }

    def render(self, clips, root, clip_s, seed, tick):
        tmp = root / ".render"
        tmp.mkdir(exist_ok=True)
        for font in self.tools.soundfonts:
            mine = [c for c in clips if c.choice["font"] == font]
            jobs: list[RenderJob] = []
            for c in mine:
                assert c.melody is not None
                rng = np.random.default_rng(list(c.rng_seed(seed, "arrange")))
                perf = arrange(c.melody, SPECS[c.label], c.choice["program"], clip_s, rng)
                c.record["performance"] = perf.info | {"notes": len(perf.notes)}
                jobs.append(RenderJob(perf, root / layout.audio_rel(c.label, c.id), c.rng_seed(seed, "audio")))
            if not jobs:
                continue
            recipes = render_batch(self.tools.player(font), font.path, jobs, clip_s, tmp, on_clip=tick)
            for c, r in zip(mine, recipes):
                c.record["augmentation"] = r
                c.record["audio_source"] = {
                    "source": self.name,
                    "soundfont": font.key,
                    "program": c.choice["program"].program,
                    "program_name": c.choice["program"].name,
                }
        shutil.rmtree(tmp, ignore_errors=True)
