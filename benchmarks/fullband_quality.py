"""Separation quality per band: the band-limited path against the full-band one (issue 19).

    python3 benchmarks/fullband_quality.py                 # 3 mixtures of 8 s, bundled model
    python3 benchmarks/fullband_quality.py --seconds 6 --mask ratio --json fullband.json

Held-out real recordings at their own rate (22,050 Hz): each class's recordings of the test
split (`file_split`, as `avsep data build` deals them: Philharmonia phrases; the five Bach
movements all fall in train or val of the combined library), else its Philharmonia notes of the
test pitches (`pitch_split`, ordinary articulation), laid end to end. Two
sources at equal loudness make a mixture; each is shown to the model by a held-out photo of its
instrument (``photos/kaggle-30/<class>/test-*.jpg``). Every mixture is separated by

* ``band-limited``: the model's mono 11,025 Hz output resampled up (the path before issue 19);
* ``full-band hold`` and ``full-band envelope``: the masks applied to the mixture at 22,050 Hz,
  with the two extensions above 5.5 kHz of :mod:`avsep.fullband`.

Printed: SDR (10 log10 of reference energy over error energy, no distortion filter; the reference
and the estimate are band-passed alike with a brick-wall FFT filter) per band: below 5.5 kHz,
5.5-11 kHz and full, for each source, averaged over all sources. An output with nothing in a band
scores 0 dB there. The mixture itself as the estimate is shown as the floor. The same masks serve
all three paths, so below 5.5 kHz they differ only by where the mask is applied.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SHARED = ROOT.parent / "shared" / "datasets"
AUDIO = SHARED / "real-audio"
PHOTOS = SHARED / "photos" / "kaggle-30"
RATE = 22050
BANDS = {"< 5.5 kHz": (0.0, 5512.5), "5.5-11 kHz": (5512.5, 11025.0), "full": (0.0, 11025.0)}
#: The mixtures: two classes each.
PAIRS = [("violin", "flute"), ("clarinet", "trumpet"), ("violin", "trombone")]
PATHS = {
    "band-limited": {"full_band": False},
    "full-band hold": {"full_band": True, "extension": "hold"},
    "full-band envelope": {"full_band": True, "extension": "envelope"},
}


def held_out_part(label: str, seconds: float) -> np.ndarray:
    """``seconds`` of held-out ``label`` audio at :data:`RATE` (mono float32): the class's
    recordings of the test split (``file_split``, as ``avsep data build`` deals them), else its
    Philharmonia notes of the test pitches (``pitch_split``); the largest files first, at most
    3 s of each, laid end to end with 10 ms fades."""
    from avsep.io.audio import load_audio
    from avsep.train.dataset.library import file_split, pitch_split, scan

    library = scan([AUDIO], [], [label])
    files = file_split(library.recordings(label))["test"]
    if not files:
        split = pitch_split(f.pitch for f in library.notes(label))
        files = [f for f in library.notes(label) if f.articulation == "normal" and split[f.pitch] == "test"]
    n = int(seconds * RATE)
    pieces, total = [], 0
    fade = np.linspace(0, 1, int(0.01 * RATE), dtype=np.float32)
    for item in sorted(files, key=lambda f: (-f.path.stat().st_size, f.rel)):
        audio, _ = load_audio(item.path, RATE)
        audio = audio[: 3 * RATE].copy()
        audio[: fade.size] *= fade
        audio[-fade.size :] *= fade[::-1]
        pieces.append(audio)
        total += audio.size
        if total >= n:
            break
    return np.concatenate(pieces)[:n]


def photo(label: str) -> np.ndarray:
    from PIL import Image

    files = sorted((PHOTOS / label).glob("test-*.jpg"))
    if not files:
        raise SystemExit(f"no held-out photo of {label} under {PHOTOS}")
    return np.asarray(Image.open(files[0]).convert("RGB"))


def band(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    spectrum = np.fft.rfft(x)
    freqs = np.fft.rfftfreq(x.size, 1 / RATE)
    spectrum[(freqs < lo) | (freqs > hi)] = 0
    return np.fft.irfft(spectrum, x.size)


def sdr(reference: np.ndarray, estimate: np.ndarray) -> float:
    error = np.sum((reference - estimate) ** 2)
    return float(10 * np.log10(np.sum(reference**2) / max(error, 1e-20)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=None, help="checkpoint or bundled name (default: the bundled model)")
    ap.add_argument("--seconds", type=float, default=8.0, help="length of each mixture")
    ap.add_argument("--mask", default="soft", help="how the boxes share each bin (results.md: soft)")
    ap.add_argument("--json", type=Path, help="write the figures here")
    args = ap.parse_args()
    if not AUDIO.is_dir():
        raise SystemExit(f"{AUDIO} not found: this benchmark needs ../shared/datasets")

    import torch

    from avsep import Separator

    torch.manual_seed(0)
    separator = Separator(args.model, device="cpu", mask=args.mask)
    scores: dict[str, list[dict[str, float]]] = {name: [] for name in ["mixture", *PATHS]}
    started = time.perf_counter()
    for pair in PAIRS:
        refs = [held_out_part(label, args.seconds) for label in pair]
        refs = [r * (0.1 / np.sqrt(np.mean(r**2))) for r in refs]  # equal loudness, -20 dBFS RMS
        mixture = refs[0] + refs[1]
        frames = [photo(label)[None] for label in pair]
        for name, options in PATHS.items():
            for key, value in options.items():
                setattr(separator, key, value)
            estimates = separator.separate_arrays(mixture.astype(np.float32), RATE, frames)
            for ref, est in zip(refs, estimates):
                scores[name].append({b: sdr(band(ref, *r), band(est, *r)) for b, r in BANDS.items()})
        for ref in refs:
            scores["mixture"].append({b: sdr(band(ref, *r), band(mixture, *r)) for b, r in BANDS.items()})
        print(f"{' + '.join(pair)}: separated ({time.perf_counter() - started:.0f} s so far)", file=sys.stderr)

    print(f"SDR in dB per band, {len(PAIRS)} mixtures x 2 sources of {args.seconds:g} s at {RATE} Hz")
    print(f"{'path':<20}" + "".join(f"{b:>14}" for b in BANDS))
    table = {}
    for name, rows in scores.items():
        means = {b: float(np.mean([r[b] for r in rows])) for b in BANDS}
        table[name] = {"mean": means, "per_source": rows}
        print(f"{name:<20}" + "".join(f"{means[b]:>14.2f}" for b in BANDS))
    for name, rows in scores.items():
        detail = "  ".join("/".join(f"{r[b]:.1f}" for b in BANDS) for r in rows)
        print(f"  {name}: {detail}")
    if args.json:
        args.json.write_text(json.dumps({"pairs": PAIRS, "rate": RATE, "seconds": args.seconds, **table}, indent=2))


if __name__ == "__main__":
    main()
