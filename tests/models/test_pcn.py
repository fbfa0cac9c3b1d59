import pytest
import torch

from avsep.models.pcn import PCN, PCNConfig
from avsep.models.sop import SoP, SoPConfig

TINY = PCNConfig(visual_dim=12, channels=(4, 4, 8, 8, 8, 8, 8), cycles=2)


def test_pcn_mask_shape_and_range():
    torch.manual_seed(0)
    m = PCN(TINY).eval()
    x = torch.randn(2, 1, 256, 256)
    with torch.no_grad():
        single = m(x, torch.randn(2, 12))
        multi = m(x, torch.randn(2, 3, 12))
    assert single.shape == (2, 256, 256)
    assert multi.shape == (2, 3, 256, 256)
    assert 0 <= float(multi.min()) and float(multi.max()) <= 1


def test_pcn_has_seven_conv_and_seven_transposed_conv_layers():
    m = PCN(TINY)
    convs = [layer for layer in m.modules() if type(layer) is torch.nn.Conv2d]
    deconvs = [layer for layer in m.modules() if isinstance(layer, torch.nn.ConvTranspose2d)]
    assert len(convs) == 7 and len(deconvs) == 7
    assert m.head.kernel_size == (3, 3) and m.head.out_channels == 1
    assert m.a.shape == (7,) and m.b.shape == (6,) and m.a.requires_grad


def test_cycles_change_the_output():
    torch.manual_seed(0)
    m = PCN(TINY).eval()
    x, v = torch.randn(1, 1, 256, 256), torch.randn(1, 12)
    with torch.no_grad():
        two = m(x, v)
        m.config = PCNConfig(**{**TINY.__dict__, "cycles": 4})
        four = m(x, v)
    assert not torch.allclose(two, four)


def test_visual_feature_steers_the_mask():
    torch.manual_seed(0)
    m = PCN(TINY).eval()
    x = torch.randn(1, 1, 256, 256)
    with torch.no_grad():
        a, b = m(x, torch.randn(1, 2, 12))[0]
    assert (a - b).abs().max() > 1e-4


def test_shared_audio_pass_equals_separate_calls():
    torch.manual_seed(0)
    for model, dim in ((PCN(TINY), 12), (SoP(SoPConfig(visual_dim=12, ngf=4, k=8)), 12)):
        model.eval()
        x, v = torch.randn(2, 1, 256, 256), torch.randn(2, 3, dim)
        with torch.no_grad():
            together = model(x, v)
            apart = torch.stack([model(x, v[:, s]) for s in range(3)], 1)
        assert torch.allclose(together, apart, atol=1e-5)


def test_logits_match_mask():
    m = PCN(TINY).eval()
    x, v = torch.randn(1, 1, 256, 256), torch.randn(1, 12)
    with torch.no_grad():
        assert torch.allclose(torch.sigmoid(m(x, v, return_logits=True)), m(x, v))


def test_pcn_rejects_wrong_depth():
    with pytest.raises(ValueError):
        PCN(PCNConfig(channels=(4, 4, 4)))


def test_bfloat16_autocast_on_a_training_crop_stays_close_to_float32():
    """A 32767-sample training crop (128 frames) makes the bottom conv's output, and so the
    backward pass of the transposed conv above it, one column wide, where the CPU's bf16 kernel
    gave wrong numbers or NaN (`--amp` diverged): under autocast the logits and the gradients
    must stay finite and near float32's."""
    torch.manual_seed(0)
    net = PCN(PCNConfig(visual_dim=11))
    x = torch.randn(8, 1, 256, 128)
    v = torch.randn(8, 2, 11)
    runs = []
    for amp in (False, True):
        net.zero_grad()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=amp):
            logits = net(x, v, return_logits=True).float()
        (logits**2).mean().backward()
        runs.append((logits.detach(), torch.cat([p.grad.flatten() for p in net.parameters()])))
    (ref, ref_grad), (low, low_grad) = runs
    assert torch.isfinite(low).all() and torch.isfinite(low_grad).all()
    assert (low - ref).abs().max() < 0.1 * ref.abs().max()
    assert (low_grad - ref_grad).norm() < 0.1 * ref_grad.norm()
