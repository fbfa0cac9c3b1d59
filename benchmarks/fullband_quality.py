"""Separation quality per band: the band-limited path against the full-band one (issue 19).

    python -m benchmarks.fullband_quality                       # test split, 3 mixtures of 8 s
    python -m benchmarks.fullband_quality --split val --candidates   # choose on val, with candidates
    python -m benchmarks.fullband_quality --pairs 6 --mask soft --json fullband.json

Held-out real recordings at their own rate (22,050 Hz): each class's recordings of the held-out
split (``--split``: ``test``, or ``val`` to choose among extensions without looking at the test
split; `file_split`, as `avsep data build` deals them: Philharmonia phrases; the five Bach
movements all fall in train or val of the combined library), else its Philharmonia notes of the
split's pitches (`pitch_split`, ordinary articulation), laid end to end. Two sources at equal
loudness make a mixture (the first ``--pairs`` of :data:`PAIRS`); each is shown to the model by a
held-out photo of its instrument (``photos/kaggle-30/<class>/test-*.jpg``, ``valid-*`` for val).
Every mixture is separated by

* ``band-limited``: the model's mono 11,025 Hz output resampled up (the path before issue 19);
* ``full-band EXT``: the masks applied to the mixture at 22,050 Hz, with each extension above
  5.5 kHz of :mod:`avsep.separation.fullband` (``--extensions``), and with ``--candidates`` the unshipped
  ones of ``fullband_candidates.py``.

The mask network runs once per mixture (:class:`Memo`): every path gets the same masks, so below
5.5 kHz the paths differ only by where the mask is applied, and above it only by the extension.

Printed: SDR (10 log10 of reference energy over error energy, no distortion filter; the reference
and the estimate are band-passed alike with a brick-wall FFT filter) per band: below 5.5 kHz,
5.5-11 kHz and full, for each source, averaged over all sources. An output with nothing in a band
scores 0 dB there. The mixture itself as the estimate is shown as the floor.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

from avsep.separation.fullband import EXTENSIONS
from benchmarks import json_out

ROOT = Path(__file__).resolve().parents[1]

SHARED = ROOT.parent / "shared" / "datasets"
AUDIO = SHARED / "real-audio"
PHOTOS = SHARED / "photos" / "kaggle-30"
RATE = 22050
BANDS = {"< 5.5 kHz": (0.0, 5512.5), "5.5-11 kHz": (5512.5, 11025.0), "full": (0.0, 11025.0)}
#: The mixtures: two classes each (``--pairs N`` takes the first N).
PAIRS = [
    ("violin", "flute"),
    ("clarinet", "trumpet"),
    ("violin", "trombone"),
    ("flute", "saxophone"),
    ("trumpet", "violin"),
    ("saxophone", "trombone"),
]
#: The photos of each split (file-name prefixes of kaggle-30).
PHOTO_SPLITS = {"val": "valid", "test": "test"}


def paths(extensions: list[str]) -> dict[str, dict]:
    """The band-limited path, then the full-band path with each extension."""
    out: dict[str, dict] = {"band-limited": {"full_band": False}}
    out.update({f"full-band {e}": {"full_band": True, "extension": e} for e in extensions})
    return out


class Memo(torch.nn.Module):
    """The mask network with its answers kept, so that every path separating one mixture gets
    the masks of one pass (the paths differ only in where the masks are applied)."""

    def __init__(self, net: torch.nn.Module) -> None:
        super().__init__()
        self.net = net
        self.seen: dict[bytes, torch.Tensor] = {}

    def forward(self, x: torch.Tensor, visual: torch.Tensor) -> torch.Tensor:
        key = hashlib.sha1(x.numpy().tobytes() + visual.numpy().tobytes()).digest()
        if key not in self.seen:
            self.seen[key] = self.net(x, visual)
        return self.seen[key]


def held_out_part(label: str, seconds: float, split: str) -> np.ndarray:
    """``seconds`` of held-out ``label`` audio at :data:`RATE` (mono float32): the class's
    recordings of ``split`` (``file_split``, as ``avsep data build`` deals them), else its
    Philharmonia notes of the test pitches (``pitch_split``); the largest files first, at most
    3 s of each, laid end to end with 10 ms fades."""
    from avsep.io.audio import load_audio
    from avsep.models.guide import OTHER
    from avsep.train.dataset.library import OTHER_FOLDERS, file_split, pitch_split, scan

    # an instrument outside the 11 (trombone) is scanned as OTHER, then kept to its own folder
    cls = OTHER if label in OTHER_FOLDERS else label
    library = scan([AUDIO], [], [cls])

    def own(items: list) -> list:
        return [f for f in items if cls == label or f"/{label}/" in f"/{f.rel}"]

    files = file_split(own(library.recordings(cls)))[split]
    if not files:
        notes = own(library.notes(cls))
        pitches = pitch_split(f.pitch for f in notes)
        files = [f for f in notes if f.articulation == "normal" and pitches[f.pitch] == split]
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


def photo(label: str, split: str) -> np.ndarray:
    from PIL import Image

    files = sorted((PHOTOS / label).glob(f"{PHOTO_SPLITS[split]}-*.jpg"))
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
    ap.add_argument("--mask", default="ratio", help="how the boxes share each bin (default: ratio, avsep's)")
    ap.add_argument("--split", choices=list(PHOTO_SPLITS), default="test", help="held-out split to mix from")
    ap.add_argument("--pairs", type=int, default=3, help=f"mixtures: the first N of {len(PAIRS)} pairs")
    ap.add_argument("--extensions", default=",".join(EXTENSIONS), help="full-band extensions to measure")
    ap.add_argument("--candidates", action="store_true", help="also the unshipped extensions of fullband_candidates.py")
    ap.add_argument("--json", type=Path, help="write the figures here")
    args = ap.parse_args()
    if not AUDIO.is_dir():
        raise SystemExit(f"{AUDIO} not found: this benchmark needs ../shared/datasets")

    from avsep import Separator

    torch.manual_seed(0)
    separator = Separator(args.model, device="cpu", mask=args.mask)
    separator.model = memo = Memo(separator.model)
    extensions = [e for e in args.extensions.split(",") if e]
    if args.candidates:
        from benchmarks.fullband_candidates import register

        extensions += register()
    measured = paths(extensions)
    pairs = PAIRS[: args.pairs]
    scores: dict[str, list[dict[str, float]]] = {name: [] for name in ["mixture", *measured]}
    started = time.perf_counter()
    for pair in pairs:
        memo.seen.clear()
        refs = [held_out_part(label, args.seconds, args.split) for label in pair]
        refs = [r * (0.1 / np.sqrt(np.mean(r**2))) for r in refs]  # equal loudness, -20 dBFS RMS
        mixture = refs[0] + refs[1]
        frames = [photo(label, args.split)[None] for label in pair]
        for name, options in measured.items():
            for key, value in options.items():
                setattr(separator, key, value)
            estimates = separator.separate_arrays(mixture.astype(np.float32), RATE, frames)
            for ref, est in zip(refs, estimates):
                scores[name].append({b: sdr(band(ref, *r), band(est, *r)) for b, r in BANDS.items()})
        for ref in refs:
            scores["mixture"].append({b: sdr(band(ref, *r), band(mixture, *r)) for b, r in BANDS.items()})
        print(f"{' + '.join(pair)}: separated ({time.perf_counter() - started:.0f} s so far)", file=sys.stderr)

    print(
        f"SDR in dB per band, {len(pairs)} mixtures x 2 sources of {args.seconds:g} s at {RATE} Hz, "
        f"{args.split} split, --mask {args.mask}"
    )
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
        json_out(args.json).write_text(
            json.dumps(
                {
                    "pairs": pairs,
                    "split": args.split,
                    "mask": args.mask,
                    "rate": RATE,
                    "seconds": args.seconds,
                    **table,
                },
                indent=2,
            )
        )


if __name__ == "__main__":
    main()
