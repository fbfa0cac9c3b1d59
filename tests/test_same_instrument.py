"""Two players of one instrument (``--same-instrument motion``, :mod:`avsep.separation.same_instrument`):
boxes that look alike split their shared mask by which one moves when its sound plays."""

from __future__ import annotations

import numpy as np
import pytest

from avsep import Separator
from avsep.errors import InputError
from avsep.separation.same_instrument import same_groups, split_group
from tests.media import write_frames_video

RATE = 16000
FPS = 25
SECONDS = 6.0
#: who plays in each half second: overlapping, but different, patterns
PLAYS = (
    (1, 1, 0, 1, 0, 0, 1, 1, 0, 1, 0, 1),
    (0, 1, 1, 0, 1, 1, 0, 1, 1, 0, 1, 0),
)
TONES = (440.0, 1100.0)


def _gate(pattern: tuple[int, ...], times: np.ndarray) -> np.ndarray:
    return np.asarray(pattern, np.float64)[np.minimum((times / 0.5).astype(int), len(pattern) - 1)]


def _players() -> tuple[np.ndarray, np.ndarray]:
    """Each player's sound ``[2, n]``: a tone, on in the half seconds it plays (soft edges)."""
    t = np.arange(int(SECONDS * RATE)) / RATE
    smooth = np.hanning(401) / np.hanning(401).sum()
    gates = [np.convolve(_gate(p, t), smooth, mode="same") for p in PLAYS]
    return np.stack([0.2 * g * np.sin(2 * np.pi * f * t) for g, f in zip(gates, TONES)]).astype(np.float32), t


def _video(path, colours=((128, 128, 128), (128, 128, 128))) -> tuple:
    """Two 32 x 32 boxes side by side, each a plain background with a white square that jitters
    while its player plays and holds still otherwise; the sound is the two players' sum."""
    refs, _ = _players()
    write_frames_video(path, _pictures(colours), FPS, refs.sum(0), RATE)
    return path, refs


def _pictures(colours=((128, 128, 128), (128, 128, 128))) -> np.ndarray:
    """The frames of :func:`_video`, ``[N, 32, 64, 3]``."""
    frames = np.zeros((int(SECONDS * FPS), 32, 64, 3), np.uint8)
    times = np.arange(len(frames)) / FPS
    for box, (colour, pattern) in enumerate(zip(colours, PLAYS)):
        x = 32 * box
        frames[:, :, x : x + 32] = colour
        for k, playing in enumerate(_gate(pattern, times)):
            dx = (k % 2) * 6 if playing else 0
            frames[k, 12:20, x + 10 + dx : x + 18 + dx] = 255
    return frames


def _sdr(ref: np.ndarray, est: np.ndarray) -> float:
    n = min(len(ref), len(est))
    return float(10 * np.log10(np.sum(ref[:n] ** 2) / np.sum((ref[:n] - est[:n]) ** 2)))


def test_alike_guides_form_groups_and_others_stay_alone():
    guides = np.array([[1.0, 0.0, 0.0], [0.97, 0.1, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [0.05, 0.0, 0.99]])
    assert same_groups(guides) == [[0, 1], [3, 4]]
    assert same_groups(guides[[0, 2, 3]]) == []


def test_motion_split_gives_each_box_its_own_tone_on_a_spectrogram():
    refs, t = _players()
    frames = np.arange(0, len(t), 256)
    mags = np.stack([np.abs(np.fft.rfft(_frames(r, frames), axis=1)).T for r in refs])  # [2, F, T]
    motion = np.stack([_gate(p, t[frames]) for p in PLAYS])
    shares = np.full((2, *mags.shape[1:]), 0.5, np.float32)  # the plain ratio of two equal masks
    split = split_group(shares, mags.sum(0), motion)
    assert np.allclose(split.sum(0), 1.0, atol=1e-4)  # the group's share is kept
    own = [(split[i] * mags[i]).sum() / mags[i].sum() for i in range(2)]
    other = [(split[i] * mags[1 - i]).sum() / mags[1 - i].sum() for i in range(2)]
    assert min(own) > 0.8 and max(other) < 0.2  # the plain ratio: 0.5 and 0.5
    flat = split_group(shares, mags.sum(0), np.ones_like(motion))
    assert np.array_equal(flat, shares)  # no motion, no information: unchanged


def _frames(signal: np.ndarray, starts: np.ndarray, size: int = 512) -> np.ndarray:
    padded = np.pad(signal, (0, size))
    return np.stack([padded[s : s + size] * np.hanning(size) for s in starts])


def test_a_video_of_two_alike_players_is_split_by_their_motion(tmp_path):
    video, refs = _video(tmp_path / "same.mkv")
    boxes = [(0, 0, 32, 32), (32, 0, 64, 32)]
    plain = Separator(device="cpu").separate_file(video, boxes).sources
    moved = Separator(device="cpu", same_instrument="motion").separate_file(video, boxes).sources
    before = [_sdr(refs[i], plain[i]) for i in range(2)]
    after = [_sdr(refs[i], moved[i]) for i in range(2)]
    assert max(before) < 4.0  # each box gets half of both players
    assert min(after) > min(before) + 4.0, (before, after)


def test_separate_arrays_splits_by_the_motion_frames_it_is_given():
    refs, _ = _players()
    frames = _pictures()
    boxes = [frames[:, :, :32], frames[:, :, 32:]]
    times = np.arange(len(frames)) / FPS
    separator = Separator(device="cpu", same_instrument="motion")
    plain = separator.separate_arrays(refs.sum(0), RATE, [b[:3] for b in boxes])  # no motion: shared
    moved = separator.separate_arrays(
        refs.sum(0), RATE, [b[:3] for b in boxes], motion_frames=boxes, motion_times=times
    )
    assert max(_sdr(refs[i], plain[i]) for i in range(2)) < 4.0
    assert min(_sdr(refs[i], moved[i]) for i in range(2)) > 10.0


def test_boxes_of_different_instruments_are_left_alone(tmp_path):
    video, _ = _video(tmp_path / "two.mkv", colours=((220, 30, 30), (30, 30, 220)))
    boxes = [(0, 0, 32, 32), (32, 0, 64, 32)]
    plain = Separator(device="cpu").separate_file(video, boxes).sources
    moved = Separator(device="cpu", same_instrument="motion").separate_file(video, boxes).sources
    assert np.array_equal(plain, moved)


def test_an_unknown_mode_is_one_clear_error():
    with pytest.raises(InputError, match="same_instrument must be one of off, motion"):
        Separator(device="cpu", same_instrument="faces")


pytestmark = pytest.mark.usefixtures("fast_model")


def test_a_box_taking_the_rest_is_never_grouped_with_a_player_it_leans_towards():
    """The separation hands the motion split its guides with the other share (12 coordinates):
    a box the guide head is unsure of (other 0.6) that leans violin stays apart from the sure
    violin, whose rest it takes; scaled back to the 11 classes the two would look alike."""
    sure = np.zeros(12)
    sure[9] = 1.0
    unsure = np.zeros(12)
    unsure[9], unsure[0], unsure[11] = 0.35, 0.05, 0.6
    assert same_groups(np.stack([sure, unsure])) == []
    scaled = np.stack([sure[:11], unsure[:11] / unsure[:11].sum()])
    assert same_groups(scaled) == [[0, 1]]
