"""avsep's EfficientNet-Lite0 is timm's tf_efficientnet_lite0, without timm."""

from __future__ import annotations

import subprocess
import sys

import torch

from avsep.models.effnet_lite import EfficientNetLite0
from avsep.models.visual import build_trunk
from tests.models.trunk_reference import SIZES, fill, layout, outputs, picture, state_layout


def test_same_names_and_outputs_as_timm():
    """The names and shapes of timm's state dict, and the outputs timm's network gave for the
    same index-made weights at an even and an odd size (TF "same" padding pads the stride-2
    convolutions unevenly at 96, evenly at 97): a wrong padding, norm or layer fails."""
    assert layout(EfficientNetLite0()) == state_layout("tf_efficientnet_lite0")
    net = fill(EfficientNetLite0())
    ref = outputs()
    with torch.no_grad():
        for size in SIZES:
            fmap = net.forward_features(picture(size))
            torch.testing.assert_close(fmap.mean(dim=(2, 3)), ref[f"effnet_feature_means_{size}"], rtol=1e-4, atol=1e-5)
            torch.testing.assert_close(net.forward_head(fmap), ref[f"effnet_logits_{size}"], rtol=1e-4, atol=1e-4)


def test_loading_the_trunk_imports_no_timm_and_no_sympy():
    """timm brings torchvision; building on the meta device brought sympy (issue 30)."""
    code = (
        "import sys; from avsep.models.visual import build_trunk; build_trunk('efficientnet_lite0'); "
        "loaded = {'timm', 'torchvision', 'sympy'} & set(sys.modules); assert not loaded, loaded"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_building_the_network_leaves_the_random_state_alone():
    """Its throwaway init must not shift what a seeded caller (training) draws next."""
    from avsep.models.effnet_lite import build

    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    build()
    assert torch.equal(torch.rand(3), expected)


def test_a_tail_copy_continues_the_network_from_the_map_before_its_last_stage():
    """forward_features is forward_rest after forward_mid, and a Tail copied from the network
    gives what forward_rest gives: a guide head's own last stage starts as the trunk's."""
    from avsep.models.effnet_lite import Tail

    net = build_trunk("efficientnet_lite0").net
    x = torch.randn(2, 3, 224, 224)
    with torch.no_grad():
        mid = net.forward_mid(x)
        assert mid.shape == (2, 192, 7, 7)
        torch.testing.assert_close(net.forward_rest(mid), net.forward_features(x), rtol=0, atol=0)
        torch.testing.assert_close(Tail.of(net)(mid), net.forward_rest(mid), rtol=1e-5, atol=1e-5)
