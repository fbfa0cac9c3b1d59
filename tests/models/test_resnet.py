"""avsep's ResNet-18 is torchvision's resnet18, without torchvision."""

from __future__ import annotations

import torch

from avsep.models.resnet import ResNet18
from tests.models.trunk_reference import fill, layout, outputs, picture, state_layout


def test_same_names_and_outputs_as_torchvision():
    """The names and shapes of torchvision's state dict (its ImageNet file loads with
    ``strict=True``), and the logits torchvision's network gave for the same index-made weights
    and input: a wrong padding, pooling or order of layers fails."""
    assert layout(ResNet18()) == state_layout("resnet18")
    with torch.no_grad():
        logits = fill(ResNet18())(picture())
    torch.testing.assert_close(logits, outputs()["resnet18_logits"], rtol=1e-4, atol=1e-4)


def test_a_stage_halves_the_map_and_the_trunk_ends_at_512_channels():
    net = ResNet18().eval()
    with torch.no_grad():
        x = net.maxpool(net.relu(net.bn1(net.conv1(torch.zeros(1, 3, 224, 224)))))
        assert tuple(net.layer4(net.layer3(net.layer2(net.layer1(x)))).shape) == (1, 512, 7, 7)
