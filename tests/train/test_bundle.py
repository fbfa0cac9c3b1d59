"""``avsep bundle``: the shipped file keeps the guide kind; the card lists the data per class."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from avsep.models.serialize import load_checkpoint
from avsep.train.bundle import bundle
from avsep.train.loop import TrainConfig, train
from tests.train.dataset_fixture import TINY_PCN, dataset, feature_cache, single_thread  # noqa: F401 - fixtures


def test_bundle_keeps_the_guide_and_lists_sources_per_class(dataset: Path, feature_cache: Path, tmp_path: Path):
    data = tmp_path / "data"
    shutil.copytree(dataset, data)
    meta = json.loads((data / "meta.json").read_text())
    meta["sources_per_class"] = {
        "low": {"train_minutes": {"recorded": 1.0, "sampled": 0.0, "soundfont": 0.5}, "pictures": {"photo": 2, "drawn": 0}}
    }
    meta["real_material"] = {"licences": {"low": {"recordings": ["CC0"]}}, "picture_licences": {"low": ["PD"]}}
    (data / "meta.json").write_text(json.dumps(meta))
    cfg = TrainConfig(
        index=str(data / "train.csv"), out=str(tmp_path / "run"), backbone="resnet18", features=str(feature_cache),
        channels=TINY_PCN, cycles=1, batch_size=2, steps=1, guide="posterior", progress=False,
    )  # fmt: skip
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
