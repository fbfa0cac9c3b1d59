import numpy as np
import torch

from avsep.signal import dsp


def snr_db(ref: np.ndarray, est: np.ndarray) -> float:
    return float(10 * np.log10(np.sum(ref**2) / np.sum((ref - est) ** 2)))


def test_stft_shapes_match_the_music_convention():
    spec = dsp.stft(torch.randn(2, dsp.WINDOW_SAMPLES))
    assert spec.magnitude.shape == (2, dsp.FREQ_BINS, dsp.WINDOW_FRAMES) == (2, 512, 256)
    assert dsp.network_input(spec.magnitude).shape == (2, 1, 256, 256)


def test_identity_mask_round_trip_above_40_db():
    rng = np.random.default_rng(0)
    t = np.arange(dsp.WINDOW_SAMPLES) / dsp.SAMPLE_RATE
    x = (0.3 * np.sin(2 * np.pi * 440 * t) + 0.05 * rng.standard_normal(t.size)).astype(np.float32)
    spec = dsp.stft(torch.from_numpy(x))
    ones = torch.ones(1, dsp.WARP_BINS, dsp.WINDOW_FRAMES)
    for binary in (True, False):
        y = dsp.apply_mask(spec, ones, binary=binary)[0].numpy()
        assert snr_db(x, y) > 40


def test_zero_mask_is_silence_and_half_mask_halves():
    x = torch.randn(1, 20000)
    spec = dsp.stft(x)
    zeros = torch.zeros(1, dsp.WARP_BINS, spec.magnitude.shape[-1])
    assert dsp.apply_mask(spec, zeros, binary=True).abs().max() == 0
    half = dsp.apply_mask(spec, zeros + 0.5, binary=False)
    assert torch.allclose(half, 0.5 * x, atol=1e-4)


def test_warp_unwarp_shapes_and_constant_maps_survive():
    m = torch.rand(3, dsp.FREQ_BINS, 40)
    w = dsp.warp(m)
    assert w.shape == (3, dsp.WARP_BINS, 40)
    assert dsp.unwarp(w).shape == (3, dsp.FREQ_BINS, 40)
    const = torch.full((1, dsp.WARP_BINS, 10), 0.7)
    assert torch.allclose(dsp.unwarp(const)[:, 1:-1], torch.tensor(0.7), atol=1e-5)


def test_warp_gives_low_frequencies_more_rows():
    # A map that is 1 below 1 kHz: on the log axis it must cover more than its linear share.
    freqs = np.linspace(0, dsp.SAMPLE_RATE / 2, dsp.FREQ_BINS)
    m = torch.from_numpy((freqs < 1000).astype(np.float32))[None, :, None].repeat(1, 1, 4)
    share_linear = float(m.mean())
    share_log = float((dsp.warp(m) > 0.5).float().mean())
    assert share_log > 2 * share_linear


def test_silence_gives_finite_network_input():
    spec = dsp.stft(torch.zeros(1, 5000))
    assert torch.isfinite(dsp.network_input(spec.magnitude)).all()


def test_ratio_masks_share_every_bin_and_sum_to_the_mixture():
    torch.manual_seed(0)
    x = torch.randn(2, 20000)
    spec = dsp.stft(x)
    masks = torch.rand(2, 3, dsp.WARP_BINS, spec.magnitude.shape[-1])
    shares = dsp.combine_masks(masks, "ratio")
    assert torch.allclose(shares.sum(1), torch.ones(2, dsp.WARP_BINS, masks.shape[-1]), atol=1e-5)
    out = dsp.apply_masks(spec, masks, "ratio")
    assert out.shape == (2, 3, 20000)
    assert torch.allclose(out.sum(1), x, atol=1e-3)
    # soft masks decide each box alone: these random ones do not sum to the mixture
    assert not torch.allclose(dsp.apply_masks(spec, masks, "soft").sum(1), x, atol=1e-2)


def test_capped_masks_divide_only_where_the_boxes_claim_more_than_the_bin():
    quiet = torch.full((1, 2, 4, 5), 0.2)  # sum 0.4: left as it is
    loud = torch.full((1, 2, 4, 5), 0.8)  # sum 1.6: scaled to sum 1
    assert torch.allclose(dsp.combine_masks(quiet, "capped"), quiet)
    assert torch.allclose(dsp.combine_masks(loud, "capped"), torch.full_like(loud, 0.5))
    assert torch.allclose(dsp.combine_masks(quiet, "ratio"), torch.full_like(quiet, 0.5))
    assert dsp.combine_masks(torch.zeros(1, 2, 4, 5), "ratio").abs().max() == 0  # no box claims it
    assert torch.equal(dsp.combine_masks(loud, "binary"), torch.ones_like(loud))


def test_an_other_box_takes_what_the_rest_leave():
    masks = torch.tensor([0.9, 0.3, 0.6, 0.2]).view(1, 4, 1, 1).expand(2, 4, 3, 5)
    rest = torch.tensor([[False, True, False, True], [False, True, False, False]])
    got = dsp.take_rest(masks, rest)
    torch.testing.assert_close(got[:, [0, 2]], masks[:, [0, 2]])  # named boxes unchanged
    assert got[0, [1, 3]].abs().max() == 0  # 1 - (0.9 + 0.6) is below 0: clipped
    assert torch.allclose(got[1, 1], torch.zeros(3, 5))  # 1 - (0.9 + 0.6 + 0.2), clipped
    torch.testing.assert_close(got[1, 3], masks[1, 3])  # not rest in the second mixture
    lighter = dsp.take_rest(torch.tensor([0.4, 0.9, 0.2]).view(1, 3, 1, 1), torch.tensor([[False, True, False]]))
    torch.testing.assert_close(lighter.flatten(), torch.tensor([0.4, 0.4, 0.2]))
    shared = dsp.take_rest(torch.tensor([0.4, 0.9, 0.2]).view(1, 3, 1, 1), torch.tensor([[False, True, True]]))
    torch.testing.assert_close(shared.flatten(), torch.tensor([0.4, 0.3, 0.3]))  # two boxes share the rest
    assert torch.equal(dsp.take_rest(masks, None), masks)
    everyone = torch.ones(2, 4, dtype=torch.bool)
    assert torch.equal(dsp.take_rest(masks, everyone), masks)  # all other: nothing to take the rest of


def test_ratio_gives_the_dominant_box_more_than_its_plain_ratio_and_keeps_the_rest_box_share():
    masks = torch.tensor([0.6, 0.2, 0.2]).view(1, 3, 1, 1)
    p = dsp.RATIO_POWER
    assert p > 1
    plain = masks / masks.sum(1, keepdim=True)
    want = masks**p / (masks**p).sum(1, keepdim=True)
    torch.testing.assert_close(dsp.combine_masks(masks, "ratio"), want)
    assert dsp.combine_masks(masks, "ratio")[0, 0] > plain[0, 0]
    # box 2 took the rest: it keeps its plain share, boxes 0 and 1 divide theirs by the power
    rest = torch.tensor([[False, False, True]])
    got = dsp.combine_masks(masks, "ratio", rest).flatten()
    torch.testing.assert_close(got[2], plain.flatten()[2])
    named = masks.flatten()[:2] ** p
    torch.testing.assert_close(got[:2], (1 - plain.flatten()[2]) * named / named.sum())
    assert torch.allclose(got.sum(), torch.tensor(1.0))
    # every box taking the rest: none takes it (take_rest), so all divide by the power
    torch.testing.assert_close(dsp.combine_masks(masks, "ratio", torch.ones(1, 3, dtype=torch.bool)), want)


def test_ratio_with_one_box_is_its_soft_mask_not_the_whole_mixture():
    one = torch.full((1, 1, 4, 5), 0.3)
    assert torch.allclose(dsp.combine_masks(one, "ratio"), one)
