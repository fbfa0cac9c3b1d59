"""Write the references that avsep's rebuilt trunks are tested against (``tests/models/reference/``).

avsep rebuilds torchvision's ResNet-18 (:mod:`avsep.models.resnet`) and timm's
tf_efficientnet_lite0 (:mod:`avsep.models.effnet_lite`) so that neither package is installed:
their PyPI wheels need PyPI's CUDA build of torch. This script ran once, with torchvision 0.24.1
and timm 1.0.31 installed beside torch 2.9.1 (the project's dependencies before 2026-12-07). It
writes each original network's parameter and buffer names and shapes (in its state dict's
order), its outputs for the weights and input of
``tests/models/trunk_reference.py`` (functions of their index alone, so any torch version
rebuilds them), and timm's ImageNet-1k class descriptions, which the music-class tests read.

    python scripts/make_trunk_references.py     # needs torchvision and timm
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import timm
import torch
from timm.data import ImageNetInfo
from torchvision.models import resnet18

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.models.trunk_reference import REFERENCE, SIZES, fill, picture  # noqa: E402


def main() -> None:
    REFERENCE.mkdir(parents=True, exist_ok=True)
    refs = {}
    res, eff = resnet18(weights=None), timm.create_model("tf_efficientnet_lite0", pretrained=False)
    originals = {"resnet18": res, "tf_efficientnet_lite0": eff}
    layouts = {name: [[k, list(t.shape)] for k, t in net.state_dict().items()] for name, net in originals.items()}
    (REFERENCE / "state_dicts.json").write_text(json.dumps(layouts) + "\n")
    with torch.no_grad():
        refs["resnet18_logits"] = fill(res)(picture())
        fill(eff)
        for size in SIZES:  # 96 pads the stride-2 convolutions unevenly, 97 evenly: both must match
            fmap = eff.forward_features(picture(size))
            refs[f"effnet_feature_means_{size}"] = fmap.mean(dim=(2, 3))
            refs[f"effnet_logits_{size}"] = eff.forward_head(fmap)
    rounded = {k: [[float(f"{v:.7g}") for v in row] for row in t.tolist()] for k, t in refs.items()}
    (REFERENCE / "trunk_outputs.json").write_text(json.dumps(rounded) + "\n")
    info = ImageNetInfo()
    (REFERENCE / "imagenet_descriptions.txt").write_text(
        "".join(info.index_to_description(i) + "\n" for i in range(1000))
    )


if __name__ == "__main__":
    main()
