import hashlib
import json

import pytest
import torch

from avsep.errors import ModelError
from avsep.models.pcn import PCN, PCNConfig
from avsep.models.serialize import load_checkpoint, save_checkpoint, weights_sha256

TINY = PCNConfig(visual_dim=12, channels=(4, 4, 8, 8, 8, 8, 8), cycles=2)


def test_round_trip_keeps_config_metadata_and_weights(tmp_path):
    m = PCN(TINY)
    digest = save_checkpoint(tmp_path / "m.pt", m, backbone="resnet18", training={"steps": 3})
    ck = load_checkpoint(tmp_path / "m.pt")
    # The returned and reported hash is the file's, as sha256sum prints it; the tensors' hash
    # is kept under its own name.
    assert ck.sha256 == digest == hashlib.sha256((tmp_path / "m.pt").read_bytes()).hexdigest()
    assert ck.weights_sha256 == weights_sha256(m.state_dict()) != digest
    assert ck.parameters == sum(p.numel() for p in m.parameters())
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


def _bundled(folder):
    """A tiny model saved as folder/model-<sha8>.pt, the bundled naming; its path and file hash."""
    folder.mkdir(exist_ok=True)
    tmp = folder / "x.pt"
    digest = save_checkpoint(tmp, PCN(TINY), backbone="resnet18")
    return tmp.rename(folder / f"model-{digest[:8]}.pt"), digest


def test_file_name_hash_must_match(tmp_path):
    good, digest = _bundled(tmp_path)
    load_checkpoint(good)
    bad = good.rename(tmp_path / "model-00000000.pt")
    with pytest.raises(ModelError, match="file name says sha256 00000000… but the file's sha256 is " + digest[:8]):
        load_checkpoint(bad)


def _card(folder, file: str, sha256: str) -> None:
    (folder / "model.json").write_text(json.dumps({"file": file, "sha256": sha256}))


EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


def test_a_name_carrying_the_old_tensor_hash_says_to_rename(tmp_path):
    path, digest = _bundled(tmp_path)
    old_style = path.rename(tmp_path / f"model-{load_checkpoint(path).weights_sha256[:8]}.pt")
    with pytest.raises(ModelError, match=f"hash of the weights .older avsep.*rename it to model-{digest[:8]}.pt"):
        load_checkpoint(old_style)


def test_card_sha256_must_match_the_file(tmp_path):
    path, digest = _bundled(tmp_path)
    _card(tmp_path, path.name, digest)
    assert load_checkpoint(path).sha256 == digest
    _card(tmp_path, path.name, EMPTY_SHA256)
    with pytest.raises(ModelError, match="model card records sha256 e3b0c442… but the file's sha256 is " + digest[:8]):
        load_checkpoint(path)


def test_a_card_about_another_file_is_not_applied(tmp_path):
    path, digest = _bundled(tmp_path)
    _card(tmp_path, "model-00000000.pt", EMPTY_SHA256)
    assert load_checkpoint(path).sha256 == digest


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
