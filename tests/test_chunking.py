import numpy as np
import pytest

from avsep.signal.chunking import Stitcher, Windower, blend_weights, hop_for
from avsep.signal.dsp import SAMPLE_RATE, WINDOW_SAMPLES


def run(x: np.ndarray, overlap: float, block: int = 7777, fn=lambda a: np.stack([a, -a])):
    windows = Windower(overlap)([x[i : i + block] for i in range(0, x.size, block)])
    st = Stitcher(2, overlap)
    parts = [st.add(w, fn(w.audio)) for w in windows]
    parts.append(st.finish())
    return np.concatenate(parts, axis=1)


@pytest.mark.parametrize("n", [1, 100, WINDOW_SAMPLES - 1, WINDOW_SAMPLES, WINDOW_SAMPLES + 1, 40 * SAMPLE_RATE])
@pytest.mark.parametrize("overlap", [0.0, 0.25, 0.5])
def test_identity_stitching_reconstructs_exactly(n, overlap):
    x = np.random.default_rng(n).standard_normal(n).astype(np.float32)
    y = run(x, overlap)
    assert y.shape == (2, n)
    np.testing.assert_allclose(y[0], x, atol=1e-6)
    np.testing.assert_allclose(y[1], -x, atol=1e-6)


def test_weights_are_positive_and_sum_to_one_across_the_overlap():
    hop = hop_for(0.25)
    w = blend_weights(WINDOW_SAMPLES, hop)
    assert w.min() > 0
    overlap = WINDOW_SAMPLES - hop
    np.testing.assert_allclose(w[hop:] + w[:overlap], 1.0, atol=1e-12)


def test_windows_cover_the_audio_with_the_right_hop_and_frame_times():
    n = 30 * SAMPLE_RATE
    wins = list(Windower(0.25)([np.zeros(n, np.float32)]))
    hop = hop_for(0.25)
    assert [w.start for w in wins] == [i * hop for i in range(len(wins))]
    assert wins[-1].start + wins[-1].valid == n
    assert all(w.audio.shape == (WINDOW_SAMPLES,) for w in wins)
    times = wins[1].frame_times()
    centre = (hop + WINDOW_SAMPLES / 2) / SAMPLE_RATE
    assert times[1] == pytest.approx(centre) and times[0] < centre < times[2]


def test_memory_is_bounded_by_one_window():
    st = Stitcher(3, 0.25)
    assert st.acc.shape == (3, WINDOW_SAMPLES)


def test_bad_overlap_is_refused():
    with pytest.raises(ValueError):
        hop_for(0.95)
