from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from avsep.models.pcn import PCN, PCNConfig
from avsep.models.serialize import save_checkpoint
from avsep.train.eval.common import default_realclips
from avsep.train.eval.real import evaluate_real
from avsep.train.eval.synthetic import evaluate
from tests.train.dataset_fixture import TINY_PCN


@pytest.fixture(autouse=True)
def _quiet_untrained_trunk():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


@pytest.fixture(scope="module")
def all_ones_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A PCN whose mask is 1 everywhere: its output is the mixture."""
    model = PCN(PCNConfig(visual_dim=512, channels=TINY_PCN, cycles=1))
    with torch.no_grad():
        model.head.weight.zero_()
        model.head.bias.fill_(20.0)
    path = tmp_path_factory.mktemp("models") / "ones.pt"
    save_checkpoint(path, model, backbone="resnet18")
    return path


def test_evaluate_ceiling_floor_and_identity_mask(dataset: Path, all_ones_model: Path, tmp_path: Path):
    out = tmp_path / "eval.json"
    report = evaluate(
        all_ones_model, dataset / "test.csv", num_mixtures=2, seed=0, device="cpu", json_path=out, progress=False
    )
    res = report["results"]
    assert report["scored_mixtures"] == 2 and report["skipped"]["silent_references"] == 0
    assert res["oracle_ibm"]["sdr"]["mean"] > 10  # tones far apart: the ceiling is high
    # an all-ones mask returns the mixture: same SDR as the floor
    assert res["model"]["sdr"]["mean"] == pytest.approx(res["mixture"]["sdr"]["mean"], abs=0.1)
    assert abs(report["sdri"]["mean"]) < 0.1
    saved = json.loads(out.read_text())
    assert saved["results"]["model"]["sdr"]["count"] == 4 and len(saved["mixtures"]) == 2
    # the same seed gives the same mixtures whatever the model
    # (mixture i depends on the seed and i only, not on the model or on --num-mixtures)
    again = evaluate(all_ones_model, dataset, num_mixtures=1, seed=0, device="cpu", progress=False)
    assert again["mixtures"][0]["sources"] == saved["mixtures"][0]["sources"]


def test_evaluate_real_needs_the_folder(all_ones_model: Path, tmp_path: Path):
    from avsep.errors import InputError

    with pytest.raises(InputError, match="real clips folder not found"):
        evaluate_real(all_ones_model, tmp_path / "nowhere", device="cpu", progress=False)


@pytest.mark.realclips
def test_evaluate_real_on_the_shared_clips(all_ones_model: Path, tmp_path: Path):
    root = default_realclips()
    if not root.is_dir():
        pytest.skip(f"{root} not present: real-clip evaluation not run")
    report = evaluate_real(
        all_ones_model, root, num_pairs=1, device="cpu", progress=False, json_path=tmp_path / "real.json"
    )
    sets = report["sets"]
    assert {"fcsn-2mix", "fcsn-3mix", "clipsep-demo", "duets", "duets-same", "duets-video"} <= set(sets)
    # the identity mask gives back the mixture: no improvement anywhere
    for name, r in sets.items():
        assert r["items"] >= 1, name
        assert abs(r["sdri"]["mean"]) < 0.5, name
    assert sets["duets"]["items"] == 1 and sets["duets"]["outputs"] == 2
    different = [name.split("/")[0] for name in sets["duets"]["details"][0]["pair"]]
    same = [name.split("/")[0] for name in sets["duets-same"]["details"][0]["pair"]]
    assert different[0] != different[1] and same[0] == same[1]
    assert set(sets["duets"]["per_instrument"]) == set(different)
    assert sets["duets-same"]["per_instrument"][same[0]]["sdri"]["count"] == 2
    assert any("3-mix-separation/sample-2" in s for s in report["skipped"])  # no pictures there
    video = sets["duets-video"]["details"][0]
    assert video["pair"][0] == video["pair"][1] and abs(video["start_s"][1] - video["start_s"][0]) >= 6.0
    assert np.isfinite(sets["clipsep-demo"]["sdr"]["mean"])


def test_evaluate_real_reports_a_silent_output_instead_of_failing(tmp_path: Path):
    """A binary mask that rejects every bin gives an all-zero output, which BSS Eval cannot score."""
    import soundfile as sf
    from PIL import Image

    model = PCN(PCNConfig(visual_dim=512, channels=TINY_PCN, cycles=1))
    with torch.no_grad():
        model.head.weight.zero_()
        model.head.bias.fill_(-20.0)  # mask 0 everywhere
    zeros = tmp_path / "zeros.pt"
    save_checkpoint(zeros, model, backbone="resnet18")
    sample = tmp_path / "realclips" / "fcsn" / "2-mix-separation" / "sample-1"
    sample.mkdir(parents=True)
    t = np.arange(22050) / 11025
    tones = [0.1 * np.sin(2 * np.pi * f * t) for f in (440.0, 1320.0)]
    for i, (tone, colour) in enumerate(zip(tones, ("red", "blue")), start=1):
        sf.write(sample / f"audio{i}_groundtruth.wav", tone, 11025)
        Image.new("RGB", (32, 32), colour).save(sample / f"Object_detection_{i}.png")
    sf.write(sample / "audio_mixture.wav", tones[0] + tones[1], 11025)

    report = evaluate_real(zeros, tmp_path / "realclips", sets=("fcsn",), mask="binary", device="cpu", progress=False)
    assert report["sets"]["fcsn-2mix"]["items"] == 0
    assert report["skipped"] == ["fcsn/2-mix-separation/sample-1: model output 1, 2 is silent (not scored)"]
