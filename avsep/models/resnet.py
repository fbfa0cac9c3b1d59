"""ResNet-18 as torchvision's ``resnet18``, without importing torchvision.

torchvision's PyPI wheels are built against PyPI's CUDA torch and do not load beside a CPU
build of torch, which the project installs where it can: the CUDA build's libraries alone held
about 290 MB of a separation's resident memory on the 2-core machine (issue 30). ResNet-18 is
the project's original trunk (the method's; old models and ``--trunk resnet18`` use it), so it
is kept here with torchvision's module and parameter names (``conv1``, ``bn1``,
``layer1.0.conv1``, ``layer2.0.downsample.0`` ... ``fc``): torchvision's ImageNet file loads
into it with ``strict=True`` and gives the same outputs (``tests/models/test_resnet.py``).
"""

from __future__ import annotations

from torch import Tensor, nn

#: Output channels of the four stages; each stage but the first halves the map.
WIDTHS = (64, 128, 256, 512)
CLASSES = 1000


class BasicBlock(nn.Module):
    """Two 3x3 convolutions and a shortcut (a strided 1x1 convolution where the shape changes)."""

    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x: Tensor) -> Tensor:
        shortcut = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        return self.relu(self.bn2(self.conv2(out)) + shortcut)


class ResNet18(nn.Module):
    """The network: stem (7x7 convolution, max pool), four stages of two blocks, average pool
    and the ImageNet-1k classifier, initialised as torchvision initialises it."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, WIDTHS[0], 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(WIDTHS[0])
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        cin = WIDTHS[0]
        for i, width in enumerate(WIDTHS):
            stride = 1 if i == 0 else 2
            setattr(self, f"layer{i + 1}", nn.Sequential(BasicBlock(cin, width, stride), BasicBlock(width, width, 1)))
            cin = width
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(WIDTHS[-1], CLASSES)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x: Tensor) -> Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(self.avgpool(x).flatten(1))
