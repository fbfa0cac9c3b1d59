import torch
import pytest

from avsep.errors import ModelError
from avsep.models.pcn import PCN, PCNConfig
from avsep.models.serialize import load_checkpoint, save_checkpoint, weights_sha256

TINY = PCNConfig(visual_dim=12, channels=(4, 4, 8, 8, 8, 8, 8), cycles=2)


def test_round_trip_keeps_config_metadata_and_weights(tmp_path):
    m = PCN(TINY)
    digest = save_checkpoint(tmp_path / "m.pt", m, backbone="resnet18", training={"steps": 3})
    ck = load_checkpoint(tmp_path / "m.pt")
    assert ck.sha256 == digest == weights_sha256(m.state_dict())
    assert ck.arch == "pcn" and ck.backbone == "resnet18" and ck.training == {"steps": 3}
    assert ck.model.config == TINY
    for k, v in m.state_dict().items():
        assert torch.equal(v, ck.model.state_dict()[k])


def test_tampered_weights_are_refused(tmp_path):
    path = tmp_path / "m.pt"
    save_checkpoint(path, PCN(TINY), backbone="resnet18")
    payload = torch.load(path, weights_only=True)
    payload["state_dict"]["a"] = payload["state_dict"]["a"] + 1
    torch.save(payload, path)
    with pytest.raises(ModelError, match="sha256"):
        load_checkpoint(path)


def test_file_name_hash_must_match(tmp_path):
    m = PCN(TINY)
    digest = save_checkpoint(tmp_path / "x.pt", m, backbone="resnet18")
    good = tmp_path / f"model-{digest[:8]}.pt"
    (tmp_path / "x.pt").rename(good)
    load_checkpoint(good)
    bad = tmp_path / "model-00000000.pt"
    good.rename(bad)
    with pytest.raises(ModelError, match="file name"):
        load_checkpoint(bad)


def test_missing_and_garbage_files_are_clear_errors(tmp_path):
    with pytest.raises(ModelError, match="not found"):
        load_checkpoint(tmp_path / "nope.pt")
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"\x00garbage" * 10)
    with pytest.raises(ModelError, match="not a readable"):
        load_checkpoint(junk)


def test_weights_that_do_not_fit_their_config_are_a_model_error(tmp_path):
    path = tmp_path / "m.pt"
    save_checkpoint(path, PCN(TINY), backbone="resnet18")
    payload = torch.load(path, weights_only=True)
    payload["config"]["channels"] = [8, 8, 8, 8, 8, 8, 8]
    torch.save(payload, path)
    with pytest.raises(ModelError, match="do not fit"):
        load_checkpoint(path)


def test_configs_from_before_group_norm_rebuild_without_it():
    old = {k: v for k, v in PCN(TINY).config.to_dict().items() if k != "norm_groups"}
    assert PCNConfig.from_dict(old).norm_groups == 0
