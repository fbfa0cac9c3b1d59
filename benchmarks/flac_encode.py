"""FLAC encoding speed: PyAV (FFmpeg's encoder, what avsep uses) against soundfile (libsndfile).

    python -m benchmarks.flac_encode               # 60 s of 48 kHz stereo, 16 and 24 bit
    python -m benchmarks.flac_encode --seconds 600

Encodes the same noise-plus-tones signal (separated stems are neither silence nor white noise)
in 64 Ki-sample blocks, as the separation hands them out, to an in-memory file; prints seconds,
the real-time factor and the size per bit depth. soundfile is only in the ``train`` extra, so
the separation install uses PyAV unless soundfile were much faster.
"""

from __future__ import annotations

import argparse
import io
import time

import numpy as np

RATE = 48000
BLOCK = 65536


def signal(seconds: float) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    rng = np.random.default_rng(0)
    tones = 0.2 * np.sin(2 * np.pi * 440 * t) + 0.1 * np.sin(2 * np.pi * 3520 * t)
    noise = 0.01 * rng.standard_normal((t.size, 2))
    return (np.stack([tones, np.roll(tones, 100)], 1) + noise).astype(np.float32)


def with_pyav(x: np.ndarray, bits: int) -> int:
    from avsep.io.flac import FlacEncoder

    sink = io.BytesIO()
    encoder = FlacEncoder(sink, RATE, x.shape[1], bits)
    for start in range(0, len(x), BLOCK):
        encoder.write(x[start : start + BLOCK])
    encoder.finish()
    return sink.getbuffer().nbytes


def with_soundfile(x: np.ndarray, bits: int) -> int:
    import soundfile as sf

    sink = io.BytesIO()
    with sf.SoundFile(sink, "w", RATE, x.shape[1], f"PCM_{bits}", format="FLAC") as out:
        for start in range(0, len(x), BLOCK):
            out.write(x[start : start + BLOCK])
    return sink.getbuffer().nbytes


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--repeat", type=int, default=3, help="runs per setting; the fastest is reported")
    args = ap.parse_args()
    x = signal(args.seconds)
    print(f"{args.seconds:g} s of {RATE} Hz stereo, blocks of {BLOCK}; fastest of {args.repeat}")
    print(f"{'encoder':<10}{'bits':>5}{'seconds':>10}{'RTF':>9}{'MB':>8}")
    for bits in (16, 24):
        for name, encode in (("PyAV", with_pyav), ("soundfile", with_soundfile)):
            times, size = [], 0
            for _ in range(args.repeat):
                started = time.perf_counter()
                size = encode(x, bits)
                times.append(time.perf_counter() - started)
            best = min(times)
            print(f"{name:<10}{bits:>5}{best:>10.3f}{best / args.seconds:>9.4f}{size / 1e6:>8.2f}")


if __name__ == "__main__":
    main()
