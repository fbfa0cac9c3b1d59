"""``avsep guide-gain``: a model file that carries a guide gain (its weights unchanged)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from avsep.models.pcn import PCN, PCNConfig
from avsep.models.serialize import load_checkpoint, save_checkpoint
from avsep.models.sop import SoP, SoPConfig
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
    assert "guide gain 3," in ok.output
    assert "guide gain 6," in cli("guide-gain", tmp_path / "g3.pt", "--gain", "2", "-o", tmp_path / "g6.pt").output
    before, after = load_checkpoint(model), load_checkpoint(tmp_path / "g6.pt")
    assert before.guide_gain == 1.0 and after.guide_gain == 6.0
    assert after.weights_sha256 == before.weights_sha256 and after.guide == "label"
    assert after.training["gained_from"] == str(tmp_path / "g3.pt")


def test_models_of_different_gains_are_not_averaged(tmp_path: Path):
    model = _saved(tmp_path / "m.pt")
    cli("guide-gain", model, "--gain", "2", "-o", tmp_path / "g.pt")
    bad = cli("average", model, tmp_path / "g.pt", "-o", tmp_path / "mean.pt", code=2)
    assert "guide gain 2" in error_line(bad) and "then give the mean one with avsep guide-gain" in error_line(bad)
    average_checkpoints([tmp_path / "g.pt", tmp_path / "g.pt"], tmp_path / "mean.pt")
    assert load_checkpoint(tmp_path / "mean.pt").guide_gain == 2.0


@pytest.mark.parametrize("gain", ["0", "-2", "inf", "nan"])
def test_a_gain_that_is_not_finite_and_positive_is_refused_without_writing(tmp_path: Path, gain: str):
    model = _saved(tmp_path / "m.pt")
    bad = cli("guide-gain", model, "--gain", gain, "-o", tmp_path / "g.pt", code=2)
    assert "give a finite gain above 0" in error_line(bad)
    assert not (tmp_path / "g.pt").exists()
    unread = cli("guide-gain", tmp_path / "nowhere.pt", "--gain", gain, "-o", tmp_path / "g.pt", code=2)
    assert "give a finite gain above 0" in error_line(unread)  # said before the file is read


def test_only_a_pcn_takes_a_gain_and_an_old_file_has_none(tmp_path: Path):
    sop = tmp_path / "sop.pt"
    save_checkpoint(sop, SoP(SoPConfig(visual_dim=11, ngf=4, k=8)), backbone="resnet18", guide="label")
    bad = cli("guide-gain", sop, "--gain", "2", "-o", tmp_path / "g.pt", code=2)
    assert "applies to PCN models" in error_line(bad) and not (tmp_path / "g.pt").exists()
    model = _saved(tmp_path / "m.pt")
    payload = torch.load(model, weights_only=True)
    del payload["guide_gain"]  # a file written before the field existed
    torch.save(payload, tmp_path / "old.pt")
    assert load_checkpoint(tmp_path / "old.pt").guide_gain == 1.0
