"""The real-stems validation and test set: the split by piece, the mixtures, the scoring."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from avsep.errors import InputError
from avsep.signal.dsp import SAMPLE_RATE
from avsep.train import stems
from avsep.train.eval.scores import score_clip
from tests.train.real_material import hz, tone

#: parts written for each piece of the fixture: two known classes and one without a class yet
PARTS = {"bach10": ("S1_violin", "S2_clarinet", "S4_bassoon"), "urmp": ("1_vn", "2_fl", "3_ob")}


def _tree(root: Path, seconds: float = 13.0, resting: str | None = None) -> Path:
    """Every piece of both splits, each part a tone of its own pitch; ``resting`` is silent
    from the second segment on (it does not play there)."""
    for k, piece in enumerate(p for split in stems.SPLITS.values() for p in split):
        source, name = piece.split("/")
        for j, part in enumerate(PARTS[source]):
            x = tone(hz(57 + 5 * j + k % 3), seconds, amp=0.3)
            if part == resting:
                x[int(stems.SEGMENT_SECONDS * 22050) :] = 0.0
            path = root / source / f"{name}_{part}.flac"
            path.parent.mkdir(parents=True, exist_ok=True)
            sf.write(path, x, 22050)
    return root


def test_the_splits_share_no_piece_and_name_only_pieces_of_the_set():
    val, test = set(stems.SPLITS["val"]), set(stems.SPLITS["test"])
    assert val and test and not val & test


def test_pieces_keep_the_parts_with_a_class_and_refuse_a_missing_piece(tmp_path: Path):
    root = _tree(tmp_path / "stems")
    found = stems.pieces(root, "val")
    assert sorted(found) == sorted(stems.SPLITS["val"])
    assert {p.label for parts in found.values() for p in parts} == {"violin", "clarinet", "flute"}
    (root / "bach10" / "P4_Mix03_S1_violin.flac").unlink()
    (root / "bach10" / "P4_Mix03_S2_clarinet.flac").unlink()
    with pytest.raises(InputError, match="P4_Mix03 are missing"):
        stems.pieces(root, "val")
    with pytest.raises(InputError, match="unknown split"):
        stems.pieces(root, "train")


def test_mixtures_skip_segments_where_a_part_rests(tmp_path: Path):
    root = _tree(tmp_path / "stems", resting="S2_clarinet")
    parts = stems.pieces(root, "val")["bach10/P4_Mix01"]
    got = stems.mixtures(parts, (2,))
    # 13 s = two 6 s segments; the clarinet rests in the second: one mixture, from 0 s
    assert [(tuple(p.label for p in s), start) for s, start, _ in got] == [(("violin", "clarinet"), 0)]
    assert got[0][2].shape == (2, int(stems.SEGMENT_SECONDS * SAMPLE_RATE))


class _Perfect:
    """A separator that returns the references of the mixture it is given: what the scoring
    must call a perfect model."""

    def __init__(self):
        self.refs: list[np.ndarray] = []

    def separate_arrays(self, mix, sr, guides):
        refs = next(r for r in self.refs if np.allclose(r.sum(0), mix))
        assert sr == SAMPLE_RATE and guides.shape[0] == len(refs)
        return refs


def test_score_split_scores_every_mixture_by_size_and_class(tmp_path: Path, monkeypatch):
    root = _tree(tmp_path / "stems")
    sep = _Perfect()
    real = stems.mixtures

    def remember(parts, sizes, seconds=stems.SEGMENT_SECONDS):
        out = real(parts, sizes, seconds)
        sep.refs.extend(r for _, _, r in out)
        return out

    monkeypatch.setattr(stems, "mixtures", remember)
    got = stems.score_split(sep, root, "test", (2, 3), score_clip)
    assert len(got["sizes"][2]) == 8 * 2 and got["sizes"][3] == []  # 8 pieces x 2 segments, 2 known parts
    classes = stems.per_class(got["sizes"][2])
    assert set(classes) == {"violin", "clarinet", "flute"}
    assert all(v["mean"] > 20 for v in classes.values())  # a perfect output gains far over the mixture
    assert all(all(it["right_box"]) for it in got["sizes"][2])
