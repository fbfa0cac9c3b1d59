"""The Python API (``from avsep import Separator``) and the pipeline behaviours the CLI relies on."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from avsep import Separator
from avsep.boxes.box import strip_boxes
from avsep.cli.app import app
from avsep.errors import InputError
from avsep.separation.separator import SilentAudioWarning, select_device
from tests.cli_support import SMALL, cli, wavs
from tests.media import truncated_copy

pytestmark = pytest.mark.usefixtures("fast_model")

BOXES_64x48 = [(0, 0, 32, 48), (32, 0, 64, 48)]


def test_separate_file_returns_arrays_at_the_video_rate(shared_video):
    video = shared_video("stereo48.mp4", sample_rate=48000, channels=2, **SMALL)
    result = Separator(device="cpu").separate_file(video, [(0, 0, 32, 48), (32, 0, 64, 48)], residual=True)
    assert result.sample_rate == 48000
    assert result.sources.shape[:2] == (2, 2) and result.sources.dtype == np.float32  # [boxes, channels, n]
    assert result.sources.shape[2] == pytest.approx(3 * 48000, abs=0.05 * 48000)
    assert result.residual is not None and result.residual.shape == result.sources.shape[1:]


def test_separate_arrays(shared_video):
    rng = np.random.default_rng(0)
    audio = rng.standard_normal((22050, 2)).astype(np.float32) * 0.1  # 0.5 s of stereo at 44.1 kHz
    red = np.zeros((3, 40, 30, 3), np.uint8)
    red[..., 0] = 255
    blue = np.roll(red, 2, axis=-1)
    separator = Separator()
    out = separator.separate_arrays(audio, 44100, [red, blue[0]])  # 3 frames and 1 frame
    assert out.shape == (2, 2, 22050) and out.dtype == np.float32 and np.isfinite(out).all()
    mono = separator.separate_arrays(audio.mean(1), 44100, [red, blue[0]])
    assert mono.shape == (2, 22050)
    with pytest.raises(InputError, match="non-empty"):
        separator.separate_arrays(np.zeros(0), 44100, [red])
    with pytest.raises(InputError, match=r"\[F, H, W, 3\]"):
        separator.separate_arrays(audio, 44100, [red[..., :2]])


def test_a_file_is_probed_once_per_separation(shared_video, tmp_path, monkeypatch):
    """Probing decodes a frame (for the rotation): the box search, the audio and the frame readers
    all take the one probe result. Every avsep module holding ``probe`` gets the counting one."""
    import sys

    import avsep.io.media

    video = shared_video("clip.mp4", **SMALL)
    calls = []
    real = avsep.io.media.probe

    def counting(*args, **kwargs):
        calls.append(args[0])
        return real(*args, **kwargs)

    modules = [m for name, m in list(sys.modules.items()) if name.startswith("avsep")]
    holders = [m for m in modules if getattr(m, "probe", None) is real]
    assert len(holders) >= 3  # io.media itself, the readers, the pipeline
    for module in holders:
        monkeypatch.setattr(module, "probe", counting)
    separator = Separator(device="cpu")
    for run in (
        lambda: separator.separate_file(video),  # players searched for (none found: strips)
        lambda: separator.separate_file(video, "strips"),
        lambda: separator.separate_many(video, tmp_path / "given", BOXES_64x48),
        lambda: separator.separate_many(video, tmp_path / "auto"),
        lambda: cli("separate", video, "-o", tmp_path / "cli", "-q"),
    ):
        calls.clear()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            run()
        assert len(calls) == 1, calls


def test_overlap_sets_the_window_count(shared_video):
    video = shared_video("long.mp4", duration=40.0, sample_rate=48000, channels=2, width=64, height=48, fps=2)
    counts = [Separator(overlap=o).stream_file(video).num_windows for o in (0.0, 0.25, 0.5)]
    assert counts[0] < counts[1] < counts[2]


def test_strips_cover_the_frame():
    assert strip_boxes(64, 48, 3) == [(0, 0, 21, 48), (21, 0, 43, 48), (43, 0, 64, 48)]
    with pytest.raises(InputError):
        strip_boxes(64, 48, 0)


def test_silent_input_warns(shared_video):
    video = shared_video("mute.mp4", tones=(), **SMALL)
    with pytest.warns(SilentAudioWarning, match="the audio is silent"):
        result = Separator().separate_file(video)
    assert not result.sources.any()


def test_select_device(monkeypatch):
    assert select_device("cpu") == torch.device("cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    assert select_device("cuda:0") == torch.device("cuda:0")
    with pytest.raises(InputError, match=r"there are 1 CUDA GPU\(s\), numbered from 0"):
        select_device("cuda:3")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(InputError, match="no CUDA GPU is available; use --device cpu"):
        select_device("cuda")


def test_the_mask_net_runs_in_bfloat16_only_where_the_cpu_has_it(tmp_path, monkeypatch):
    from avsep.models.device import native_bf16

    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nflags\t\t: fpu sse avx512f avx512_bf16\n")
    assert native_bf16(torch.device("cpu"), str(info))
    info.write_text("processor\t: 0\nflags\t\t: fpu sse avx512f\n")
    assert not native_bf16(torch.device("cpu"), str(info))
    assert not native_bf16(torch.device("cpu"), str(tmp_path / "missing"))
    assert not native_bf16(torch.device("cuda"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sep = Separator(device="cpu")
    audio = np.random.default_rng(0).standard_normal(11025 * 3).astype(np.float32) * 0.1
    got = {}
    for bf16 in (False, True):
        sep.bf16 = bf16
        got[bf16] = sep.separate_arrays(audio, 11025, [np.full((1, 8, 8, 3), v, np.uint8) for v in (40, 200)])
    assert not np.array_equal(got[False], got[True])  # the autocast did run
    assert np.abs(got[True] - got[False]).max() < 0.02 * np.abs(audio).max()


def test_warnings_are_one_clean_line(shared_video, tmp_path, monkeypatch):
    """Python's ``file:line: Category: text`` format would leak source paths into user output."""
    import avsep.separation.engine

    build = avsep.separation.engine.build_trunk

    def noisy(name, weights=None):
        warnings.warn("first line\nsecond line", UserWarning, stacklevel=1)
        return build(name, weights)

    monkeypatch.setattr(avsep.separation.engine, "build_trunk", noisy)
    for _ in range(2):  # shown again by the next command in the same process
        result = cli(
            "separate", shared_video("clip.mp4", **SMALL), "--boxes", "strips", "-o", tmp_path, "-q", "--overwrite"
        )
        assert result.stderr.splitlines() == ["warning: first line second line"]


def test_a_cut_faststart_file_separates_what_decodes(shared_video, tmp_path):
    """Index first (web video), end missing: the decodable part is separated, with a warning."""
    whole = shared_video("web.mp4", faststart=True, **SMALL)
    cut = truncated_copy(whole, tmp_path / "cut.mp4", 0.6)
    result = CliRunner().invoke(app, ["separate", str(cut), "-o", str(tmp_path / "out"), "-q"])
    assert result.exit_code == 0, result.stderr
    assert all(line.startswith("warning: ") for line in result.stderr.splitlines())
    assert any("stream ends early" in line for line in result.stderr.splitlines()), result.stderr
    durations = [i.duration for i in wavs(tmp_path / "out").values()]
    assert len(durations) == 2 and all(0.5 < d < 3.0 for d in durations)
    again = CliRunner().invoke(app, ["separate", str(cut), "-o", str(tmp_path / "out"), "-q", "--overwrite", "--debug"])
    assert again.exit_code == 0 and "ffmpeg: " in again.stderr  # FFmpeg's own lines, with --debug only


def test_a_result_has_names_and_saves_itself_with_the_atomic_writer(shared_video, tmp_path):
    import os

    import soundfile as sf

    from tests.cli_support import GREEN, YELLOW

    separator = Separator(device="cpu")
    result = separator.separate_file(shared_video("clip.mp4", **SMALL), BOXES_64x48, residual=True)
    assert result.names == ["source1", "source2"]
    paths = result.save(tmp_path / "a", format="float")
    assert [p.name for p in paths] == ["source1.wav", "source2.wav", "residual.wav"]
    data, rate = sf.read(paths[0], dtype="float32")
    assert rate == result.sample_rate and np.allclose(data, result.sources[0])
    umask = os.umask(0)
    os.umask(umask)
    assert {p.stat().st_mode & 0o777 for p in paths} == {0o666 & ~umask}
    with pytest.raises(InputError, match="already exists"):
        result.save(tmp_path / "a")  # nothing replaced without overwrite
    found = separator.separate_file(shared_video("duet.mp4", panels=(GREEN, YELLOW), **SMALL))
    assert found.names == ["violin", "flute"]
    assert [p.name for p in found.save(tmp_path / "b")] == ["violin.wav", "flute.wav"]


def test_a_stereo_result_saves_as_stereo_flac(shared_video, tmp_path):
    import soundfile as sf

    result = Separator(device="cpu").separate_file(
        shared_video("stereo.mp4", channels=2, pan=(-1.0, 1.0), **SMALL), BOXES_64x48, residual=True
    )
    assert result.sources.shape[:2] == (2, 2) and result.residual.shape[0] == 2
    paths = result.save(tmp_path / "a", format="flac24")
    assert [p.name for p in paths] == ["source1.flac", "source2.flac", "residual.flac"]
    data, rate = sf.read(paths[1], dtype="float32")
    assert rate == result.sample_rate and data.shape == result.sources[1].T.shape
    assert np.allclose(data, result.sources[1].T, atol=1e-5)


def test_a_saved_result_keeps_the_videos_speaker_layout(shared_video, tmp_path):
    """A 5.1 video's stems saved through the API declare 5.1, as the CLI's do (channel mask 0x3F)."""
    from tests.io.test_io_wav import wav_speakers

    video = shared_video("surround.mp4", channels=6, layout="5.1", **SMALL)
    result = Separator(device="cpu").separate_file(video, BOXES_64x48)
    assert {wav_speakers(p) for p in result.save(tmp_path / "a")} == {(0xFFFE, 0x3F)}
    assert result.layout == "5.1"


def test_the_outputs_do_not_depend_on_the_thread_count(shared_video):
    """A --jobs N worker runs torch on cores // N threads: its outputs must be the bytes a
    one-process run writes (the visual trunk's sums changed with the thread count)."""
    video = shared_video("clip.mp4", **SMALL)
    separator = Separator(device="cpu")
    before = torch.get_num_threads()
    results = []
    try:
        for threads in (1, 2):
            torch.set_num_threads(threads)
            results.append(separator.separate_file(video, BOXES_64x48).sources)
    finally:
        torch.set_num_threads(before)
    assert results[0].tobytes() == results[1].tobytes()
    assert torch.get_num_threads() == before
