from __future__ import annotations

import numpy as np
import pytest
import torch

from avsep.errors import AvsepError
from avsep.signal import dsp
from avsep.train.metrics import (
    binary_targets,
    bss_eval,
    fast_sdr,
    is_silent,
    mixture_floor,
    oracle_ibm,
    right_box,
    summarize,
)


def tones(n: int = dsp.WINDOW_SAMPLES, freqs=(440.0, 3000.0)) -> np.ndarray:
    t = np.arange(n) / dsp.SAMPLE_RATE
    return np.stack([0.3 * np.sin(2 * np.pi * f * t) for f in freqs]).astype(np.float32)


def test_mismatched_lengths_and_counts_raise_one_line_errors():
    refs = np.ones((2, 65535))
    with pytest.raises(AvsepError, match="references have 65535 samples, estimates 65000"):
        bss_eval(refs, np.ones((2, 65000)))
    with pytest.raises(AvsepError, match="2 references but 3 estimates"):
        bss_eval(refs, np.ones((3, 65535)))
    with pytest.raises(AvsepError, match="references have"):
        fast_sdr(refs, np.ones((2, 10)))


def test_silence_is_detected_and_refused_by_bss_eval():
    refs = tones(8000)
    assert not is_silent(refs[0]) and is_silent(np.zeros(100)) and is_silent(np.full(100, 1e-9))
    refs[1] = 0
    with pytest.raises(AvsepError, match="reference 1 is all zeros"):
        bss_eval(refs, tones(8000))


def test_oracle_ibm_separates_distant_tones_above_10_db():
    refs = tones(dsp.WINDOW_SAMPLES // 2)
    mix = refs.sum(0)
    est = oracle_ibm(dsp.stft(torch.from_numpy(mix)), dsp.stft(torch.from_numpy(refs)))
    assert est.shape == refs.shape
    scores = bss_eval(refs, est)
    assert scores["sdr"].min() > 10
    warped = oracle_ibm(dsp.stft(torch.from_numpy(mix)), dsp.stft(torch.from_numpy(refs)), grid="warped")
    assert bss_eval(refs, warped)["sdr"].min() > 10


def test_mixture_floor_and_fast_sdr():
    refs = tones(8000)
    mix = refs.sum(0)
    floor = mixture_floor(mix, 2)
    assert floor.shape == (2, 8000) and np.array_equal(floor[0], mix)
    # equal-power sources: the mixture is 0 dB from either
    assert np.allclose(fast_sdr(refs, floor), 0.0, atol=0.1)
    assert np.allclose(bss_eval(refs, floor)["sdr"], 0.0, atol=1.0)  # BSS Eval forgives a little
    assert fast_sdr(refs, refs).min() > 100


def test_right_box_checks_each_output_against_the_other_references():
    refs = tones(8000)
    assert right_box(refs, refs).all()
    assert not right_box(refs, refs[::-1]).any()


def test_binary_targets_two_and_three_sources():
    mix = torch.tensor([[[4.0, 1.0]]])
    two = torch.tensor([[[[3.0, 0.4]], [[1.0, 0.6]]]])
    assert binary_targets(two, mix).tolist() == [[[[True, False]], [[False, True]]]]
    three = torch.tensor([[[[3.0, 0.1]], [[2.0, 0.5]], [[1.0, 0.2]]]])
    t = binary_targets(three, mix)
    assert t.sum(1).eq(1).all() and t[0, 0, 0, 0] and t[0, 1, 0, 1]


def test_summarize_ignores_non_finite_values():
    s = summarize([1.0, 3.0, float("inf"), float("nan")])
    assert s == {"mean": 2.0, "median": 2.0, "count": 2}
