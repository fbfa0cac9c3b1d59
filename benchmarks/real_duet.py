"""Separate the real FCSN duet (clarinet left, guitar right; no ground truth) and draw it.

    python -m benchmarks.real_duet --out /tmp/real-duet --figure docs/real_duet.png

Writes the two separated WAVs to ``--out`` (not into the repository: they are derived from a
clip that is for evaluation only) and a spectrogram picture of the input and both outputs to
``--figure``. It also prints a crude check that needs no ground truth: the share of each
output's energy above 1 kHz (a clarinet is rich there; a plucked guitar decays into its low
partials), and the onset strength of each (a guitar is percussive, a clarinet is not).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import soundfile as sf
from PIL import Image

REAL = Path(__file__).resolve().parents[2] / "shared" / "realclips"
SAMPLE = REAL / "fcsn" / "Real-mix_duet-separation" / "sample-1"


def spectrogram_db(x: np.ndarray) -> np.ndarray:
    import torch

    from avsep.signal import dsp

    mag = dsp.stft(torch.from_numpy(x.astype(np.float32))).magnitude[0].numpy()
    return 20 * np.log10(mag + 1e-6)


def onset_strength(x: np.ndarray) -> float:
    """Mean positive spectral flux, normalised by the mean magnitude."""
    s = 10 ** (spectrogram_db(x) / 20)
    flux = np.maximum(np.diff(s, axis=1), 0).sum(0)
    return float(flux.mean() / max(s.sum(0).mean(), 1e-9))


def high_share(x: np.ndarray, sr: int) -> float:
    spec = np.abs(np.fft.rfft(x)) ** 2
    freqs = np.fft.rfftfreq(x.size, 1 / sr)
    return float(spec[freqs > 1000].sum() / max(spec.sum(), 1e-12))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=None)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--figure", type=Path, default=Path("docs/real_duet.png"))
    args = ap.parse_args()
    if not SAMPLE.is_dir():
        raise SystemExit(f"{SAMPLE} not found: this script needs ../shared/realclips")

    from avsep import Separator

    audio, sr = sf.read(SAMPLE / "audio_duet.wav", dtype="float32")
    frame = np.asarray(Image.open(SAMPLE / "frame.png").convert("RGB"))
    half = frame.shape[1] // 2
    boxes = {"clarinet (left)": frame[:, :half], "guitar (right)": frame[:, half:]}
    out = Separator(args.model, device="cpu").separate_arrays(audio, sr, [b[None] for b in boxes.values()])
    args.out.mkdir(parents=True, exist_ok=True)
    for name, y in zip(("clarinet_left", "guitar_right"), out):
        sf.write(args.out / f"{name}.wav", y, sr)

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [("input duet", audio)] + list(zip(boxes, out))
    fig, axes = plt.subplots(len(panels), 1, figsize=(9, 7), sharex=True)
    for ax, (title, x) in zip(axes, panels):
        ax.imshow(
            spectrogram_db(x),
            origin="lower",
            aspect="auto",
            vmin=-60,
            vmax=30,
            extent=(0, x.size / sr, 0, sr / 2 / 1000),
            cmap="magma",
        )
        ax.set_ylabel("kHz")
        ax.set_title(title, fontsize=9)
    axes[-1].set_xlabel("seconds")
    fig.tight_layout()
    args.figure.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.figure, dpi=80)
    print(f"wrote {args.figure} and {args.out}/*.wav")
    print(f"{'signal':<18} {'energy > 1 kHz':>15} {'onset strength':>15}")
    for title, x in panels:
        print(f"{title:<18} {high_share(x, sr):>15.3f} {onset_strength(x):>15.3f}")


if __name__ == "__main__":
    main()
