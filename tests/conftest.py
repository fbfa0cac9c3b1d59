"""Shared fixtures: synthetic media made on demand (see :mod:`tests.media`), the tiny model and
the fast stand-in trunk of the pipeline tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.media import make_tone_wav, make_video


@pytest.fixture
def tmp_video(tmp_path: Path) -> Callable[..., Path]:
    """Factory for a fresh clip in this test's tmp dir: ``tmp_video("x.mkv", duration=2)``.

    Use it when the test modifies, truncates or deletes the file.
    """

    def make(name: str = "clip.mp4", **kwargs) -> Path:
        return make_video(tmp_path / name, **kwargs)

    return make


@pytest.fixture(scope="session")
def shared_video(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """Like :func:`tmp_video` but made once per session per arguments; treat it as read-only.

    Encoding is the slow part of most media tests, so identical clips are shared.
    """
    root = tmp_path_factory.mktemp("shared-media")
    cache: dict[str, Path] = {}

    def make(name: str = "clip.mp4", **kwargs) -> Path:
        key = f"{name}|{sorted(kwargs.items())!r}"
        if key not in cache:
            cache[key] = make_video(root / f"{len(cache)}-{name}", **kwargs)
        return cache[key]

    return make


@pytest.fixture
def tmp_wav(tmp_path: Path) -> Callable[..., Path]:
    """Factory for a tone WAV in this test's tmp dir: ``tmp_wav("a.wav", freqs=(440,))``."""

    def make(name: str = "tone.wav", **kwargs) -> Path:
        return make_tone_wav(tmp_path / name, **kwargs)

    return make


@pytest.fixture(scope="session")
def tiny_weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A weights folder holding a tiny, randomly initialised default model.

    Fast stand-in for the bundled model where a test checks plumbing, not separation quality;
    it has the bundled file's name pattern so the default-model lookup is exercised too.
    """
    import torch

    from avsep.models.pcn import PCN, PCNConfig
    from avsep.models.serialize import save_checkpoint
    from avsep.models.weights import DEFAULT_MODEL

    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("weights")
    model = PCN(PCNConfig(visual_dim=512, channels=(4, 4, 8, 8, 8, 8, 8), cycles=2))
    tmp = folder / "tmp.pt"
    digest = save_checkpoint(tmp, model, backbone="resnet18", training={"note": "random test model"})
    tmp.rename(folder / f"{DEFAULT_MODEL}-{digest[:8]}.pt")
    return folder


@pytest.fixture
def tiny_model(tiny_weights: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Points avsep's default-model lookup at :func:`tiny_weights` for one test."""
    monkeypatch.setenv("AVSEP_WEIGHTS_DIR", str(tiny_weights))
    return next(tiny_weights.glob("*.pt"))


@pytest.fixture
def fast_model(tiny_model: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The tiny default model with :class:`~tests.cli_support.ColourTrunk` instead of a random
    resnet18, on one thread (see :mod:`tests.cli_support` for why)."""
    import torch

    from avsep.boxes.detect import PlayerFinder
    from tests.cli_support import ColourTrunk

    monkeypatch.setattr("avsep.separation.engine.build_trunk", lambda name, weights=None: ColourTrunk())
    monkeypatch.setattr("avsep.boxes.detect.default_finder", lambda: PlayerFinder(ColourTrunk()))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield tiny_model
    torch.set_num_threads(threads)


@pytest.fixture
def decoded_times(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The times of the frames video readers decode in a run from a keyframe (keyframes decoded
    alone are not counted): proof of which frames were decoded and which were skipped."""
    import avsep.io.video as video_module

    times: list[float] = []
    original = video_module.decode_frames

    def recording(container, stream, before=None):
        for frame in original(container, stream, before):
            times.append(float(frame.time))
            yield frame

    monkeypatch.setattr(video_module, "decode_frames", recording)
    return times
