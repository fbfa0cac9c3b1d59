"""The music-solo duets of ``avsep evaluate-real``: pairs of solo recordings (of different
instruments, or of one instrument twice) mixed at equal loudness from a seeded draw, and two
times of one music-solo video side by side (one player twice, with the video's motion: what
``--same-instrument motion`` reads)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from avsep.boxes.shown import boxes_held_still
from avsep.io.audio import load_audio
from avsep.io.keyframes import Still
from avsep.io.video import FrameReader
from avsep.models.guide import label_guide
from avsep.signal.chunking import FRAME_OFFSETS, GUIDE_SNAP_S
from avsep.signal.dsp import SAMPLE_RATE
from avsep.train.eval.scores import aggregate_items, per_instrument, read_picture, score_clip
from avsep.train.index import frame_numbers


def music_solo_duets(
    sep,
    folder: Path,
    num_pairs: int,
    seconds: float,
    seed: int,
    skipped: list[str],
    bar,
    oracle: bool,
    same: bool = False,
) -> dict[str, Any]:
    """Duets of two music-solo recordings: of different instruments, or (``same``) two players
    of one instrument, which a class guide alone cannot tell apart."""
    recordings = []
    for inst in sorted(p for p in folder.iterdir() if p.is_dir()):
        for rec in sorted(p for p in inst.iterdir() if p.is_dir()):
            frames = sorted((rec / "frames").glob("*.jpg"))
            if (rec / "audio.mp4").is_file() and frames:
                recordings.append((inst.name, rec, len(frames)))
            else:
                skipped.append(f"music-solo/{inst.name}/{rec.name}: no audio.mp4 or frames")
    pairs = [
        (a, b)
        for a in range(len(recordings))
        for b in range(a + 1, len(recordings))
        if (recordings[a][0] == recordings[b][0]) == same
    ]
    if not pairs:
        skipped.append(f"music-solo: no two recordings of {'one' if same else 'different'} instrument(s); no duets")
        return aggregate_items([])
    rng = np.random.default_rng([seed, 0xD0E7, 1] if same else [seed, 0xD0E7])
    order = [pairs[i] for i in rng.permutation(len(pairs))]
    chosen = [order[i % len(order)] for i in range(num_pairs)]  # every pair once before repeats
    audio_cache: dict[int, np.ndarray] = {}

    def audio(i: int) -> np.ndarray:
        if i not in audio_cache:
            audio_cache[i] = np.asarray(
                load_audio(recordings[i][1] / "audio.mp4", sample_rate=SAMPLE_RATE)[0], np.float32
            )
        return audio_cache[i]

    seg = int(round(seconds * SAMPLE_RATE))
    items = []
    task = bar.add_task("music-solo duets" + (" (same instrument)" if same else ""), total=num_pairs)
    for pair in chosen:
        bar.advance(task)
        a, b = audio(pair[0]), audio(pair[1])
        usable = min(a.shape[0], b.shape[0]) - seg
        if usable <= 0:
            skipped.append(
                f"duet {recordings[pair[0]][1].name}+{recordings[pair[1]][1].name}: shorter than {seconds} s"
            )
            continue
        start = _playing_start(rng, a, b, seg, usable)
        refs = _equal_rms(a[start : start + seg], b[start : start + seg])
        mix = refs.sum(axis=0)
        centre = (start + seg / 2) / SAMPLE_RATE
        pictures = []
        for i in pair:
            _, rec, count = recordings[i]
            numbers = frame_numbers(centre, 1.0, count, FRAME_OFFSETS)
            pictures.append(np.stack([read_picture(rec / "frames" / f"{n:06d}.jpg") for n in numbers]))
        if oracle:  # each recording's instrument folder
            est = sep.separate_arrays(
                mix, SAMPLE_RATE, guides=label_guide([recordings[i][0] for i in pair], sep.guide_kind)
            )
        else:
            motion = _still_motion(sep, [recordings[i] for i in pair], start / SAMPLE_RATE, seconds)
            est = sep.separate_arrays(mix, SAMPLE_RATE, pictures, **motion)
        names = [f"{recordings[i][0]}/{recordings[i][1].name}" for i in pair]
        scored = score_clip(refs, est, mix, f"duet {'+'.join(names)}", skipped)
        if scored is not None:
            items.append({"pair": names, "start_s": round(start / SAMPLE_RATE, 3), **scored})
    return {**aggregate_items(items), "per_instrument": per_instrument(items)}


def _playing_start(rng: np.random.Generator, a: np.ndarray, b: np.ndarray, seg: int, usable: int) -> int:
    """A start where both ``a`` and ``b`` play for ``seg`` samples (not a pause or an intro):
    the first of 50 random starts in ``[0, usable]`` where both keep 0.3 of their overall RMS."""
    rms_a, rms_b = float(np.sqrt(np.mean(a**2))), float(np.sqrt(np.mean(b**2)))
    for _ in range(50):
        start = int(rng.integers(0, usable + 1))
        sa, sb = a[start : start + seg], b[start : start + seg]
        if np.sqrt(np.mean(sa**2)) > 0.3 * rms_a and np.sqrt(np.mean(sb**2)) > 0.3 * rms_b:
            break
    return start


def _equal_rms(sa: np.ndarray, sb: np.ndarray) -> np.ndarray:
    """The two segments ``[2, n]`` float32, each scaled to an RMS of 0.05."""
    refs = np.stack([sa / (np.sqrt(np.mean(sa**2)) + 1e-9), sb / (np.sqrt(np.mean(sb**2)) + 1e-9)]) * 0.05
    return refs.astype(np.float32)


#: music-solo frames are 1 a second, shrunk by this factor for motion (16 x 16 cells are read)
_MOTION_SHRINK = 4


def _still_motion(sep, recordings: list, start_s: float, seconds: float) -> dict[str, Any]:
    """``separate_arrays``' motion arguments for ``--same-instrument motion``: the music-solo
    frames (1 a second, shown at their centres) from just before the segment to just after."""
    if sep.same_instrument != "motion":
        return {}
    count = min(c for _, _, c in recordings)
    numbers = range(max(int(math.floor(start_s)), 1), min(int(math.ceil(start_s + seconds)) + 1, count) + 1)
    frames = [
        np.stack([read_picture(rec / "frames" / f"{n:06d}.jpg")[::_MOTION_SHRINK, ::_MOTION_SHRINK] for n in numbers])
        for _, rec, _ in recordings
    ]
    return {"motion_frames": frames, "motion_times": [n - 0.5 - start_s for n in numbers]}


def _guide_frames(reader: FrameReader, still: Still, centre: float) -> np.ndarray:
    """The 3 frames that guide a window centred at ``centre``, read as the separation reads
    them with the whole frame as the box (a keyframe within :data:`GUIDE_SNAP_S` may answer,
    and keyframes around a picture that ``still`` judges still)."""
    frames = reader.frames_and_times_at([centre + off for off in FRAME_OFFSETS], GUIDE_SNAP_S, still)
    return np.stack([frame for frame, _ in frames])


def music_solo_video_duets(
    sep, folder: Path, num_pairs: int, seconds: float, seed: int, skipped: list[str], bar
) -> dict[str, Any]:
    """One instrument twice with real motion: two segments (non-overlapping) of one music-solo
    video (``video.mp4``) side by side, each box the whole frame, guided by the video's frames
    at the segment centre + :data:`FRAME_OFFSETS` and moving at the video's frame rate."""
    videos = sorted(folder.glob("*/*/video.mp4"))
    if not videos:
        skipped.append("music-solo: no video.mp4; no video duets")
        return aggregate_items([])
    rng = np.random.default_rng([seed, 0xD0E7, 2])
    seg = int(round(seconds * SAMPLE_RATE))
    items = []
    task = bar.add_task("music-solo video duets (same player, two times)", total=num_pairs)
    for k in range(num_pairs):
        bar.advance(task)
        path = videos[k % len(videos)]
        audio = np.asarray(load_audio(path, sample_rate=SAMPLE_RATE)[0], np.float32)
        half = (audio.shape[0] - seg) // 2
        if half <= seg:
            skipped.append(f"{path}: shorter than 4 x {seconds} s; no video duets")
            break
        first = _playing_start(rng, audio[:half], audio[:half], seg, half - seg)  # in the first half
        second = half + _playing_start(rng, audio[half:], audio[half:], seg, half - seg)  # in the second
        refs = _equal_rms(audio[first : first + seg], audio[second : second + seg])
        mix = refs.sum(axis=0)
        with FrameReader(path) as reader:
            starts = (first / SAMPLE_RATE, second / SAMPLE_RATE)
            whole = boxes_held_still(reader.info, [])  # the whole frame is the box
            pictures = [_guide_frames(reader, whole, s + seconds / 2) for s in starts]
            motion = {}
            if sep.same_instrument == "motion":
                times = np.arange(0.0, seconds, 1.0 / min(reader.info.fps, 30.0))
                shrink = slice(None, None, _MOTION_SHRINK)
                motion = {
                    "motion_frames": [
                        np.stack([f[shrink, shrink] for f in reader.frames_at(s + times)]) for s in starts
                    ],
                    "motion_times": times,
                }
        est = sep.separate_arrays(mix, SAMPLE_RATE, pictures, **motion)
        name = f"{path.parent.parent.name}/{path.parent.name}"
        scored = score_clip(refs, est, mix, f"video duet {name} at {starts[0]:.1f}+{starts[1]:.1f} s", skipped)
        if scored is not None:
            items.append({"pair": [name, name], "start_s": [round(s, 3) for s in starts], **scored})
    return {**aggregate_items(items), "per_instrument": per_instrument(items)}
