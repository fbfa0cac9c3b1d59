"""Two players of one instrument: the mask their boxes share, split by who moves when.

The mask network hears the mixture and reads one guide per box; two boxes whose guides name
the same instrument therefore get the same mask, and the bins are shared half and half
(docs/results.md section 0, ``duets-same``). Retraining cannot fix this with avsep's data: a
training clip's pictures are photos of its class chosen independently of its sound
(:mod:`avsep.train.dataset.build`), so nothing in them tells one player's notes from another's.

What a real video does have is motion that follows the notes: a bow moves while its note
sounds, fingers move when the note changes (Parekh et al. 2017, "Motion informed audio source
separation"). ``--same-instrument motion`` uses it without training:

1. **who is the same** (:func:`same_groups`): boxes whose guide vectors point the same way
   (cosine >= :data:`SAME_COSINE`). The network's mask is a function of the mixture and the
   guide alone, so boxes with (nearly) equal guides get (nearly) equal masks, whatever their
   guide kind; boxes of different instruments are never touched.
2. **how each box moves** (:func:`box_motion`, :func:`motion_envelope`): the mean absolute
   change of a small grey picture of the box between successive frames, at the video's rate
   (at most :data:`MOTION_FPS`), interpolated onto the STFT frames of the window.
3. **who plays which sound** (:func:`split_group`): the group's masked magnitude is factorised
   by NMF into :data:`NMF_COMPONENTS` spectra ``W`` and activations ``H`` (KL multiplicative
   updates, fixed seed); each component goes to the boxes whose motion correlates best with
   its activation (a softmax over the correlations, :data:`ASSIGN_TEMPERATURE`), and each box's
   share is the group's share times its components' part of ``W H``. The boxes' shares still
   add up to the group's, so the other boxes and the residual are unchanged.

Boxes that do not move, or move alike, get equal parts of every component: the plain shared
mask again. Pure numpy on the window's arrays; nothing here opens a file.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from avsep.boxes.box import Box
from avsep.boxes.cues import block_means, luma

#: Guides at least this alike (cosine) name the same instrument. A label-trained model's guide
#: is a probability vector over avsep's classes: two confident frames of one class are at
#: about 1.0, of two classes near 0; chosen a priori, between the two.
SAME_COSINE = 0.9
#: NMF components per group: enough for the notes of two players in one 6 s window.
NMF_COMPONENTS = 16
NMF_ITERATIONS = 60
NMF_SEED = 0
#: Softmax temperature over a component's correlations with the boxes' motion: a lead of 0.1
#: in correlation gives the leading box e (2.7) times the other's part.
ASSIGN_TEMPERATURE = 0.1
#: Most frames a second read for motion (a 60 fps video is read at 30).
MOTION_FPS = 30.0
#: A box's motion picture: its crop shrunk to this many grey cells a side.
MOTION_CELLS = 16
#: Motion envelopes flatter than this (grey levels, standard deviation) carry no timing.
FLAT_MOTION = 1e-3
_EPS = 1e-9


def same_groups(guides: np.ndarray, threshold: float = SAME_COSINE) -> list[list[int]]:
    """Groups of two or more boxes (indices, ascending) whose guides ``[S, D]`` are alike:
    linked when the cosine of their guides is at least ``threshold`` (and transitively)."""
    g = np.asarray(guides, np.float64)
    unit = g / np.maximum(np.linalg.norm(g, axis=1, keepdims=True), _EPS)
    alike = unit @ unit.T >= threshold
    parent = list(range(len(g)))

    def root(i: int) -> int:
        while parent[i] != i:
            i = parent[i]
        return i

    for i, j in zip(*np.nonzero(np.triu(alike, 1))):
        parent[root(int(j))] = root(int(i))
    groups: dict[int, list[int]] = {}
    for i in range(len(g)):
        groups.setdefault(root(i), []).append(i)
    return [members for members in groups.values() if len(members) > 1]


def box_picture(frame: np.ndarray, box: Box | None) -> np.ndarray:
    """The grey ``MOTION_CELLS`` x ``MOTION_CELLS`` picture of ``box`` in ``frame`` (zeros when
    the source is not in the picture): what a box's motion is measured on."""
    if box is None:
        return np.zeros((MOTION_CELLS, MOTION_CELLS), np.float32)
    x0, y0, x1, y1 = (int(round(v)) for v in box)
    crop = frame[max(y0, 0) : max(y1, y0 + 1), max(x0, 0) : max(x1, x0 + 1)]
    return block_means(luma(crop), MOTION_CELLS, MOTION_CELLS).astype(np.float32)


def box_motion(pictures: np.ndarray) -> np.ndarray:
    """Motion energy ``[S, N - 1]`` from box pictures ``[N, S, h, w]`` at ``N`` successive times:
    the mean absolute change of each box's picture from one time to the next."""
    pictures = np.asarray(pictures, np.float32)
    if len(pictures) < 2:
        return np.zeros((pictures.shape[1] if pictures.ndim > 1 else 0, 0), np.float32)
    return np.abs(np.diff(pictures, axis=0)).mean(axis=(2, 3)).T


def motion_envelope(energy: np.ndarray, times: np.ndarray, frame_times: np.ndarray) -> np.ndarray:
    """Motion energy ``[S, N - 1]`` between pictures taken at ``times`` ``[N]`` (seconds), linearly
    interpolated at ``frame_times`` ``[T]`` (the STFT frames): ``[S, T]``."""
    times = np.asarray(times, np.float64)
    mid = (times[:-1] + times[1:]) / 2
    if len(mid) == 0:
        return np.zeros((len(energy), len(frame_times)), np.float32)
    return np.stack([np.interp(frame_times, mid, e) for e in energy]).astype(np.float32)


def window_motion(
    frames_at: Callable[[Sequence[float]], list[tuple[np.ndarray, float]]],
    boxes_at: Callable[[float], Sequence[Box | None]],
    start_s: float,
    frame_times: np.ndarray,
    fps: float,
) -> np.ndarray:
    """Each box's motion envelope ``[S, T]`` on a window's STFT frames (``frame_times``, seconds
    from ``start_s``), from the frames ``frames_at`` shows at up to :data:`MOTION_FPS` a second
    over the window and the boxes ``boxes_at`` gives at each frame's time."""
    rate = min(fps if fps > 0 else MOTION_FPS, MOTION_FPS)
    span = float(frame_times[-1] - frame_times[0]) if len(frame_times) else 0.0
    asked = start_s + frame_times[0] + np.arange(int(np.floor(span * rate)) + 1) / rate
    shown = frames_at([float(t) for t in asked])
    times = np.array([t for _, t in shown], np.float64) - start_s
    keep = np.concatenate([[True], np.diff(times) > 1e-6])  # a frame held past the end counts once
    pictures = np.stack([[box_picture(f, b) for b in boxes_at(t)] for (f, t) in shown])[keep]
    return motion_envelope(box_motion(pictures), times[keep], frame_times)


def nmf(v: np.ndarray, components: int, iterations: int = NMF_ITERATIONS, seed: int = NMF_SEED):
    """``W`` ``[F, K]`` and ``H`` ``[K, T]`` with ``W H`` close to ``v`` ``[F, T]`` >= 0 in the KL
    divergence (Lee and Seung's multiplicative updates, from a seeded random start)."""
    rng = np.random.default_rng(seed)
    scale = float(v.mean()) + _EPS
    w = rng.uniform(0.5, 1.5, (v.shape[0], components)) * np.sqrt(scale)
    h = rng.uniform(0.5, 1.5, (components, v.shape[1])) * np.sqrt(scale)
    for _ in range(iterations):
        h *= (w.T @ (v / (w @ h + _EPS))) / (w.sum(0)[:, None] + _EPS)
        w *= ((v / (w @ h + _EPS)) @ h.T) / (h.sum(1)[None, :] + _EPS)
    return w, h


def _correlations(h: np.ndarray, motion: np.ndarray) -> np.ndarray:
    """Pearson correlation ``[K, G]`` of each activation row of ``h`` with each motion row."""
    a = h - h.mean(1, keepdims=True)
    m = motion - motion.mean(1, keepdims=True)
    a /= np.maximum(np.linalg.norm(a, axis=1, keepdims=True), _EPS)
    m /= np.maximum(np.linalg.norm(m, axis=1, keepdims=True), _EPS)
    return a @ m.T


def split_group(shares: np.ndarray, magnitude: np.ndarray, motion: np.ndarray) -> np.ndarray:
    """The shares ``[G, F, T]`` of one group of alike boxes, re-divided by their motion ``[G, T]``
    (:func:`window_motion`) over the mixture ``magnitude`` ``[F, T]``; unchanged when no box's
    motion varies or the group has no sound. The result sums over the group to its input's sum."""
    motion = np.asarray(motion, np.float64)
    total = shares.sum(0)
    v = total * magnitude
    if v.sum() <= _EPS or not (motion.std(axis=1) > FLAT_MOTION).any():
        return shares
    w, h = nmf(v.astype(np.float64), NMF_COMPONENTS)
    corr = _correlations(h, motion)  # [K, G]
    logits = corr / ASSIGN_TEMPERATURE
    assign = np.exp(logits - logits.max(1, keepdims=True))
    assign /= assign.sum(1, keepdims=True)  # [K, G]: each component's split between the boxes
    parts = np.einsum("fk,kt,kg->gft", w, h, assign)
    whole = parts.sum(0)
    split = (parts + _EPS / len(parts)) / (whole + _EPS)
    return (total * split).astype(shares.dtype)


def split_by_motion(shares: np.ndarray, magnitude: np.ndarray, guides: np.ndarray, motion: np.ndarray) -> np.ndarray:
    """Shares ``[B, S, F, T]`` with each group of alike boxes (:func:`same_groups` of the guides
    ``[B, S, D]``) split by motion ``[B, S, T]`` over the mixtures' ``magnitude`` ``[B, F, T]``;
    boxes alone in their group keep their shares exactly."""
    out = np.array(shares, copy=True)
    for b in range(len(out)):
        for group in same_groups(guides[b]):
            out[b, group] = split_group(out[b, group], magnitude[b], motion[b, group])
    return out


class MotionTrack:
    """Each box's motion over a whole signal, from pictures of every box at known times (the
    API's arrays, the evaluations' frames); :meth:`window` reads it on a window's STFT frames."""

    def __init__(self, frames_per_box: Sequence[np.ndarray], times: Sequence[float]) -> None:
        """``frames_per_box[i]``: ``[N, H, W, 3]`` pictures of box ``i`` (the whole picture is the
        box), shown at ``times`` ``[N]`` seconds from the signal's start."""
        pictures = np.stack(
            [[box_picture(f, (0, 0, f.shape[1], f.shape[0])) for f in frames] for frames in frames_per_box], 1
        )
        self.times = np.asarray(times, np.float64)
        self.energy = box_motion(pictures)

    def window(self, start_s: float, frame_times: np.ndarray) -> np.ndarray:
        """The envelope ``[S, T]`` at ``start_s + frame_times`` seconds."""
        return motion_envelope(self.energy, self.times - start_s, frame_times)
