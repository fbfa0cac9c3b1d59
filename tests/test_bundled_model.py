"""The shipped model, for real: it loads offline, verifies, and separates the bundled example.

The example (``examples/duet.mp4``) is made from *test-split* melodies and pictures that the
model never saw in training (``examples/make_example.py``); its two clean stems are stored
beside it, so this is a held-out check, not a training-data score.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from avsep.weights import DEFAULT_MODEL, bundled_models

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "duet.mp4"

pytestmark = pytest.mark.slow


def sdr(ref: np.ndarray, est: np.ndarray) -> float:
    return float(10 * np.log10(np.sum(ref**2) / max(np.sum((ref - est) ** 2), 1e-12)))


def test_default_model_is_bundled_with_a_card_and_verifies(monkeypatch):
    monkeypatch.delenv("AVSEP_WEIGHTS_DIR", raising=False)
    found = [m for m in bundled_models() if m.name == DEFAULT_MODEL]
    assert len(found) == 1, "weights/ must hold exactly one default model file"
    model = found[0]
    from avsep.models.serialize import load_checkpoint

    ck = load_checkpoint(model.path)  # recomputes and checks both hashes
    card = json.loads((model.path.parent / f"{DEFAULT_MODEL}.json").read_text())
    # What `sha256sum weights/*.pt` prints: the name's 8 hex digits and the card's digest.
    file_sha256 = hashlib.sha256(model.path.read_bytes()).hexdigest()
    assert card["sha256"] == ck.sha256 == file_sha256 and model.path.name == card["file"]
    assert model.path.name == f"{DEFAULT_MODEL}-{file_sha256[:8]}.pt"
    assert card["weights_sha256"] == ck.weights_sha256 and card["file_bytes"] == model.path.stat().st_size
    assert ck.arch == "pcn" and card["backbone"] == ck.backbone
    assert model.path.stat().st_size < 20e6


@pytest.fixture(scope="module")
def separated(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("example")
    env = {k: v for k, v in __import__("os").environ.items() if k != "AVSEP_WEIGHTS_DIR"}
    subprocess.run(
        [sys.executable, "-c", "from avsep.cli import run; run()", "separate", str(EXAMPLE),
         "--names", "left", "right", "--sample-rate", "11025", "-o", str(out), "--quiet"],
        check=True, env=env, timeout=600,
    )
    return out / "duet"


def _stems() -> tuple[np.ndarray, np.ndarray]:
    left, sr1 = sf.read(ROOT / "examples" / "duet_left.flac", dtype="float32")
    right, sr2 = sf.read(ROOT / "examples" / "duet_right.flac", dtype="float32")
    assert sr1 == sr2 == 11025
    return left, right


def test_bundled_model_separates_the_held_out_example(separated):
    left_ref, right_ref = _stems()
    outs = [sf.read(separated / f"{n}.wav", dtype="float32") for n in ("left", "right")]
    assert all(sr == 11025 for _, sr in outs)
    n = min(left_ref.size, *(o.size for o, _ in outs))
    # The video's AAC track starts ~1024 samples (44.1 kHz) late; align by cross-correlation.
    left_out, right_out = outs[0][0], outs[1][0]
    lag = int(np.argmax(np.correlate(left_out[:20000] + right_out[:20000], (left_ref + right_ref)[:20000], "full"))) - 19999
    lag = max(lag, 0)
    refs = [left_ref[: n - lag], right_ref[: n - lag]]
    ests = [left_out[lag:n], right_out[lag:n]]
    # Least-squares share of each source in each output: output ~ c_left * left + c_right * right.
    # Each output must hold more of its own instrument than of the other one. (A mean SDR
    # improvement is no test here: a random model scores as well on this example, see
    # docs/results.md; this share is what tells them apart.)
    basis = np.stack(refs, 1)
    for k, est in enumerate(ests):
        coef = np.linalg.lstsq(basis, est, rcond=None)[0]
        assert coef[k] > OWN_SHARE_RATIO * coef[1 - k], (k, coef)


#: Measured with the shipped model: own/other share 2.22 (left, violin) and 1.08 (right, flute);
#: a random model of the same kind gave 1.69 and 0.72 (fails).
OWN_SHARE_RATIO = 1.0
