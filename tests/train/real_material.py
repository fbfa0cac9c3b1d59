"""Tiny trees of "real" material in the layouts ``avsep data build --real-audio/--photos`` reads.

Notes are steady harmonic tones named like the Philharmonia samples
(``violin_A4_05_forte_arco-normal.wav``) or the tonejs packages (``violin-C5.wav``), so a
test can check which pitch the sampler played; recordings are longer tone sequences; photos are
instrument-ish shapes on a white ground (a product shot) or on a busy one.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

from avsep.train.eval.stems import SEGMENT_SECONDS, SPLITS

SR = 22050  # not the model rate: the build must resample
NOTE_NAMES = ["C", "Cs", "D", "Ds", "E", "F", "Fs", "G", "Gs", "A", "As", "B"]


def midi_name(p: int) -> str:
    return f"{NOTE_NAMES[p % 12]}{p // 12 - 1}"


def hz(p: float) -> float:
    return 440.0 * 2 ** ((p - 69) / 12)


def tone(freq: float, seconds: float, amp: float = 0.3) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    env = np.minimum(1.0, t / 0.02) * np.exp(-0.3 * t)
    x = sum(amp / k * np.sin(2 * np.pi * freq * k * t) for k in (1, 2, 3))
    return (x * env).astype(np.float32)


def write_notes(folder: Path, instrument: str, pitches: range, style: str = "philharmonia") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for p in pitches:
        for dyn, amp in (("piano", 0.1), ("forte", 0.4)):
            name = (
                f"{instrument}_{midi_name(p)}_1_{dyn}_arco-normal.wav"
                if style == "philharmonia"
                else f"{instrument}-{midi_name(p)}.wav"
            )
            sf.write(folder / name, tone(hz(p), 1.2, amp), SR)
            if style != "philharmonia":
                break
        if style == "philharmonia":  # an effect articulation the sampler must not use
            sf.write(folder / f"{instrument}_{midi_name(p)}_1_forte_major-trill.wav", tone(hz(p) * 1.5, 1.2), SR)


def write_recordings(folder: Path, count: int, seconds: float, base_pitch: int = 48) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        x = np.concatenate([tone(hz(base_pitch + (i + k) % 12), 0.5) for k in range(int(seconds / 0.5))])
        sf.write(folder / f"performance_{i:02d}.wav", x, SR)


def write_photos(folder: Path, count: int, white: bool = True, seed: int = 0) -> None:
    from PIL import Image, ImageDraw

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for i in range(count):
        bg = (255, 255, 255) if white else tuple(int(v) for v in rng.integers(0, 200, 3))
        img = Image.new("RGB", (160, 200), bg)
        d = ImageDraw.Draw(img)
        d.ellipse([40, 60, 120, 180], fill=(150, 80, 20))
        d.rectangle([75, 10, 85, 70], fill=(30, 20, 10))
        img.save(folder / f"photo_{i:03d}.jpg", quality=92)


def make_tree(root: Path) -> tuple[Path, Path]:
    """``root/audio`` (violin notes + recordings, flute tonejs notes, cello recordings) and
    ``root/photos`` (violin and flute photos); returns the two folders."""
    audio, photos = root / "audio", root / "photos"
    write_notes(audio / "orchestra" / "violin", "violin", range(55, 80))
    write_recordings(audio / "orchestra" / "violin", 6, 4.0, base_pitch=60)
    write_notes(audio / "npm" / "flute", "flute", range(60, 86), style="tonejs")
    write_recordings(audio / "orchestra" / "cello", 5, 5.0, base_pitch=40)
    (audio / "npm" / "LICENCE").write_text("CC-BY 3.0 test notes\n")
    write_recordings(audio / "orchestra" / "theremin", 3, 3.0)  # not an avsep class: ignored
    write_photos(photos / "shop" / "violin", 10)
    write_photos(photos / "shop" / "flute", 10, white=False, seed=1)
    (photos / "shop" / "LICENCE").write_text("test photos, public domain\n")
    return audio, photos


#: parts written for each piece of the fixture: two known classes and one without a class yet
PARTS = {"bach10": ("S1_violin", "S2_clarinet", "S4_bassoon"), "urmp": ("1_vn", "2_fl", "3_ob")}


def write_stems_tree(root: Path, seconds: float = 13.0, resting: str | None = None) -> Path:
    """Every piece of both splits, each part a tone of its own pitch; ``resting`` is silent
    from the second segment on (it does not play there)."""
    for k, piece in enumerate(p for split in SPLITS.values() for p in split):
        source, name = piece.split("/")
        for j, part in enumerate(PARTS[source]):
            x = tone(hz(57 + 5 * j + k % 3), seconds, amp=0.3)
            if part == resting:
                x[int(SEGMENT_SECONDS * SR) :] = 0.0
            path = root / source / f"{name}_{part}.flac"
            path.parent.mkdir(parents=True, exist_ok=True)
            sf.write(path, x, SR)
    return root
