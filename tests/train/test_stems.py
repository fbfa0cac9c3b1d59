"""The real-stems validation and test set: the split by piece, the mixtures, the scoring."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from avsep.errors import InputError
from avsep.models.guide import LABELS
from avsep.models.pcn import PCN, PCNConfig
from avsep.models.serialize import save_checkpoint
from avsep.signal.dsp import SAMPLE_RATE
from avsep.train.eval import stems
from avsep.train.eval.scores import per_instrument, score_clip
from tests.cli_support import cli, error_line
from tests.train.dataset_fixture import TINY_PCN
from tests.train.real_material import write_stems_tree


def test_the_splits_share_no_piece_and_name_only_pieces_of_the_set():
    val, test = set(stems.SPLITS["val"]), set(stems.SPLITS["test"])
    assert val and test and not val & test


def test_pieces_keep_the_parts_with_a_class_and_refuse_a_missing_piece(tmp_path: Path):
    root = write_stems_tree(tmp_path / "stems")
    found = stems.pieces(root, "val")
    assert sorted(found) == sorted(stems.SPLITS["val"])
    # bassoon and oboe are none of the 11: "other"
    assert {p.label for parts in found.values() for p in parts} == {"violin", "clarinet", "flute", "other"}
    (root / "bach10" / "P4_Mix03_S1_violin.flac").unlink()
    (root / "bach10" / "P4_Mix03_S2_clarinet.flac").unlink()
    (root / "bach10" / "P4_Mix03_S4_bassoon.flac").unlink()
    with pytest.raises(InputError, match="P4_Mix03 are missing"):
        stems.pieces(root, "val")
    with pytest.raises(InputError, match="unknown split"):
        stems.pieces(root, "train")


def test_mixtures_skip_segments_where_a_part_rests(tmp_path: Path):
    root = write_stems_tree(tmp_path / "stems", resting="S2_clarinet")
    parts = stems.pieces(root, "val")["bach10/P4_Mix01"]
    got = stems.mixtures(parts, (2,))
    # 13 s = two 6 s segments; the clarinet rests in the second: with it, one mixture, from 0 s
    assert [(tuple(p.label for p in s), start) for s, start, _ in got] == [
        (("violin", "clarinet"), 0),
        (("violin", "other"), 0),
        (("violin", "other"), int(stems.SEGMENT_SECONDS * SAMPLE_RATE)),
        (("clarinet", "other"), 0),
    ]
    assert got[0][2].shape == (2, int(stems.SEGMENT_SECONDS * SAMPLE_RATE))


class _Perfect:
    """A separator that returns the references of the mixture it is given: what the scoring
    must call a perfect model."""

    guide_kind = "label-other"

    def __init__(self):
        self.refs: list[np.ndarray] = []

    def separate_arrays(self, mix, sr, names):
        refs = next(r for r in self.refs if np.allclose(r.sum(0), mix))
        assert sr == SAMPLE_RATE and len(names) == len(refs)
        return refs


def test_score_split_scores_every_mixture_by_size_and_class(tmp_path: Path, monkeypatch):
    root = write_stems_tree(tmp_path / "stems", seconds=7.0)  # one segment a piece
    sep = _Perfect()
    real = stems.mixtures

    def remember(parts, sizes, seconds=stems.SEGMENT_SECONDS):
        out = real(parts, sizes, seconds)
        sep.refs.extend(r for _, _, r in out)
        return out

    monkeypatch.setattr(stems, "mixtures", remember)
    got = stems.score_split(sep, root, "test", (2, 3), score_clip)
    sets = got["sets"]
    # 8 pieces of 2 known parts and 1 outside the 11: the plain sets keep the known parts only
    assert list(sets) == ["2-part", "2-part+other", "3-part", "3-part+other"]
    assert [len(sets[n]) for n in sets] == [8, 16, 0, 8]
    classes = per_instrument(sets["2-part"])
    assert set(classes) == {"violin", "clarinet", "flute"}
    assert all(v["sdri"]["mean"] > 20 for v in classes.values())  # a perfect output gains far over the mixture
    assert all(all(it["right_box"]) for it in sets["2-part"])
    assert all("other" in it["pair"] for it in sets["2-part+other"] + sets["3-part+other"])


def test_training_validation_keeps_the_mixtures_every_model_is_compared_on(tmp_path: Path):
    root = write_stems_tree(tmp_path / "stems", seconds=7.0)
    batches = stems.val_batches(root, "val", sizes=(2, 3), kind="label-other")
    guides = torch.cat([b["visual"] for b in batches])
    assert len(guides) == 8 and guides.shape[-1] == len(LABELS) + 1  # 8 val pieces, one 2-part mixture each
    assert guides[..., -1].sum() == 0  # no part is other


@pytest.fixture(scope="module")
def ones_label_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A label-guided PCN whose mask is 1 everywhere: with ratio masks each of k boxes gets 1/k."""
    model = PCN(PCNConfig(visual_dim=len(LABELS), channels=TINY_PCN, cycles=1))
    with torch.no_grad():
        model.head.weight.zero_()
        model.head.bias.fill_(20.0)
    path = tmp_path_factory.mktemp("models") / "ones-label.pt"
    save_checkpoint(path, model, backbone="efficientnet_lite0", guide="label")
    return path


def test_the_command_scores_each_model_and_refuses_a_picture_guided_one(tmp_path: Path, ones_label_model: Path):
    root = write_stems_tree(tmp_path / "stems", seconds=7.0)  # one segment a piece
    out = tmp_path / "r.json"
    cli("evaluate-stems", ones_label_model, "--stems", root, "--split", "test", "--json", out, "-q")
    (report,) = json.loads(out.read_text())
    two = report["sets"]["2-part"]
    assert report["split"] == "test" and two["items"] == 8 and report["sets"]["3-part"]["items"] == 0
    # every mixture with an outside part: the named parts' masks (1) leave it nothing, and a
    # silent output is reported as skipped rather than scored
    assert "2-part+other" not in report["sets"] and "3-part+other" not in report["sets"]
    assert sum("is silent" in line for line in report["skipped"]) == 16 + 8
    assert abs(two["sdri"]["mean"]) < 0.5  # half the mixture each: no better than the mixture
    assert set(two["per_class"]) == {"violin", "clarinet", "flute"}
    plain = tmp_path / "plain.pt"
    save_checkpoint(plain, PCN(PCNConfig(visual_dim=512, channels=TINY_PCN, cycles=1)), backbone="resnet18")
    bad = cli("evaluate-stems", plain, "--stems", root, "-q", code=2)
    assert "scores label-guided models" in error_line(bad)


def test_the_default_folder_is_the_shared_real_stems_beside_the_repository():
    repo = Path(__file__).resolve().parents[2]
    assert stems.default_stems() == repo.parent / "shared" / "datasets" / "real-stems"
