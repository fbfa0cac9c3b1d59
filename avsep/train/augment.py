"""A video's soundtrack chain, applied to training mixtures: rooms, microphone, noise, codec.

Real videos are not studio stems summed: the players stand in a room at different distances
from one microphone, the microphone and the camera's preamp colour the sound, the room hums,
and the soundtrack is stored as lossy AAC. :class:`Soundtrack` does the same to each training
mixture, with fresh random choices for every item (drawn from the item's own seed, so resume
and workers stay exact):

1. **room** (``rooms``): every source is convolved with an impulse response of *one* room,
   from its own position; rooms come from a precomputed bank (:class:`RoomBank`: shoebox rooms
   of random size and absorption simulated with ``pyroomacoustics``' image method);
2. **level** (``gain_db`` of the dataset): sources are spread over a wide range of levels;
3. **microphone** (``mic``): one random EQ (low cut, tilt, one or two resonances, sometimes a
   narrow band) applied to every source alike;
4. **noise** (``noise``): white, pink, brown or mains hum at 10-40 dB below the mixture;
5. **codec** (``codec``): the mixture encoded to AAC at 64-192 kbit/s (stereo-equivalent: a
   mono stream at half that) at 22050 Hz through PyAV, decoded and aligned back.

**The targets stay well defined.** Steps 1-3 are linear and applied to each source before
summing, so each source's target is the source as the microphone heard it (reverberant,
coloured, at its level), and the sources still sum to the clean mixture. Steps 4-5 change the
mixture only: noise and codec error belong to no source, so the binary target of a bin is
"this source dominates the *observed* mixture" (noise-dominated bins are 0 for every source),
and the references for scoring are the step-3 sources.

Before the chain, ``--retune`` may play an item's sources faster or slower together
(:func:`retuned`): a change of the players, not of the soundtrack, so their targets move too.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from avsep.errors import InputError
from avsep.signal.dsp import SAMPLE_RATE

STEPS = ("rooms", "mic", "noise", "codec")
#: AAC encoder priming at 22050 Hz: the decoded stream starts this many samples late
_AAC_RATE = 22050
_AAC_DELAY = 1024


def parse_steps(text: str | Sequence[str] | None) -> tuple[str, ...]:
    """``"rooms,mic,noise,codec"`` / ``"all"`` / ``"none"`` -> the steps, in chain order."""
    if text is None:
        return ()
    items = [t.strip() for t in (text.split(",") if isinstance(text, str) else text) if t.strip()]
    if items in (["none"], []):
        return ()
    if items == ["all"]:
        return STEPS
    unknown = [t for t in items if t not in STEPS]
    if unknown:
        raise InputError(
            f"--augment: unknown step(s) {', '.join(unknown)}; choose from {', '.join(STEPS)}, all or none"
        )
    return tuple(s for s in STEPS if s in items)


class RoomBank:
    """``rooms`` simulated shoebox rooms, each with impulse responses from ``positions``
    source positions to one microphone (11025 Hz, at most ``max_s`` seconds, unit energy).

    Deterministic in ``seed``; about a second to make on a CPU, so it is made when training
    starts rather than stored.
    """

    def __init__(self, rooms: int = 48, positions: int = 6, seed: int = 0, max_s: float = 1.2) -> None:
        try:
            import pyroomacoustics as pra
        except ImportError:
            raise InputError("--augment rooms needs pyroomacoustics: pip install 'avsep[train]'") from None
        rng = np.random.default_rng([seed, 0x400E])
        self.rirs: list[list[np.ndarray]] = []
        self.rt60: list[float] = []
        limit = int(max_s * SAMPLE_RATE)
        for _ in range(rooms):
            dims = np.array([rng.uniform(3, 14), rng.uniform(3, 11), rng.uniform(2.4, 6)])
            rt60 = float(rng.uniform(0.15, 1.1))
            try:
                absorption, order = pra.inverse_sabine(rt60, dims)
            except ValueError:  # a room too small for that reverberation time
                absorption, order = 0.99, 2
            room = pra.ShoeBox(
                dims,
                fs=SAMPLE_RATE,
                materials=pra.Material(float(np.clip(absorption, 0.02, 0.99))),
                # the plain image method: its randomised variant draws from a generator of the C
                # extension that no seed reaches, and a resumed run must see the same rooms
                max_order=int(min(order, 14)),
            )
            mic = dims * np.array([rng.uniform(0.2, 0.8), rng.uniform(0.1, 0.4), 0]) + np.array(
                [0, 0, rng.uniform(1.0, 1.8)]
            )
            room.add_microphone(mic)
            for _ in range(positions):
                room.add_source(
                    dims * np.array([rng.uniform(0.1, 0.9), rng.uniform(0.45, 0.95), 0])
                    + np.array([0, 0, rng.uniform(0.8, 1.6)])
                )
            room.compute_rir()
            irs = []
            for h in room.rir[0]:
                h = np.asarray(h[:limit], dtype=np.float32)
                irs.append(h / (np.sqrt(np.sum(h * h)) + 1e-12))
            self.rirs.append(irs)
            self.rt60.append(rt60)


@lru_cache(maxsize=4)
def room_bank(seed: int) -> RoomBank:
    return RoomBank(seed=seed)


def _convolve(x: np.ndarray, h: np.ndarray) -> np.ndarray:
    from scipy.signal import fftconvolve

    return fftconvolve(x, h)[: x.shape[-1]].astype(np.float32)


def mic_response(n_fft: int, rng: np.random.Generator) -> np.ndarray:
    """A random microphone/preamp magnitude response on ``rfftfreq(n_fft)`` (linear gain)."""
    f = np.maximum(np.fft.rfftfreq(n_fft, 1 / SAMPLE_RATE), 20.0)
    g = rng.uniform(-3.0, 3.0) * np.log2(f / 1000.0)  # tilt, dB per octave
    cut = rng.uniform(40, 250)  # low cut (2nd order)
    g += 10 * np.log10(1 / (1 + (cut / f) ** 4))
    for _ in range(int(rng.integers(1, 3))):  # resonances / dips
        fc = float(np.exp(rng.uniform(math.log(150), math.log(4500))))
        g += rng.uniform(-8, 8) * np.exp(-0.5 * (np.log2(f / fc) / rng.uniform(0.2, 0.8)) ** 2)
    if rng.random() < 0.15:  # a small built-in microphone: a narrow band
        lo, hi = rng.uniform(200, 500), rng.uniform(3000, 5000)
        g += 10 * np.log10(1 / (1 + (lo / f) ** 4)) + 10 * np.log10(1 / (1 + (f / hi) ** 8))
    return 10 ** (np.clip(g, -40, 12) / 20)


def noise(n: int, rng: np.random.Generator) -> np.ndarray:
    """Unit-RMS background noise: white, pink, brown (room rumble) or mains hum."""
    kind = int(rng.integers(4))
    if kind == 3:
        t = np.arange(n) / SAMPLE_RATE
        base = 50.0 if rng.random() < 0.5 else 60.0
        z = sum(0.6**k * np.sin(2 * np.pi * base * (k + 1) * t + rng.uniform(0, 2 * np.pi)) for k in range(6))
        z = z + 0.1 * rng.standard_normal(n)
    else:
        spec = np.fft.rfft(rng.standard_normal(n))
        f = np.maximum(np.fft.rfftfreq(n, 1 / SAMPLE_RATE), 20.0)
        spec /= f ** (0.5 * kind)  # 0 white, 1 pink, 2 brown
        z = np.fft.irfft(spec, n)
    z = np.asarray(z, dtype=np.float32)
    return z / (np.sqrt(np.mean(z * z)) + 1e-12)


def aac(x: np.ndarray, bitrate: int) -> np.ndarray:
    """``x`` (mono, 11025 Hz) through an AAC encoder and decoder at ``bitrate`` bit/s (mono
    stream at 22050 Hz), aligned and trimmed to ``len(x)``."""
    import av
    from scipy.signal import resample_poly

    up = resample_poly(x, 2, 1).astype(np.float32)
    peak = float(np.max(np.abs(up))) or 1.0
    scale = min(1.0, 0.99 / peak)  # the encoder clips outside [-1, 1]
    buf = io.BytesIO()
    with av.open(buf, "w", format="adts") as out:
        stream = out.add_stream("aac", rate=_AAC_RATE, layout="mono")
        stream.bit_rate = int(bitrate)
        frame = av.AudioFrame.from_ndarray((up * scale)[None, :], format="flt", layout="mono")
        frame.sample_rate = _AAC_RATE
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    buf.seek(0)
    with av.open(buf, "r") as inp:
        decoded = np.concatenate([f.to_ndarray().reshape(-1) for f in inp.decode(audio=0)])
    decoded = decoded[_AAC_DELAY : _AAC_DELAY + up.size] / scale
    y = resample_poly(decoded, 1, 2).astype(np.float32)
    out_ = np.zeros_like(x, dtype=np.float32)
    out_[: min(y.size, x.size)] = y[: x.size]
    return out_


#: Polyphase resampling's denominator: a retuned item is resampled by ``up / RETUNE_STEPS``, so
#: it plays ``RETUNE_STEPS / up`` times as fast (0.1 % steps, far finer than a semitone's 6 %).
RETUNE_STEPS = 1000
#: Samples read past what a retuned segment needs: more than the resampling filter's reach
#: (about 10 samples at these ratios), so the segment never ends on the filter meeting zeros.
RETUNE_MARGIN = 64


def retune_up(semitones: float, rng: np.random.Generator) -> int:
    """The resampling numerator of an item played faster or slower by a factor uniform in
    +-``semitones`` semitones; :data:`RETUNE_STEPS` (unchanged, nothing drawn) when 0."""
    if semitones <= 0:
        return RETUNE_STEPS
    return round(RETUNE_STEPS / 2.0 ** (rng.uniform(-semitones, semitones) / 12.0))


def retune_read(length: int, up: int) -> int:
    """Samples of each source to read for a ``length``-sample item resampled by ``up``."""
    return length if up == RETUNE_STEPS else math.ceil(length * RETUNE_STEPS / up) + RETUNE_MARGIN


def retuned(audio: np.ndarray, up: int, length: int) -> np.ndarray:
    """Sources ``[N, retune_read(length, up)]`` resampled together to ``[N, length]``: played
    ``RETUNE_STEPS / up`` times as fast, so as many times as high, as a tape played faster or
    slower (an ensemble's parts stay together in time and in tune). Real recordings are few
    (issue 28): a violin a semitone higher or a saxophone slower is a plausible other player,
    which notes rendered from a font are not."""
    from scipy.signal import resample_poly

    return np.ascontiguousarray(resample_poly(audio, up, RETUNE_STEPS, axis=-1)[:, :length], dtype=np.float32)


@dataclass(frozen=True)
class Soundtrack:
    """The enabled steps of the chain; call with the sources of one mixture."""

    steps: tuple[str, ...]
    room_prob: float = 0.85
    noise_prob: float = 0.6
    codec_prob: float = 0.5
    mic_prob: float = 0.85
    seed: int = 0

    def __call__(self, sources: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, dict]:
        """``sources`` ``[N, T]`` (levels already set) -> (sources as heard, observed mixture,
        recipe)."""
        recipe: dict = {}
        out = sources.astype(np.float32, copy=True)
        n, t = out.shape
        if "rooms" in self.steps and rng.random() < self.room_prob:
            bank = room_bank(self.seed)
            r = int(rng.integers(len(bank.rirs)))
            pos = rng.choice(len(bank.rirs[r]), size=n, replace=len(bank.rirs[r]) < n)
            dry = rng.uniform(0.0, 1.0)  # some direct sound on top: close microphones
            for k in range(n):
                rms = np.sqrt(np.mean(out[k] ** 2)) + 1e-12
                wet = _convolve(out[k], bank.rirs[r][int(pos[k])])
                mixed = dry * out[k] + wet * (rms / (np.sqrt(np.mean(wet**2)) + 1e-12))
                out[k] = mixed * (rms / (np.sqrt(np.mean(mixed**2)) + 1e-12))
            recipe["room"] = {"index": r, "rt60_s": round(bank.rt60[r], 3), "dry": round(dry, 3)}
        if "mic" in self.steps and rng.random() < self.mic_prob:
            n_fft = 1 << int(math.ceil(math.log2(t)))
            h = mic_response(n_fft, rng)
            spec = np.fft.rfft(out, n_fft, axis=-1) * h
            out = np.fft.irfft(spec, n_fft, axis=-1)[:, :t].astype(np.float32)
            recipe["mic"] = True
        mixture = out.sum(axis=0)
        if "noise" in self.steps and rng.random() < self.noise_prob:
            snr = rng.uniform(10, 40)
            level = np.sqrt(np.mean(mixture**2)) + 1e-12
            mixture = mixture + noise(t, rng) * level * 10 ** (-snr / 20)
            recipe["noise_snr_db"] = round(float(snr), 1)
        if "codec" in self.steps and rng.random() < self.codec_prob:
            bitrate = int(rng.choice([32000, 48000, 64000, 96000]))  # mono = stereo 64-192 kbit/s
            mixture = aac(mixture, bitrate)
            recipe["aac_bps"] = bitrate
        return out, mixture.astype(np.float32), recipe
