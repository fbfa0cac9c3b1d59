"""Real recordings turned into training clips: cut performances, and a sampler for note libraries.

* :class:`RecordingStream`: the recordings (phrases, performances, excerpts) of one class and
  split, trimmed of leading and trailing silence and laid end to end with short gaps, cut into
  clips. A file belongs to exactly one split (:func:`avsep.train.dataset.library.file_split`).
* :class:`NoteBank` and :func:`play`: recorded single notes played along a melody like a
  sampler plays them. For each note of the :class:`~avsep.train.dataset.melodies.Performance`
  the bank gives the recorded note of the split nearest in pitch (then in dynamic, from the
  MIDI velocity), of the clip's one library and articulation, shifted to the written pitch by
  resampling when the nearest recording is a few semitones off (held-out pitches are spread
  over the range, see :func:`~avsep.train.dataset.library.pitch_split`). A note sounds from its
  onset for its written length, then is released with a short fade; the release overlaps the
  next note (legato), and struck or plucked instruments ring on until the next note of theirs.

All audio is mono float at :data:`SAMPLE_RATE`; levels are set by the caller.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from avsep.errors import InputError
from avsep.train.dataset.instruments import Program
from avsep.train.dataset.library import EFFECTS, AudioFile, pitch_split
from avsep.train.dataset.melodies import Performance
from avsep.train.dataset.render import SAMPLE_RATE

#: files decoded per class and kept (notes are short: a class's library fits in memory)
_DECODED_CACHE = 4096
#: the furthest a recorded note is shifted to reach a written pitch, in semitones
MAX_SHIFT = 6


def load_mono(path: Path, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """A file decoded, downmixed and resampled to ``sample_rate`` (polyphase, anti-aliased)."""
    import soundfile as sf
    from scipy.signal import resample_poly

    try:
        data, sr = sf.read(str(path), dtype="float32", always_2d=True)
    except Exception as exc:  # broad on purpose: libsndfile raises its own error types
        raise InputError(
            f"{path}: cannot decode this audio file ({exc}); remove it or convert it to WAV/FLAC/OGG"
        ) from None
    x = data.mean(axis=1)
    if sr != sample_rate:
        ratio = Fraction(sample_rate, sr).limit_denominator(1000)
        x = resample_poly(x, ratio.numerator, ratio.denominator).astype(np.float32)
    return x


def trim(x: np.ndarray, threshold_db: float = -45.0, hop: int = 128) -> np.ndarray:
    """``x`` without leading and trailing frames more than ``threshold_db`` below its peak."""
    if x.size == 0:
        return x
    frames = np.sqrt(np.convolve(x * x, np.ones(hop) / hop, mode="same")[::hop] + 1e-20)
    loud = np.flatnonzero(frames > frames.max() * 10 ** (threshold_db / 20))
    if loud.size == 0:
        return x[:0]
    return x[max(0, loud[0] * hop - hop) : min(x.size, (loud[-1] + 1) * hop + hop)]


class _Decoded:
    """A small LRU of decoded, trimmed files (a bank reads the same note many times)."""

    def __init__(self, size: int = _DECODED_CACHE) -> None:
        self._items: OrderedDict[Path, np.ndarray] = OrderedDict()
        self._size = size

    def __call__(self, path: Path) -> np.ndarray:
        if path in self._items:
            self._items.move_to_end(path)
            return self._items[path]
        x = trim(load_mono(path))
        self._items[path] = x
        while len(self._items) > self._size:
            self._items.popitem(last=False)
        return x


_decoded = _Decoded()


# -- recordings ------------------------------------------------------------------------------


class RecordingStream:
    """The recordings of one class and split, end to end, cut into ``clip_s`` clips."""

    def __init__(self, files: Sequence[AudioFile], clip_s: float, gap_s: tuple[float, float] = (0.2, 0.8)) -> None:
        self.files = list(files)
        self.clip = int(round(clip_s * SAMPLE_RATE))
        self.gap_s = gap_s
        self._audio: np.ndarray | None = None
        self._spans: list[tuple[int, int, str]] = []  # start, end, file key

    def _build(self) -> np.ndarray:
        if self._audio is None:
            rng = np.random.default_rng(len(self.files))
            pieces, pos = [], 0
            for f in self.files:
                x = _decoded(f.path)
                if x.size < SAMPLE_RATE // 4:
                    continue
                x = x / (np.sqrt(np.mean(x * x)) + 1e-9)  # each file at unit RMS, then the clip's level
                gap = np.zeros(int(rng.uniform(*self.gap_s) * SAMPLE_RATE), np.float32)
                self._spans.append((pos, pos + x.size, f.rel))
                pieces += [x.astype(np.float32), gap]
                pos += x.size + gap.size
            self._audio = np.concatenate(pieces) if pieces else np.zeros(0, np.float32)
        return self._audio

    @property
    def capacity(self) -> int:
        """Clips the stream holds without reusing a second of it."""
        return int(self._build().size // self.clip)

    def clip_at(self, k: int) -> tuple[np.ndarray, list[str]]:
        """Clip ``k`` (wrapping around past the end, with a half-clip shift per lap so a reused
        clip is another cut) and the files it holds."""
        audio = self._build()
        if audio.size < self.clip:
            raise InputError("a class's recordings are shorter than one clip; lower --clip-seconds or add recordings")
        laps, i = divmod(k, max(1, self.capacity))
        start = (i * self.clip + laps * self.clip // 2) % max(1, audio.size - self.clip + 1)
        end = start + self.clip
        files = [key for s, e, key in self._spans if s < end and e > start]
        return audio[start:end].copy(), files


# -- note sampler ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Voice:
    """The notes a clip is played with: one library (source) and one articulation of a class."""

    source: str
    articulation: str
    notes: tuple[AudioFile, ...]

    @property
    def pitch_range(self) -> tuple[int, int]:
        pitches = [n.pitch for n in self.notes]
        return min(pitches), max(pitches)  # type: ignore[type-var]


class NoteBank:
    """The single notes of one class, split by pitch, grouped into playable voices."""

    def __init__(self, notes: Sequence[AudioFile]) -> None:
        self.split_of = pitch_split(n.pitch for n in notes)  # type: ignore[misc]
        self.voices: dict[str, list[Voice]] = {}
        melodic = [n for n in notes if not any(e in n.articulation for e in EFFECTS)]
        for split in ("train", "val", "test"):
            groups: dict[tuple[str, str], list[AudioFile]] = {}
            for n in melodic:
                if self.split_of[n.pitch] == split:  # type: ignore[index]
                    groups.setdefault((n.source, n.articulation), []).append(n)
            # a voice needs a few pitches to play a line from
            self.voices[split] = [
                Voice(src, art, tuple(sorted(ns, key=lambda n: (n.pitch, n.dynamic, n.rel))))
                for (src, art), ns in sorted(groups.items())
                if len({n.pitch for n in ns}) >= (3 if split == "train" else 2)
            ]

    def has(self, split: str) -> bool:
        return bool(self.voices.get(split))

    def pick_voice(self, split: str, rng: np.random.Generator) -> Voice:
        """A voice, weighted by how many pitches it covers (the main articulations win)."""
        voices = self.voices[split]
        w = np.array([len({n.pitch for n in v.notes}) for v in voices], dtype=float)
        return voices[int(rng.choice(len(voices), p=w / w.sum()))]


def _nearest(voice: Voice, pitch: int, dynamic: float, rng: np.random.Generator) -> AudioFile:
    best = min(abs(n.pitch - pitch) for n in voice.notes)  # type: ignore[operator]
    near = [n for n in voice.notes if abs(n.pitch - pitch) == best]  # type: ignore[operator]
    dbest = min(abs(n.dynamic - dynamic) for n in near)
    near = [n for n in near if abs(n.dynamic - dynamic) == dbest]
    return near[int(rng.integers(len(near)))]


def _shift(x: np.ndarray, semitones: float) -> np.ndarray:
    """Resample so the note sounds ``semitones`` higher (and correspondingly shorter)."""
    if semitones == 0:
        return x
    ratio = 2.0 ** (semitones / 12.0)
    n = int(x.size / ratio)
    return np.interp(np.arange(n) * ratio, np.arange(x.size), x).astype(np.float32)


def play(
    perf: Performance,
    voice: Voice,
    clip_s: float,
    rng: np.random.Generator,
    *,
    sustained: bool = True,
    reeds: tuple[float, ...] = (0.0,),
) -> tuple[np.ndarray, dict]:
    """Render ``perf`` with the recorded notes of ``voice``; returns audio and its recipe.

    ``sustained`` instruments (bowed, blown) are released 40-150 ms after a note's written end;
    plucked and struck ones ring 0.1-0.4 s past it (at most 2 s in all). ``reeds``: the
    detune in cents of each reed a note sounds on (two reeds a few cents apart beat like an
    accordion's musette register).
    """
    n = int(round(clip_s * SAMPLE_RATE))
    out = np.zeros(n + SAMPLE_RATE * 3, np.float32)
    shifts, used = [], set()
    notes = sorted(perf.notes)
    for s, e, pitch, vel in notes:
        dynamic = (vel - 20) / 107 * 5  # velocity 20..127 -> dynamic level 0..5
        rec = _nearest(voice, pitch, dynamic, rng)
        shift = int(np.clip(pitch - rec.pitch, -MAX_SHIFT, MAX_SHIFT))  # type: ignore[operator]
        layers = [_shift(_decoded(rec.path), shift + c / 100.0) for c in reeds]
        size = min(layer.size for layer in layers)
        x = np.sum([layer[:size] for layer in layers], axis=0)
        if x.size == 0:
            continue
        x = x / (np.sqrt(np.mean(x[: SAMPLE_RATE // 2] ** 2)) + 1e-9)
        gain = 10 ** ((vel - 100) / 127 * 18 / 20)
        if sustained:
            length = int((e - s + rng.uniform(0.04, 0.15)) * SAMPLE_RATE)
        else:
            length = int(min(e - s + rng.uniform(0.1, 0.4), 2.0) * SAMPLE_RATE)
        length = min(length, x.size)
        fade = min(length, int(0.06 * SAMPLE_RATE))
        seg = x[:length] * gain
        seg[length - fade :] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)
        start = int(s * SAMPLE_RATE)
        if start >= n:
            break
        out[start : start + length] += seg
        shifts.append(abs(shift))
        used.add(rec.rel)
    recipe = {
        "library": voice.source,
        "articulation": voice.articulation,
        "notes": len(shifts),
        "recorded_notes": len(used),
        "mean_shift_semitones": round(float(np.mean(shifts)), 2) if shifts else 0.0,
        "reeds_cents": [round(c, 1) for c in reeds],
    }
    return out[:n], recipe


def voice_program(voice: Voice):
    """The :class:`~avsep.train.dataset.instruments.Program` a melody is arranged for when this
    voice plays it: its own recorded range (a melody is transposed into it)."""

    lo, hi = voice.pitch_range
    return Program(-1, lo, hi, f"{voice.source} {voice.articulation}")


def seconds(files: Sequence[AudioFile]) -> float:
    """Total decoded seconds of ``files`` (decodes them: use on what the build needs anyway)."""
    return math.fsum(_decoded(f.path).size for f in files) / SAMPLE_RATE
