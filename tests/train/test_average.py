"""``avsep average``: the parameter mean of checkpoints of one network."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from avsep.errors import InputError
from avsep.models.pcn import PCN, PCNConfig
from avsep.models.serialize import load_checkpoint, save_checkpoint
from avsep.train.average import average_checkpoints
from tests.cli_support import cli, error_line
from tests.train.dataset_fixture import TINY_PCN


def _saved(path: Path, seed: int, visual_dim: int = 11) -> Path:
    torch.manual_seed(seed)
    save_checkpoint(path, PCN(PCNConfig(visual_dim=visual_dim, channels=TINY_PCN, cycles=1)), backbone="resnet18")
    return path


def test_the_average_is_the_mean_of_every_weight(tmp_path: Path):
    paths = [_saved(tmp_path / f"{s}.pt", s) for s in (1, 2, 3)]
    average_checkpoints(paths, tmp_path / "mean.pt")
    got = load_checkpoint(tmp_path / "mean.pt")
    states = [load_checkpoint(p).model.state_dict() for p in paths]
    for key, value in got.model.state_dict().items():
        if value.is_floating_point():
            torch.testing.assert_close(value, sum(s[key] for s in states) / 3)
    assert got.training["averaged_from"] == [str(p) for p in paths]


def test_different_networks_and_a_single_checkpoint_are_refused(tmp_path: Path):
    a, b = _saved(tmp_path / "a.pt", 1), _saved(tmp_path / "b.pt", 2, visual_dim=512)
    with pytest.raises(InputError, match="a different network"):
        average_checkpoints([a, b], tmp_path / "x.pt")
    bad = cli("average", a, "-o", tmp_path / "y.pt", code=2)
    assert "at least two checkpoints" in error_line(bad)
    assert not (tmp_path / "y.pt").exists()
    ok = cli("average", a, a, "-o", tmp_path / "z.pt")
    assert "mean of 2 checkpoints" in ok.output and (tmp_path / "z.pt").is_file()


def test_a_label_model_is_widened_to_average_with_a_label_other_one(tmp_path: Path):
    torch.manual_seed(1)
    label = PCN(PCNConfig(visual_dim=11, channels=TINY_PCN, cycles=1))
    save_checkpoint(tmp_path / "label.pt", label, backbone="resnet18", guide="label")
    torch.manual_seed(2)
    other = PCN(PCNConfig(visual_dim=12, channels=TINY_PCN, cycles=1))
    save_checkpoint(tmp_path / "other.pt", other, backbone="resnet18", guide="label-other")
    average_checkpoints([tmp_path / "label.pt", tmp_path / "other.pt"], tmp_path / "mean.pt")
    got = load_checkpoint(tmp_path / "mean.pt")
    assert got.guide == "label-other" and got.config["visual_dim"] == 12
    w = label.visual.weight.detach()
    widened = torch.cat([w, w.mean(dim=1, keepdim=True)], dim=1)
    torch.testing.assert_close(got.model.visual.weight, (widened + other.visual.weight.detach()) / 2)
