"""``avsep bundle``: the shipped file is named by the sha256 of its bytes, and its card agrees; it
keeps the guide kind, and the card lists the data per class."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from avsep.errors import AvsepError
from avsep.models.pcn import PCN, PCNConfig
from avsep.models.serialize import load_checkpoint, save_checkpoint
from avsep.models.weights import bundled_models
from avsep.train.bundle import bundle, data_sources
from avsep.train.loop import TrainConfig, train
from tests.train.dataset_fixture import TINY_PCN

TINY = PCNConfig(visual_dim=12, channels=(4, 4, 8, 8, 8, 8, 8), cycles=2)


@pytest.fixture
def run_checkpoint(tmp_path: Path) -> Path:
    """A training checkpoint, with the optimizer state that bundling leaves out."""
    path = tmp_path / "runs" / "best.pt"
    save_checkpoint(
        path, PCN(TINY), backbone="resnet18", training={"steps": 5}, extra={"optimizer": {"lr": 0.1}}, guide_gain=4.0
    )
    return path


def test_bundle_names_the_file_by_its_sha256_and_the_card_agrees(run_checkpoint, tmp_path):
    report = tmp_path / "eval.json"
    report.write_text(json.dumps({"sdr": 1.5, "mixtures": [1, 2, 3]}))
    folder = tmp_path / "weights"
    model, card_path = bundle(
        run_checkpoint, folder, "avsep-pcn", evaluations={"test": report}, notes={"intended_use": "x"}
    )

    digest = hashlib.sha256(model.read_bytes()).hexdigest()
    assert model.name == f"avsep-pcn-{digest[:8]}.pt"
    card = json.loads(card_path.read_text())
    ck = load_checkpoint(model)
    assert card["file"] == model.name and card["sha256"] == digest == ck.sha256
    assert card["weights_sha256"] == ck.weights_sha256 == load_checkpoint(run_checkpoint).weights_sha256
    assert card["file_bytes"] == model.stat().st_size and card["parameters"] == ck.parameters
    assert card["evaluation"] == {"test": {"sdr": 1.5}} and card["intended_use"] == "x"
    assert ck.extra == {} and model.stat().st_size < run_checkpoint.stat().st_size
    assert card["guide_gain"] == ck.guide_gain == 4.0  # the gain chosen for these weights ships with them
    assert [m.path for m in bundled_models(folder)] == [model]


def test_a_report_list_of_one_model_is_embedded_and_of_several_refused(run_checkpoint, tmp_path):
    """evaluate-stems writes a list, one report per model scored: the card takes this model's alone."""
    one, two = tmp_path / "one.json", tmp_path / "two.json"
    one.write_text(json.dumps([{"sdr": 2.0, "mixtures": [1]}]))
    two.write_text(json.dumps([{"sdr": 2.0}, {"sdr": 3.0}]))
    _, card_path = bundle(run_checkpoint, tmp_path / "weights", "avsep-pcn", evaluations={"stems": one})
    assert json.loads(card_path.read_text())["evaluation"] == {"stems": {"sdr": 2.0}}
    with pytest.raises(AvsepError, match="reports of 2 models"):
        bundle(run_checkpoint, tmp_path / "other", "avsep-pcn", evaluations={"stems": two})


def test_bundle_replaces_only_the_same_name_and_only_once_it_is_complete(run_checkpoint, tmp_path):
    folder = tmp_path / "weights"
    folder.mkdir()
    old = folder / "avsep-pcn-00000000.pt"
    other = folder / "avsep-pcn-large-12345678.pt"  # another model whose name starts alike
    for f in (old, other):
        f.write_bytes(b"old")
    with pytest.raises(AvsepError, match="cannot read evaluation report"):
        bundle(run_checkpoint, folder, "avsep-pcn", evaluations={"test": tmp_path / "missing.json"})
    assert sorted(p.name for p in folder.iterdir()) == sorted([other.name, old.name])

    model, card = bundle(run_checkpoint, folder, "avsep-pcn")
    assert sorted(p.name for p in folder.iterdir()) == sorted([other.name, model.name, card.name])


def test_bundle_keeps_the_guide_and_lists_sources_per_class(dataset: Path, feature_cache: Path, tmp_path: Path):
    data = tmp_path / "data"
    shutil.copytree(dataset, data)
    meta = json.loads((data / "meta.json").read_text())
    meta["sources_per_class"] = {
        "low": {
            "train_minutes": {"recorded": 1.0, "sampled": 0.0, "soundfont": 0.5},
            "pictures": {"photo": 2, "drawn": 0},
        }
    }
    meta["real_material"] = {"licences": {"low": {"recordings": ["CC0"]}}, "picture_licences": {"low": ["PD"]}}
    (data / "meta.json").write_text(json.dumps(meta))
    cfg = TrainConfig(
        index=str(data / "train.csv"),
        out=str(tmp_path / "run"),
        backbone="resnet18",
        features=str(feature_cache),
        channels=TINY_PCN,
        cycles=1,
        batch_size=2,
        steps=1,
        guide="posterior",
        progress=False,
    )
    summary = train(cfg)
    model, card = bundle(Path(summary["last"]), tmp_path / "weights", "test-model")
    assert load_checkpoint(model).guide == "posterior"
    card = json.loads(card.read_text())
    assert card["guide"] == "posterior"
    assert card["data_sources"]["low"] == {
        "train_minutes": {"recorded": 1.0, "sampled": 0.0, "soundfont": 0.5},
        "clips_with_pictures": {"photo": 2, "drawn": 0},
        "audio_terms": {"recordings": ["CC0"]},
        "picture_terms": ["PD"],
    }


def test_a_card_lists_the_sources_of_every_dataset_an_index_joins(tmp_path: Path):
    for name, cls in (("eleven", "violin"), ("outside", "other")):
        meta = {"sources_per_class": {cls: {"train_minutes": {"recorded": 2.0}, "pictures": {"photo": 1}}}}
        meta["real_material"] = {"licences": {cls: {"recordings": [f"{name} terms"]}}}
        (tmp_path / name).mkdir()
        (tmp_path / name / "meta.json").write_text(json.dumps(meta))
    joined = tmp_path / "joined"
    joined.mkdir()
    (joined / "train.csv").write_text(
        "../eleven/audio/violin/a.wav,../eleven/frames/violin/a,12\n../outside/audio/other/b.wav,../outside/frames/other/b,12\n"
    )
    sources = data_sources({"data": {"train_index": str(joined / "train.csv")}})
    assert sorted(sources) == ["other", "violin"]
    assert sources["other"]["audio_terms"] == {"recordings": ["outside terms"]}
    assert data_sources({"data": {"train_index": str(tmp_path / "missing.csv")}}) is None
