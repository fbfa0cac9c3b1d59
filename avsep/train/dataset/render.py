"""Render performances with fluidsynth (or timidity) and make them sound recorded.

Clips that use the same soundfont are written back to back into one MIDI file (each in its own
slot with a reset before it and a gap after it) and rendered by one ``fluidsynth`` run at
11025 Hz, float, with fluidsynth's own reverb and chorus off (a timidity configuration of GUS
patches, :data:`~avsep.train.dataset.system.TIMIDITY_CONFIG`, by one ``timidity`` run, 16-bit,
its reverb and chorus off too); each slot is then cut out,
downmixed to mono and augmented: an EQ tilt with an optional presence bump, a room (convolution
with exponentially decaying noise whose high band dies faster), a level between -30 and -16
dBFS RMS, light white/pink noise or mains hum, 10 ms fades. Written as PCM16 WAV.
"""

from __future__ import annotations

import math
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy import fft as sfft
from scipy.signal import fftconvolve, lfilter

from avsep.errors import AvsepError
from avsep.train.dataset.melodies import Performance
from avsep.train.dataset.performance import write_midi
from avsep.train.dataset.system import played_by_timidity, timidity_programs

SAMPLE_RATE = 11025
GAP_S = 1.5  # silence between slots: release tails die out before the next reset
MAX_BATCH_S = 1500.0  # seconds of audio per fluidsynth run (bounds the temporary file)


@dataclass
class RenderJob:
    performance: Performance
    out_path: Path
    seed: tuple[int, ...]


def synth_command(program: str, font: Path, mid: Path, wav: Path) -> list[str]:
    """The command that renders ``mid`` through ``font`` into ``wav`` at :data:`SAMPLE_RATE`,
    with the synthesiser's own reverb and chorus off (the augmentation adds rooms): ``program``
    is fluidsynth, or timidity for a :data:`~avsep.train.dataset.system.TIMIDITY_CONFIG`, told to
    keep the silence before the first note (it drops it by default, which moved every slot of a
    batch half a second earlier than where it is cut out)."""
    if played_by_timidity(font):
        return [
            program, "-c", str(font), "-Ow", "--output-mono", "--preserve-silence", "-s", str(SAMPLE_RATE),
            "-EFreverb=0", "-EFchorus=0", "-o", str(wav), str(mid),
        ]  # fmt: skip
    return [
        program, "-ni", "-q", "-R", "0", "-C", "0", "-g", "0.5",
        "-r", str(SAMPLE_RATE), "-O", "float", "-T", "wav",
        "-o", "synth.cpu-cores=1", "-o", "synth.polyphony=64",
        "-F", str(wav), str(font), str(mid),
    ]  # fmt: skip


def render_batch(
    program: str,
    font: Path,
    jobs: Sequence[RenderJob],
    clip_s: float,
    tmp_dir: Path,
    on_clip: Callable[[], None] | None = None,
) -> list[dict]:
    """Render ``jobs`` through ``font`` with ``program`` (:func:`synth_command`); write each
    augmented clip; return each one's recipe."""
    if played_by_timidity(font):
        have = timidity_programs(font)
        lacking = sorted({j.performance.program for j in jobs} - have)
        if lacking:
            raise AvsepError(
                f"{font} has no patch for General MIDI program(s) {', '.join(map(str, lacking))}; "
                "leave out the instruments that need them (--instruments) or add a font that has them"
            )
    slot = clip_s + GAP_S
    per_batch = max(1, int(MAX_BATCH_S // slot))
    recipes: list[dict] = []
    n = int(round(clip_s * SAMPLE_RATE))
    for b in range(0, len(jobs), per_batch):
        chunk = jobs[b : b + per_batch]
        offsets = [0.5 + i * slot for i in range(len(chunk))]
        mid = tmp_dir / f"batch-{font.stem}-{b}.mid"
        wav = tmp_dir / f"batch-{font.stem}-{b}.wav"
        write_midi(list(zip(offsets, (j.performance for j in chunk))), mid, offsets[-1] + slot)
        name = Path(program).name
        try:
            res = subprocess.run(synth_command(program, font, mid, wav), capture_output=True, text=True, timeout=1800)
        except (OSError, subprocess.SubprocessError) as e:
            raise AvsepError(f"{name} failed on {font}: {e}; check the {name} install") from e
        if res.returncode != 0 or not wav.is_file():
            tail = (res.stderr or res.stdout).strip().splitlines()[-1:] or ["no output"]
            raise AvsepError(f"{name} failed on {font} (exit {res.returncode}): {tail[0]}")
        with sf.SoundFile(str(wav)) as f:
            if f.samplerate != SAMPLE_RATE:
                raise AvsepError(f"{name} wrote {f.samplerate} Hz instead of {SAMPLE_RATE}; update {name}")
            for off, job in zip(offsets, chunk):
                f.seek(min(int(round(off * SAMPLE_RATE)), f.frames))
                x = f.read(n, dtype="float64", always_2d=True).mean(axis=1)
                if len(x) < n:
                    x = np.pad(x, (0, n - len(x)))
                if _rms(x) < 1e-6:
                    raise AvsepError(
                        f"{name} rendered silence for program {job.performance.program} with "
                        f"{font}; the soundfont may lack it: pass other fonts"
                    )
                rng = np.random.default_rng(list(job.seed))
                y, recipe = augment(x, SAMPLE_RATE, rng)
                job.out_path.parent.mkdir(parents=True, exist_ok=True)
                sf.write(str(job.out_path), y.astype(np.float32), SAMPLE_RATE, subtype="PCM_16")
                recipes.append(recipe)
                if on_clip is not None:
                    on_clip()
        mid.unlink(missing_ok=True)
        wav.unlink(missing_ok=True)
    return recipes


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x * x) + 1e-20))


def _eq(x: np.ndarray, sr: int, rng: np.random.Generator) -> tuple[np.ndarray, dict]:
    n = len(x)
    pad = sfft.next_fast_len(n + sr // 5)
    spec = sfft.rfft(x, pad)
    f = np.maximum(sfft.rfftfreq(pad, 1 / sr), 40.0)
    tilt = rng.uniform(-2.5, 2.5)  # dB per octave around 1 kHz
    g = tilt * np.log2(f / 1000.0)
    bump_db, bump_hz = 0.0, 0.0
    if rng.random() < 0.5:
        bump_hz = float(np.exp(rng.uniform(math.log(250), math.log(3500))))
        bump_db = rng.uniform(-5, 5)
        g = g + bump_db * np.exp(-0.5 * (np.log2(f / bump_hz) / 0.6) ** 2)
    g = np.clip(g, -15, 12)
    y = sfft.irfft(spec * 10 ** (g / 20), pad)[:n]
    return y, {"tilt_db_per_octave": round(tilt, 2), "bump_db": round(bump_db, 2), "bump_hz": round(bump_hz)}


def _room(x: np.ndarray, sr: int, rng: np.random.Generator) -> tuple[np.ndarray, dict]:
    rt60 = rng.uniform(0.2, 1.3)
    length = int(min(1.3 * rt60, 1.8) * sr)
    t = np.arange(length) / sr
    noise = rng.standard_normal(length)
    a = math.exp(-2 * math.pi * rng.uniform(1500, 3500) / sr)
    low = lfilter([1 - a], [1, -a], noise)
    high = noise - low
    ir = low * np.exp(-6.91 * t / rt60) + high * np.exp(-6.91 * t / (rt60 * rng.uniform(0.35, 0.7)))
    predelay = int(rng.uniform(0.003, 0.025) * sr)
    ir = np.concatenate([np.zeros(predelay), ir])
    ir /= np.sqrt(np.sum(ir * ir)) + 1e-12
    wet = fftconvolve(x, ir)[: len(x)]
    ratio = rng.uniform(0.15, 0.75)  # wet RMS relative to dry
    y = x + ratio * wet * (_rms(x) / _rms(wet))
    return y, {"rt60_s": round(rt60, 3), "wet_ratio": round(ratio, 3)}


def _noise(n: int, sr: int, rng: np.random.Generator) -> tuple[np.ndarray, str]:
    kind = ["white", "pink", "hum"][int(rng.integers(3))]
    if kind == "white":
        z = rng.standard_normal(n)
    elif kind == "pink":
        w = rng.standard_normal(n)
        spec = np.fft.rfft(w)
        f = np.fft.rfftfreq(n, 1 / sr)
        spec /= np.sqrt(np.maximum(f, 20.0))
        z = np.fft.irfft(spec, n)
    else:
        base = 50.0 if rng.random() < 0.5 else 60.0
        t = np.arange(n) / sr
        z = sum(
            (0.6**k) * np.sin(2 * np.pi * base * (k + 1) * t + rng.uniform(0, 2 * np.pi)) for k in range(5)
        ) + 0.2 * rng.standard_normal(n)
    return z / _rms(z), kind


def augment(x: np.ndarray, sr: int, rng: np.random.Generator) -> tuple[np.ndarray, dict]:
    """Make a clean synthesizer clip sound like a recording; returns audio in [-1, 1] and recipe."""
    recipe: dict = {}
    y, recipe["eq"] = _eq(x, sr, rng)
    if rng.random() < 0.85:
        y, recipe["room"] = _room(y, sr, rng)
    level_db = rng.uniform(-30, -16)
    y = y * (10 ** (level_db / 20) / _rms(y))
    recipe["rms_dbfs"] = round(level_db, 2)
    if rng.random() < 0.8:
        snr = rng.uniform(30, 55)
        z, kind = _noise(len(y), sr, rng)
        y = y + z * _rms(y) * 10 ** (-snr / 20)
        recipe["noise"] = {"kind": kind, "snr_db": round(snr, 1)}
    peak = float(np.max(np.abs(y)))
    if peak > 0.99:
        y *= 0.99 / peak
    fade = int(0.01 * sr)
    ramp = np.linspace(0.0, 1.0, fade)
    y[:fade] *= ramp
    y[-fade:] *= ramp[::-1]
    return y, recipe
