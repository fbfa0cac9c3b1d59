from __future__ import annotations

import dataclasses
import json
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from avsep.errors import InputError
from avsep.models.guide import LABELS, guide_dim
from avsep.models.serialize import load_checkpoint
from avsep.train.data import MixDataset
from avsep.train.eval import stems
from avsep.train.features import FeatureCache
from avsep.train.index import read_index
from avsep.train.loop import TrainConfig, build_network, train
from avsep.train.loss import mask_loss
from avsep.train.trainer import lr_at
from tests.train.dataset_fixture import TINY_PCN
from tests.train.real_material import write_stems_tree


@pytest.fixture(autouse=True)
def _quiet_untrained_trunk():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def tiny(dataset: Path, feature_cache: Path, out: Path, **kw) -> TrainConfig:
    base = dict(
        index=str(dataset),
        out=str(out),
        backbone="resnet18",
        features=str(feature_cache),
        channels=TINY_PCN,
        cycles=2,
        batch_size=2,
        steps=4,
        lr=3e-3,
        warmup=1,
        val_mixtures=1,
        progress=False,
    )
    base.update(kw)
    return TrainConfig(**base)


def test_loss_decreases_on_a_repeated_batch(dataset: Path, feature_cache: Path):
    ds = MixDataset(read_index(dataset / "train.csv"), seed=0, feature_cache=FeatureCache(feature_cache))
    batch = {k: torch.stack([ds[i][k] for i in range(2)]) for k in ("audio", "visual")}
    torch.manual_seed(0)  # best of the last 4 / first loss, seeds 0..2: 0.22, 0.15, 0.16
    model = build_network(TrainConfig(channels=TINY_PCN, cycles=2), 512)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(12):
        loss, logits = mask_loss(model, batch["audio"], batch["visual"])
        assert logits.shape == (2, 2, 256, 256)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss))
    assert min(losses[-4:]) < 0.5 * losses[0]


def test_training_writes_checkpoints_the_separator_loads(dataset: Path, feature_cache: Path, tmp_path: Path):
    from avsep.separation.separator import Separator

    summary = train(tiny(dataset, feature_cache, tmp_path / "run"))
    assert summary["steps"] == 4 and summary["steps_per_s"] > 0
    assert Path(summary["last"]).is_file() and Path(summary["best"]).is_file()
    ck = load_checkpoint(summary["last"])
    assert ck.arch == "pcn" and ck.backbone == "resnet18"
    assert ck.training["steps"] == 4 and ck.training["data"]["num_mix"] == 2
    assert {"optimizer", "step", "rng", "best", "config"} <= set(ck.extra)
    lines = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    assert any("val" in line for line in lines) and any("loss" in line for line in lines)
    sep = Separator(summary["best"], device="cpu")
    audio = torch.randn(1, 65535).numpy() * 0.1
    out = sep.separate_windows(audio, torch.randn(1, 2, 512))
    assert out.shape == (1, 2, 65535)


def test_resume_is_exact(dataset: Path, feature_cache: Path, tmp_path: Path):
    straight = train(tiny(dataset, feature_cache, tmp_path / "a"))
    first = train(tiny(dataset, feature_cache, tmp_path / "b", stop_after=2))
    assert first["steps"] == 2
    resumed = train(TrainConfig(resume=str(tmp_path / "b" / "last.pt"), progress=False))
    assert resumed["steps"] == 4 and resumed["steps_this_run"] == 2
    a = load_checkpoint(straight["last"]).model.state_dict()
    b = load_checkpoint(resumed["last"]).model.state_dict()
    assert max((a[k] - b[k]).abs().max().item() for k in a) <= 1e-6
    oa = load_checkpoint(straight["last"]).extra["optimizer"]["state"]
    ob = load_checkpoint(resumed["last"]).extra["optimizer"]["state"]
    assert all(torch.allclose(oa[k]["exp_avg_sq"], ob[k]["exp_avg_sq"], atol=1e-9) for k in oa)


def test_trainer_methods_compose_to_the_same_run(dataset: Path, feature_cache: Path, tmp_path: Path):
    """setup() + Trainer.step/validate/save by hand give the weights train() gives."""
    from avsep.train.loop import setup
    from avsep.train.steps import StepSampler
    from avsep.train.trainer import _collate

    whole = train(tiny(dataset, feature_cache, tmp_path / "whole"))
    trainer = setup(tiny(dataset, feature_cache, tmp_path / "by-hand"))
    assert trainer.step_count == 0 and trainer.data.total == 4
    trainer._log = (tmp_path / "by-hand" / "log.jsonl").open("a")
    ds = trainer.data.train_ds
    for keys in StepSampler(len(ds), 2, 0, 4):
        assert trainer.step(_collate([ds[k] for k in keys])) > 0
    val = trainer.validate()
    trainer._log.close()
    trainer.save(tmp_path / "by-hand" / "last.pt")
    assert val["step"] == 4 and trainer.summary()["steps"] == 4
    a = load_checkpoint(whole["last"]).model.state_dict()
    b = load_checkpoint(tmp_path / "by-hand" / "last.pt").model.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_resume_is_exact_with_the_new_recipe(dataset: Path, feature_cache: Path, tmp_path: Path):
    """Posterior guide, the whole soundtrack chain, short crops and bf16 autocast: the run
    records them, resumes exactly (the augmentation is seeded per item) and loads."""
    kw = dict(guide="posterior", augment=("rooms", "mic", "noise", "codec"), crop_samples=32767, amp=True)
    straight = train(tiny(dataset, feature_cache, tmp_path / "a", **kw))
    train(tiny(dataset, feature_cache, tmp_path / "b", stop_after=2, **kw))
    resumed = train(TrainConfig(resume=str(tmp_path / "b" / "last.pt"), progress=False))
    a = load_checkpoint(straight["last"])
    b = load_checkpoint(resumed["last"])
    assert a.guide == "posterior" and a.model.config.visual_dim == guide_dim("posterior", 512)
    assert (
        max((a.model.state_dict()[k] - b.model.state_dict()[k]).abs().max().item() for k in a.model.state_dict())
        <= 1e-6
    )
    data = a.training["data"]
    assert data["augment"] == ["rooms", "mic", "noise", "codec"] and data["crop_samples"] == 32767
    assert a.training["config"]["amp"] is True


@pytest.fixture(scope="module")
def named(dataset: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture dataset with its classes renamed to instruments, so a label guide takes it."""
    named = tmp_path_factory.mktemp("named")
    rename = {"low": "cello", "mid": "flute", "high": "violin"}
    for split in ("train", "val", "test"):
        rows = (dataset / f"{split}.csv").read_text().splitlines()
        fixed = []
        for row in rows:
            audio, frames, count = row.split(",")
            cls = Path(audio).parent.name
            new_audio = named / "audio" / rename[cls] / Path(audio).name
            new_audio.parent.mkdir(parents=True, exist_ok=True)
            new_audio.write_bytes((dataset / audio).read_bytes())
            fixed.append(f"{new_audio},{dataset / frames},{count}")
        (named / f"{split}.csv").write_text("\n".join(fixed) + "\n")
    (named / "meta.json").write_text((dataset / "meta.json").read_text())
    return named


def test_label_guided_oracle_trains_without_pictures(dataset: Path, named: Path, tmp_path: Path):
    with pytest.raises(InputError, match="label guide.*low"):  # the fixture's classes are no instruments
        train(tiny(dataset, None, tmp_path / "oracle", features=None, guide="label", steps=2))
    summary = train(tiny(named, None, tmp_path / "oracle", features=None, guide="label", steps=2))
    ck = load_checkpoint(summary["last"])
    assert ck.guide == "label" and ck.model.config.visual_dim == len(LABELS)


def test_soft_label_guides_keep_the_true_class_first_and_reach_training(named: Path, tmp_path: Path):
    """--guide-soften: the chosen rows are soft (true class 0.5..1, largest, rows sum to 1), the
    others stay one-hot; the training items carry them, and the run records the share."""
    from avsep.train.data import soften_guides
    from avsep.train.loop import setup

    onehot = torch.eye(len(LABELS))
    soft = soften_guides(onehot, 1.0, np.random.default_rng(3))
    assert torch.equal(soft.argmax(1), onehot.argmax(1)) and not torch.equal(soft, onehot)
    torch.testing.assert_close(soft.sum(1), torch.ones(len(LABELS)))
    assert ((soft.max(1).values >= 0.5) & (soft.max(1).values <= 1.0)).all()
    assert torch.equal(soften_guides(onehot, 0.0, np.random.default_rng(3)), onehot)
    trainer = setup(tiny(named, None, tmp_path / "soft", features=None, guide="label", guide_soften=1.0))
    visual = trainer.data.train_ds[0]["visual"]
    assert (visual.max(1).values < 1.0).all()
    plain = setup(tiny(named, None, tmp_path / "plain", features=None, guide="label"))
    assert torch.equal(plain.data.train_ds[0]["visual"].argmax(1), visual.argmax(1))
    assert (plain.data.train_ds[0]["visual"].max(1).values == 1.0).all()
    half = soften_guides(torch.eye(len(LABELS)).repeat(20, 1), 0.5, np.random.default_rng(5))
    kept = int((half.max(1).values == 1.0).sum())
    assert 0.3 * len(half) < kept < 0.7 * len(half)  # the rest of a share stays one-hot
    summary = train(tiny(named, None, tmp_path / "soft", features=None, guide="label", guide_soften=1.0, steps=1))
    assert summary["data"]["guide_soften"] == 1.0
    with pytest.raises(InputError, match="--guide-soften"):
        setup(tiny(named, None, tmp_path / "x", features=None, guide="label", guide_soften=1.5))


def test_retune_reaches_the_training_data_only_and_is_a_range(named: Path, tmp_path: Path):
    from avsep.train.loop import setup

    run = setup(tiny(named, None, tmp_path / "retune", features=None, guide="label", retune=1.5))
    assert run.data.train_ds.retune == 1.5 and run.data.val_ds.retune == 0.0  # validation as recorded
    with pytest.raises(InputError, match="--retune is a range in semitones"):
        setup(tiny(named, None, tmp_path / "x", features=None, guide="label", retune=-1.0))


def test_coherent_reaches_the_dataset_and_needs_ensembles(named: Path, tmp_path: Path):
    from avsep.train.index import read_index, write_index
    from avsep.train.loop import setup

    with pytest.raises(InputError, match="has none"):
        setup(tiny(named, None, tmp_path / "x", features=None, guide="label", coherent=0.5))
    clips = read_index(named / "train.csv").clips
    clips[:2] = [dataclasses.replace(c, group="ens-00000") for c in clips[:2]]
    grouped = tmp_path / "grouped"
    grouped.mkdir()
    write_index(grouped / "train.csv", clips)
    (grouped / "meta.json").write_text((named / "meta.json").read_text())
    trainer = setup(tiny(grouped, None, tmp_path / "c", features=None, guide="label", coherent=0.5))
    assert trainer.data.train_ds.coherent == 0.5
    with pytest.raises(InputError, match="--coherent"):
        setup(tiny(named, None, tmp_path / "y", features=None, guide="label", coherent=2.0))


def test_outside_parts_train_beside_plain_items_and_are_range_checked(named: Path, tmp_path: Path):
    """Half the items with an outside part: batches mixing both kinds collate and train; the
    share reaches the dataset and the summary."""
    summary = train(tiny(named, None, tmp_path / "o", features=None, guide="label", outside=0.5, steps=2))
    assert summary["data"]["outside"] == 0.5
    with pytest.raises(InputError, match="--outside"):
        train(tiny(named, None, tmp_path / "z", features=None, guide="label", outside=-0.1))


def test_classes_without_a_label_guide_play_outside_parts_only(dataset: Path, named: Path, tmp_path: Path):
    from avsep.train.loop import setup

    mixed = tmp_path / "mixed"
    mixed.mkdir()
    lows = [r for r in (dataset / "train.csv").read_text().splitlines() if "/low/" in r]
    rows = (named / "train.csv").read_text().splitlines() + [
        ",".join([str(dataset / a), str(dataset / f), n]) for a, f, n in (r.split(",") for r in lows)
    ]
    (mixed / "train.csv").write_text("\n".join(rows) + "\n")
    (mixed / "meta.json").write_text((named / "meta.json").read_text())
    with pytest.raises(InputError, match="no label guide for the class\\(es\\) low.*--outside"):
        setup(tiny(mixed, None, tmp_path / "x", features=None, guide="label", val_index=None))
    ds = setup(
        tiny(mixed, None, tmp_path / "o", features=None, guide="label", outside=0.5, val_index=None)
    ).data.train_ds
    plans = [ds.plan((0, i)) for i in range(len(ds))]
    labels = [[ds.index.clips[c].label for c in p.clips] for p in plans]
    assert {p.outside for p in plans} == {0, 1}
    mixed_val = str(mixed / "train.csv")  # a validation part is always guided: refused before any step
    with pytest.raises(InputError, match="no label guide for the class\\(es\\) low; --guide label knows [^(]*$"):
        setup(tiny(mixed, None, tmp_path / "v", features=None, guide="label", outside=0.5, val_index=mixed_val))
    for plan, lab in zip(plans, labels):  # low clips neither lead nor partner; every outside part is one
        assert "low" not in lab[: len(lab) - plan.outside] and (not plan.outside or lab[-1] == "low")


def test_a_label_model_widens_into_a_label_other_run(named: Path, tmp_path: Path):
    from avsep.train.loop import setup

    first = train(tiny(named, None, tmp_path / "label", features=None, guide="label", steps=1))
    source = load_checkpoint(first["last"]).model.state_dict()
    trainer = setup(tiny(named, None, tmp_path / "other", features=None, guide="label-other", init=first["last"]))
    mine = trainer.model.state_dict()
    w = source["visual.weight"]
    torch.testing.assert_close(mine["visual.weight"][:, : len(LABELS)], w)
    torch.testing.assert_close(mine["visual.weight"][:, -1], w.mean(dim=1))  # other starts as the average class
    assert all(torch.equal(mine[k], source[k]) for k in source if k != "visual.weight")
    with pytest.raises(InputError, match="--init"):  # the other way round is not a widening
        setup(tiny(named, None, tmp_path / "back", features=None, guide="label", init=trainer_file(trainer, tmp_path)))


def test_learning_only_other_leaves_the_11_bit_for_bit(named: Path, tmp_path: Path):
    first = train(tiny(named, None, tmp_path / "label", features=None, guide="label", steps=1))
    joined = tmp_path / "joined"  # the violins play "other" here
    for split in ("train", "val"):
        rows = []
        for row in (named / f"{split}.csv").read_text().splitlines():
            audio, rest = row.split(",", 1)
            if "/violin/" in audio:
                moved = joined / "audio" / "other" / Path(audio).name
                moved.parent.mkdir(parents=True, exist_ok=True)
                moved.write_bytes(Path(audio).read_bytes())
                audio = str(moved)
            rows.append(f"{audio},{rest}")
        (joined / f"{split}.csv").write_text("\n".join(rows) + "\n")
    config = tiny(joined, None, tmp_path / "other", features=None, guide="label-other", init=first["last"])
    summary = train(dataclasses.replace(config, learn="other", steps=3, lr=0.1))
    before = load_checkpoint(first["last"]).model.state_dict()
    after = load_checkpoint(summary["last"]).model.state_dict()
    assert all(torch.equal(after[k], before[k]) for k in before if k != "visual.weight")
    assert torch.equal(after["visual.weight"][:, : len(LABELS)], before["visual.weight"])
    assert not torch.equal(after["visual.weight"][:, -1], before["visual.weight"].mean(dim=1))  # it learned
    with pytest.raises(InputError, match="--learn other"):
        train(dataclasses.replace(config, learn="other", guide="label", init=None))


def trainer_file(trainer, tmp_path: Path) -> Path:
    """The trainer's network saved as a model file."""
    from avsep.models.serialize import save_checkpoint

    path = tmp_path / "widened.pt"
    save_checkpoint(path, trainer.model, backbone="resnet18", guide="label-other")
    return path


def test_a_label_run_validates_on_real_ensembles(named: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    tree = write_stems_tree(tmp_path / "stems", seconds=7.0)  # one window a piece
    monkeypatch.setattr(stems, "default_stems", lambda: tree)
    with pytest.raises(InputError, match="real-stems guides each part by its class"):
        train(tiny(named, None, tmp_path / "x", features=None, val_index=stems.VAL_NAME, steps=1))
    config = tiny(named, None, tmp_path / "run", features=None, guide="label", val_index=stems.VAL_NAME, steps=2)
    summary = train(dataclasses.replace(config, mix_sizes=(2, 3), keep_every=1))
    vals = [
        json.loads(line)["val"] for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines() if "val" in line
    ]
    assert vals and all(v["scored"] == 8 * 2 for v in vals)  # 8 val pieces, 2 known parts each, both scored
    assert summary["best_step"] is not None
    assert sorted(p.name for p in (tmp_path / "run").glob("step*.pt")) == ["step1.pt", "step2.pt"]


def test_a_resumed_run_from_before_class_weights_keeps_its_plain_loss():
    """A checkpoint whose config predates --class-weight trained with none: resuming it with
    the flag says the flag is ignored, by the flag's own name, and keeps the plain loss."""
    from avsep.train.config import DEFAULTS, merge_resume

    stored = {k: v for k, v in DEFAULTS.to_dict().items() if k != "class_weights"}
    notes: list[str] = []
    merged = merge_resume(dataclasses.replace(DEFAULTS, class_weights="violin=2"), stored, notes)
    assert merged.class_weights == "" and any(n.startswith("--class-weight violin=2 ignored") for n in notes)


def test_a_label_run_weighs_its_sources_by_class(named: Path, tmp_path: Path):
    """--class-weight reaches the update and the run's config: every class weighing 3, the same
    seed and batch give three times the first step's loss."""
    from avsep.models.guide import LABELS

    config = tiny(named, None, tmp_path / "plain", features=None, guide="label", steps=1)
    plain = train(config)
    every = ",".join(f"{name}=3" for name in LABELS)
    weighted = train(dataclasses.replace(config, out=str(tmp_path / "weighted"), class_weights=every))
    assert weighted["final_loss"] == pytest.approx(3 * plain["final_loss"], rel=1e-4)
    assert json.loads((tmp_path / "weighted" / "config.json").read_text())["class_weights"] == every


def _two_tones() -> tuple[torch.nn.Module, torch.Tensor, torch.Tensor]:
    """A tiny untrained network, two tones as the sources of one mixture, and random guides."""
    torch.manual_seed(0)
    model = build_network(TrainConfig(channels=TINY_PCN, cycles=1), 4)
    t = torch.arange(65535) / 11025
    audio = torch.stack([torch.sin(2 * torch.pi * 440 * t), torch.sin(2 * torch.pi * 3000 * t)])[None] * 0.1
    return model, audio, torch.randn(1, 2, 4)


def test_mixture_with_noise_changes_the_targets_not_the_sources():
    model, audio, visual = _two_tones()
    clean, _ = mask_loss(model, audio, visual)
    noisy, _ = mask_loss(model, audio, visual, mixture=audio.sum(1) + 0.2 * torch.randn(1, 65535))
    assert not torch.isclose(clean, noisy)


def test_shared_loss_scores_the_ratio_shares_inference_uses():
    """The shared term (BCE of the ratio shares separating uses) is off by default and adds to
    the plain loss when asked."""
    model, audio, visual = _two_tones()
    plain, _ = mask_loss(model, audio, visual)
    again, _ = mask_loss(model, audio, visual, shared=0.0)
    both, _ = mask_loss(model, audio, visual, shared=1.0)
    assert torch.equal(plain, again) and both > plain


def test_class_weights_weigh_each_source_by_its_label():
    """--class-weight: a named class's sources count that many times in the loss (a softened
    guide as its classes mix), the others once; all 1 is the plain loss."""
    from avsep.models.guide import LABELS, label_guide
    from avsep.train.loss import class_source_weights, class_weight_vector

    vector = class_weight_vector("saxophone=2, tuba=0.5", "label")
    assert vector.shape == (len(LABELS),) and vector.sum() == len(LABELS) - 2 + 2.5
    guides = label_guide(["saxophone", "violin"])[None]  # [1, 2, 11]
    assert class_source_weights(guides, vector).tolist() == [[2.0, 1.0]]
    soft = 0.5 * (label_guide(["saxophone"]) + label_guide(["tuba"]))[None]
    assert class_source_weights(12 * soft, vector).tolist() == [[1.25]]  # a guide gain changes nothing
    assert class_source_weights(torch.zeros(1, 1, len(LABELS)), vector).tolist() == [[1.0]]
    assert class_weight_vector("", "label") is None
    for bad in ("saxophone", "saxophone=0", "bagpipes=2", "tuba=x", "tuba=inf", "tuba=2,tuba=3"):
        with pytest.raises(InputError, match="--class-weight"):
            class_weight_vector(bad, "label")
    with pytest.raises(InputError, match="label"):
        class_weight_vector("tuba=2", "features")
    model, audio, visual = _two_tones()
    plain, _ = mask_loss(model, audio, visual)
    ones, _ = mask_loss(model, audio, visual, source_weights=torch.ones(1, 2))
    doubled, _ = mask_loss(model, audio, visual, source_weights=torch.full((1, 2), 2.0))
    first, _ = mask_loss(model, audio, visual, source_weights=torch.tensor([[2.0, 1.0]]))
    assert torch.equal(plain, ones) and torch.isclose(doubled, 2 * plain) and plain < first < doubled


def test_a_run_with_the_shared_loss_trains_on_it(dataset: Path, feature_cache: Path, tmp_path: Path):
    """--shared-loss reaches the update: the same seed and data, a different loss."""
    plain = train(tiny(dataset, feature_cache, tmp_path / "plain", steps=2))
    shared = train(tiny(dataset, feature_cache, tmp_path / "shared", steps=2, shared_loss=1.0))
    assert shared["final_loss"] > plain["final_loss"]
    assert json.loads((tmp_path / "shared" / "config.json").read_text())["shared_loss"] == 1.0


def _zero_dim_tensors_hash() -> bool:
    from avsep.models.serialize import weights_sha256

    try:
        weights_sha256({"n": torch.tensor(1)})  # BatchNorm's num_batches_tracked is 0-dim int64
    except RuntimeError:
        return False
    return True


@pytest.mark.skipif(
    not _zero_dim_tensors_hash(),
    reason="avsep.models.serialize.weights_sha256 cannot hash 0-dim tensors (SoP's BatchNorm "
    "num_batches_tracked): t.view(torch.uint8) needs t.reshape(-1) first",
)
def test_sop_trains(dataset: Path, feature_cache: Path, tmp_path: Path):
    summary = train(tiny(dataset, feature_cache, tmp_path / "sop", arch="sop", ngf=4, steps=1))
    assert load_checkpoint(summary["last"]).arch == "sop"


def test_training_from_frames_without_a_cache(dataset: Path, tmp_path: Path):
    cfg = TrainConfig(
        index=str(dataset / "train.csv"),
        out=str(tmp_path / "frames"),
        backbone="resnet18",
        channels=TINY_PCN,
        cycles=1,
        batch_size=1,
        steps=1,
        progress=False,
    )
    summary = train(cfg)
    assert summary["best"] is None  # a CSV (not a folder) and no val_index: no validation
    assert summary["data"]["features"] is None and Path(summary["last"]).is_file()


def test_schedule_warms_up_then_decays():
    lrs = [lr_at(s, 100, 1.0, "cosine", 10) for s in range(100)]
    assert lrs[0] == pytest.approx(0.1) and lrs[9] == pytest.approx(1.0)
    assert all(a >= b for a, b in zip(lrs[9:], lrs[10:])) and lrs[-1] < 0.05
    assert lr_at(80, 100, 1.0, "step", 0) == pytest.approx(0.01)


def test_bad_configs_are_input_errors(dataset: Path, feature_cache: Path, tmp_path: Path):
    with pytest.raises(InputError, match="exactly one of --steps or --epochs"):
        train(tiny(dataset, feature_cache, tmp_path / "x", epochs=1))
    with pytest.raises(InputError, match="features of resnet18"):
        train(tiny(dataset, feature_cache, tmp_path / "x", backbone="efficientnet_lite0"))
    with pytest.raises(InputError, match="--guide"):
        train(tiny(dataset, feature_cache, tmp_path / "x", guide="colour"))
    with pytest.raises(InputError, match="--crop-samples"):
        train(tiny(dataset, feature_cache, tmp_path / "x", crop_samples=1000))
    with pytest.raises(InputError, match="--finetune-visual"):
        train(tiny(dataset, feature_cache, tmp_path / "x", guide="posterior", finetune_visual=True))
    with pytest.raises(InputError, match="7 positive"):
        train(tiny(dataset, feature_cache, tmp_path / "x", channels=(4, 4)))
    with pytest.raises(InputError, match="--shared-loss"):
        train(tiny(dataset, feature_cache, tmp_path / "x", shared_loss=-1.0))
    with pytest.raises(InputError, match="--class-weight"):
        train(tiny(dataset, feature_cache, tmp_path / "x", class_weights="violin=2"))  # a features guide


def test_cli_commands_register_and_report_errors_in_one_line(dataset: Path, feature_cache: Path, tmp_path: Path):
    import typer
    from typer.testing import CliRunner

    from avsep.cli.train import register

    app = typer.Typer()
    register(app)

    @app.command("noop")
    def _noop() -> None:  # a second command keeps typer from collapsing the group
        pass

    runner = CliRunner()
    args = [
        "train",
        "--index",
        str(dataset),
        "-o",
        str(tmp_path / "cli"),
        "--backbone",
        "resnet18",
        "--features",
        str(feature_cache),
        "--channels",
        ",".join(map(str, TINY_PCN)),
        "--cycles",
        "2",
        "--batch-size",
        "2",
        "--steps",
        "2",
        "--val-mixtures",
        "2",
        "-q",
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "trained 2 steps" in result.output
    assert load_checkpoint(tmp_path / "cli" / "last.pt").training["command"].startswith("avsep ")
    bad = runner.invoke(app, ["train", "--index", str(tmp_path / "nope.csv"), "--steps", "1"])
    assert bad.exit_code == 2 and bad.output.strip().startswith("error:") and len(bad.output.strip().splitlines()) == 1


def test_init_starts_from_a_model_file_and_refuses_another_network(dataset: Path, feature_cache: Path, tmp_path: Path):
    from avsep.train.loop import setup

    first = train(tiny(dataset, feature_cache, tmp_path / "first"))
    source = load_checkpoint(first["best"]).model.state_dict()
    trainer = setup(tiny(dataset, feature_cache, tmp_path / "second", init=first["best"], seed=7))
    mine = trainer.model.state_dict()
    assert all(torch.equal(mine[k], source[k]) for k in source)
    fresh = setup(tiny(dataset, feature_cache, tmp_path / "third", seed=7)).model.state_dict()
    assert not all(torch.equal(fresh[k], source[k]) for k in source)
    with pytest.raises(InputError, match="--init"):
        setup(tiny(dataset, feature_cache, tmp_path / "fourth", init=first["best"], cycles=3, channels=(4,) * 7))


def test_init_from_a_gained_model_says_its_gain_is_not_carried(dataset: Path, feature_cache: Path, tmp_path, capsys):
    """A guide gain is chosen for one set of weights: a run started from them trains without it,
    and says so (avsep.train.guide_gain)."""
    from avsep.train.guide_gain import gain_guide
    from avsep.train.loop import setup

    first = train(tiny(dataset, feature_cache, tmp_path / "first"))
    gain_guide(first["best"], 4.0, tmp_path / "gained.pt")
    setup(tiny(dataset, feature_cache, tmp_path / "second", init=str(tmp_path / "gained.pt"), progress=True))
    said = " ".join(capsys.readouterr().err.split())  # the console wraps
    assert "its guide gain (4) was chosen for its own weights and is not carried over" in said


def test_training_defaults_are_written_once(monkeypatch, tmp_path):
    """``avsep train`` with no options runs DEFAULTS (its options read them), and the two
    defaults TrainConfig cannot import without torch agree with the model's."""
    import dataclasses

    from avsep.cli.app import app
    from avsep.models.pcn import PCNConfig
    from avsep.signal import dsp
    from avsep.train.config import DEFAULTS

    assert DEFAULTS.channels == PCNConfig.channels and DEFAULTS.crop_samples == dsp.WINDOW_SAMPLES
    seen = []
    monkeypatch.setattr("avsep.train.loop.train", lambda config: seen.append(config) or {})
    CliRunner().invoke(app, ["train", "--index", str(tmp_path)])
    assert len(seen) == 1
    assert dataclasses.replace(seen[0], command=None) == dataclasses.replace(DEFAULTS, index=str(tmp_path))
