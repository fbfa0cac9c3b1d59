"""The soundtrack chain: rooms, microphone, noise, AAC; targets stay the sources as heard."""

from __future__ import annotations

import numpy as np
import pytest

from avsep.errors import InputError
from avsep.train.augment import STEPS, Soundtrack, aac, mic_response, noise, parse_steps, room_bank

SR = 11025


def _sources(n: int = 2, seconds: float = 3.0) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    return np.stack(
        [0.1 * np.sin(2 * np.pi * f * t) * (1 + np.sin(2 * np.pi * 0.5 * t)) for f in (220, 1320)[:n]]
    ).astype(np.float32)


def test_parse_steps():
    assert parse_steps("all") == STEPS and parse_steps("none") == () and parse_steps(None) == ()
    assert parse_steps("codec,rooms") == ("rooms", "codec")  # chain order, whatever the order given
    with pytest.raises(InputError, match="unknown step"):
        parse_steps("rooms,echo")


def test_linear_steps_keep_the_mixture_the_sum_of_the_targets():
    st = Soundtrack(("rooms", "mic"), room_prob=1.0, mic_prob=1.0)
    src = _sources()
    out, mix, recipe = st(src, np.random.default_rng(0))
    assert "room" in recipe and recipe["mic"]
    assert out.shape == src.shape and not np.allclose(out, src, atol=1e-3)
    np.testing.assert_allclose(mix, out.sum(0), atol=1e-5)


def test_rooms_reverberate_each_source_from_its_own_position():
    bank = room_bank(0)
    assert len(bank.rirs) == 48 and all(len(r) == 6 for r in bank.rirs)
    h = bank.rirs[0][0]
    assert abs(np.sum(h * h) - 1) < 1e-4 and len(h) > 0.05 * SR  # a tail, not an impulse
    click = np.zeros((2, SR), np.float32)
    click[:, 100] = 1.0
    out, _, _ = Soundtrack(("rooms",), room_prob=1.0)(click, np.random.default_rng(3))
    assert np.abs(out[:, 2000:]).max() > 1e-3  # energy long after the click
    assert not np.allclose(out[0], out[1])  # two positions


def test_noise_and_codec_change_the_mixture_only():
    st = Soundtrack(("noise", "codec"), noise_prob=1.0, codec_prob=1.0)
    src = _sources()
    out, mix, recipe = st(src, np.random.default_rng(1))
    np.testing.assert_array_equal(out, src)  # targets untouched
    snr = 10 * np.log10(np.sum(src.sum(0) ** 2) / np.sum((mix - src.sum(0)) ** 2))
    assert recipe["aac_bps"] in (32000, 48000, 64000, 96000)
    assert 5 < snr < recipe["noise_snr_db"] + 3


def test_aac_round_trip_is_aligned_and_close():
    x = _sources(1)[0]
    y = aac(x, 48000)
    assert y.shape == x.shape
    corr = np.dot(x, y) / np.sqrt(np.dot(x, x) * np.dot(y, y))
    assert corr > 0.99  # aligned: the encoder's priming delay is removed
    shifted = np.dot(x[:-50], y[50:]) / np.sqrt(np.dot(x, x) * np.dot(y, y))
    assert corr > shifted


def test_mic_response_and_noise_are_bounded():
    rng = np.random.default_rng(4)
    h = mic_response(4096, rng)
    assert h.shape == (2049,) and np.all(h > 0) and h.max() <= 10 ** (12 / 20) + 1e-9
    z = noise(20000, rng)
    assert abs(np.sqrt(np.mean(z**2)) - 1) < 1e-3


def test_same_rng_same_result():
    st = Soundtrack(STEPS)
    a = st(_sources(), np.random.default_rng(9))
    b = st(_sources(), np.random.default_rng(9))
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert a[2] == b[2]


def test_room_bank_is_the_same_in_every_process():
    """A resumed run (a new process) must train on the same rooms."""
    import subprocess
    import sys

    code = (
        "import numpy as np; from avsep.train.augment import RoomBank; "
        "print(float(sum(np.sum(h[:50]) for h in RoomBank(rooms=2, positions=2).rirs[1])))"
    )
    runs = {
        subprocess.run(
            [sys.executable, "-c", f"import numpy; numpy.random.seed({s}); {code}"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for s in (1, 2)
    }
    assert len(runs) == 1
