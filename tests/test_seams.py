"""No seams: the windowed path matches one pass over the whole signal at every window join.

The separator cuts a long input into overlapping 5.94-s windows, separates each and cross-fades
them together. The reference is what the same network gives in a single pass over the whole
40-s spectrogram. The networks avsep ships look at their whole window (the PCN's receptive field
spans it and it standardises each input), so for them "the same output" is not defined; the
test therefore uses a small deterministic mask network whose output at a frame depends on a
limited context (:class:`LocalMasks`: +-16 frames, 0.37 s, shorter than half the 1.49-s overlap)
and that, like a CNN, zero-pads at the edges of its input, so a window's outputs near its own
edges are wrong. Everything else is the product's path: :meth:`Separator.separate_arrays`,
the windower, the STFT of each window, masking, iSTFT, the stitcher.

The criterion, per source, in the +-0.5 s around every window edge inside the signal: with
``t`` the true source, ``y`` the single-pass output and ``w`` the windowed one,

    loss = 20 log10(1 + |y - w| / |t - y|)  <=  0.5 dB

``loss`` bounds how much SDR the windowing can cost there whatever the deviation looks like,
since ``|t - w| <= |t - y| + |y - w|``: SDR(t, w) >= SDR(t, y) - loss. (The measured SDR
difference is reported too; it is never larger.) The test model separates well (about 30 dB
SDR), which makes the bound demanding: the windowed output may deviate from the single pass by
no more than about -55 dB relative to the signal. :func:`test_the_check_catches_seams` shows the
check fails for hard cuts, for plain averaging instead of the cross-fade and for overlap 0.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import avsep.signal.chunking
from avsep import Separator
from avsep.signal import dsp
from avsep.signal.chunking import Windower, hop_for

pytestmark = pytest.mark.usefixtures("fast_model")

SR = dsp.SAMPLE_RATE
SECONDS = 40
MAX_LOSS_DB = 0.5
HALF_REGION = SR // 2  # +-0.5 s around each join


def _row_of(freq: float) -> int:
    """Row of the 256-row log-frequency grid (dsp.warp) that holds ``freq`` Hz."""
    return round((dsp.WARP_BINS - 1) * math.log(1 + 20 * freq / (SR / 2)) / math.log(21))


class LocalMasks(nn.Module):
    """A deterministic "network" with a limited temporal context, for single-pass references.

    A bin is active when it stands out from its neighbourhood (3 rows x ``2*context+1`` frames,
    zero-padded at the input's edges like a CNN). The guide picks the band: ColourTrunk's
    features start with the crop's mean R, G, B, so a red box gets the low band and a blue box
    the high band. Any input width works, so the whole 40 s goes through in one pass.
    """

    def __init__(self, context: int = 16, split_hz: float = 1200.0) -> None:
        super().__init__()
        self.context = context
        low = (torch.arange(dsp.WARP_BINS) < _row_of(split_hz)).float()[:, None]
        self.register_buffer("low", low)

    def forward(self, log_mag: torch.Tensor, visual: torch.Tensor) -> torch.Tensor:
        width = 2 * self.context + 1
        kernel = torch.full((1, 1, 3, width), 1.0 / (3 * width))
        level = F.conv2d(log_mag, kernel, padding=(1, self.context))
        active = torch.sigmoid(3.0 * (log_mag - level + 0.5))  # [B, 1, H, W]
        red, blue = visual[..., 0, None, None], visual[..., 2, None, None]  # [B, S, 1, 1]
        return (red * self.low + blue * (1 - self.low)) * active  # [B, S, H, W]


def _notes(
    n: int,
    rng: np.random.Generator,
    band: tuple[float, float],
    length_s: tuple[float, float],
    harmonics: int,
    decay_s: float,
) -> np.ndarray:
    """A part of plucked notes: random pitch in ``band``, sharp onsets, exponential decay."""
    out = np.zeros(n)
    start = 0
    while start < n:
        size = min(int(rng.uniform(*length_s) * SR), n - start)
        t = np.arange(size) / SR
        f0 = rng.uniform(*band)
        note = sum(np.sin(2 * np.pi * f0 * h * t + rng.uniform(0, 2 * np.pi)) / h for h in range(1, harmonics + 1))
        out[start : start + size] = note * np.exp(-t / decay_s)
        start += size
    return (0.3 * out).astype(np.float32)


def make_duet(seconds: float = SECONDS) -> np.ndarray:
    """Two "instruments": low notes (the red box) and high notes (the blue box), ``[2, n]``."""
    rng = np.random.default_rng(0)
    n = int(seconds * SR)
    low = _notes(n, rng, (110.0, 330.0), (0.15, 0.45), 3, 0.25)
    high = _notes(n, rng, (1500.0, 2600.0), (0.1, 0.3), 2, 0.1)
    return np.stack([low, high])


@pytest.fixture(scope="module")
def duet() -> np.ndarray:
    return make_duet()


def _pictures() -> list[np.ndarray]:
    red = np.zeros((3, 48, 64, 3), np.uint8)
    red[..., 0] = 255
    blue = np.zeros_like(red)
    blue[..., 2] = 255
    return [red, blue]


def _separator(overlap: float) -> Separator:
    sep = Separator(device="cpu", overlap=overlap)
    sep.model = LocalMasks()
    return sep


def _single_pass(sep: Separator, mix: np.ndarray) -> np.ndarray:
    from avsep.io.video import resize_frames

    visual = torch.cat([sep.guide(resize_frames(f)[None, None]) for f in _pictures()], 1)
    return sep.separate_windows(mix[None], visual)[0]


def _join_regions(n: int, overlap: float) -> list[slice]:
    """+-0.5 s around every window edge (a start or an end) that lies inside the signal."""
    edges = set()
    for win in Windower(overlap)([np.zeros(n, np.float32)]):
        if 0 < win.start < n:
            edges.add(win.start)
        if win.start + dsp.WINDOW_SAMPLES < n:
            edges.add(win.start + dsp.WINDOW_SAMPLES)
    return [slice(max(0, e - HALF_REGION), min(n, e + HALF_REGION)) for e in sorted(edges)]


def _sdr(ref: np.ndarray, est: np.ndarray) -> float:
    ref = ref.astype(np.float64)
    return 10 * math.log10(np.sum(ref**2) / max(np.sum((ref - est) ** 2), 1e-30))


def seam_losses(duet: np.ndarray, overlap: float) -> list[tuple[float, float, int, int]]:
    """``(bound, measured SDR loss, join sample, source)`` for every join region and source."""
    mix = duet.sum(0)
    sep = _separator(overlap)
    windowed = sep.separate_arrays(mix, SR, _pictures())
    single = _single_pass(sep, mix)
    assert windowed.shape == single.shape == duet.shape
    out = []
    for region in _join_regions(mix.size, overlap):
        for s in range(duet.shape[0]):
            t, y, w = duet[s, region].astype(np.float64), single[s, region], windowed[s, region]
            bound = 20 * math.log10(1 + np.linalg.norm(y - w) / np.linalg.norm(t - y))
            measured = _sdr(t, y) - _sdr(t, w)
            out.append((bound, measured, region.start + HALF_REGION, s))
    return out


@pytest.mark.parametrize("overlap", [0.25, 0.5])
def test_windowed_matches_single_pass_at_every_join(duet, overlap):
    single_sdr = [_sdr(duet[s], _single_pass(_separator(overlap), duet.sum(0))[s]) for s in range(2)]
    assert min(single_sdr) > 20, f"the test model should separate well, got SDR {single_sdr}"
    losses = seam_losses(duet, overlap)
    assert len(losses) >= 2 * 2 * 7  # 40 s: at least 7 joins with two edges each, two sources
    bound, measured, at, source = max(losses)
    assert bound <= MAX_LOSS_DB, (
        f"overlap {overlap}: at {at / SR:.2f} s (source {source}) the windowed output may lose up to "
        f"{bound:.2f} dB SDR against the single pass (measured {measured:.2f} dB)"
    )
    assert max(m for _, m, _, _ in losses) <= MAX_LOSS_DB


@pytest.mark.parametrize("overlap", [0.01, 0.1, 0.25, 0.5, 0.9])
def test_windows_share_the_stft_frame_grid(overlap):
    """What makes the match possible: every window starts on the single pass's frame grid."""
    hop = hop_for(overlap)
    assert hop % dsp.HOP == 0 and 0 < hop < dsp.WINDOW_SAMPLES
    assert (
        abs(hop - dsp.WINDOW_SAMPLES * (1 - overlap)) <= dsp.HOP / 2 or hop == dsp.WINDOW_SAMPLES // dsp.HOP * dsp.HOP
    )
    assert hop_for(0.0) == dsp.WINDOW_SAMPLES  # no overlap: windows just touch


def _plain_average(window: int, hop: int) -> np.ndarray:
    """No cross-fade: every window weighs 1 everywhere (its edges count as much as its middle)."""
    return np.ones(window)


def _cut_at_next_start(window: int, hop: int) -> np.ndarray:
    """A hard cut where the next window starts: each window's last ``overlap`` samples are dropped."""
    w = np.ones(window)
    w[hop:] = 1e-9
    return w


@pytest.mark.parametrize(
    ("overlap", "weights"),
    [(0.0, None), (0.25, _plain_average), (0.25, _cut_at_next_start)],
    ids=["overlap-0", "plain-average", "hard-cut"],
)
def test_the_check_catches_seams(duet, monkeypatch, overlap, weights):
    """The criterion has teeth: joins without the cross-fade exceed the 0.5 dB bound."""
    if weights is not None:
        monkeypatch.setattr(avsep.signal.chunking, "blend_weights", weights)
    bound, _, at, _ = max(seam_losses(duet, overlap))
    assert bound > MAX_LOSS_DB, f"a seam at {at / SR:.2f} s went unnoticed (bound {bound:.2f} dB)"
