"""``avsep guide-gain``: a model file that carries a guide gain (its weights unchanged)."""

from __future__ import annotations

from pathlib import Path

import torch

from avsep.models.pcn import PCN, PCNConfig
from avsep.models.serialize import load_checkpoint, save_checkpoint
from avsep.train.average import average_checkpoints
from tests.cli_support import cli, error_line
from tests.train.dataset_fixture import TINY_PCN


def _saved(path: Path) -> Path:
    torch.manual_seed(1)
    save_checkpoint(
        path, PCN(PCNConfig(visual_dim=11, channels=TINY_PCN, cycles=2)), backbone="resnet18", guide="label"
    )
    return path


def test_the_gains_multiply_and_the_weights_stay(tmp_path: Path):
    model = _saved(tmp_path / "m.pt")
    ok = cli("guide-gain", model, "--gain", "3", "-o", tmp_path / "g3.pt")
    assert "guide x3" in ok.output
    cli("guide-gain", tmp_path / "g3.pt", "--gain", "2", "-o", tmp_path / "g6.pt")
    before, after = load_checkpoint(model), load_checkpoint(tmp_path / "g6.pt")
    assert before.guide_gain == 1.0 and after.guide_gain == 6.0
    assert after.weights_sha256 == before.weights_sha256 and after.guide == "label"
    assert after.training["gained_from"] == str(tmp_path / "g3.pt")


def test_models_of_different_gains_are_not_averaged(tmp_path: Path):
    model = _saved(tmp_path / "m.pt")
    cli("guide-gain", model, "--gain", "2", "-o", tmp_path / "g.pt")
    bad = cli("average", model, tmp_path / "g.pt", "-o", tmp_path / "mean.pt", code=2)
    assert "a different network" in error_line(bad)
    average_checkpoints([tmp_path / "g.pt", tmp_path / "g.pt"], tmp_path / "mean.pt")
    assert load_checkpoint(tmp_path / "mean.pt").guide_gain == 2.0


def test_a_gain_of_zero_is_refused_without_writing(tmp_path: Path):
    model = _saved(tmp_path / "m.pt")
    bad = cli("guide-gain", model, "--gain", "0", "-o", tmp_path / "g.pt", code=2)
    assert "give a gain above 0" in error_line(bad)
    assert not (tmp_path / "g.pt").exists()
