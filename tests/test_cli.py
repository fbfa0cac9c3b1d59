"""``avsep separate``, ``info`` and ``models``: every option of issue 2, through typer's CliRunner
and, for stdout piping, a real process. Inputs are generated (tests/media.py); the model is the
tiny random one, so these check plumbing (rates, lengths, names, formats), not separation quality.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import subprocess
import sys

import av
import numpy as np
import pytest
import soundfile as sf
import torch
from PIL import Image

from avsep.boxes.preview import COLOURS
from avsep.io.audio import load_audio
from avsep.models.serialize import load_checkpoint
from tests.cli_support import GREEN, SMALL, YELLOW, cli, cli_process, error_line, wavs
from tests.media import merge_streams

pytestmark = pytest.mark.usefixtures("fast_model")


def test_help_says_boxes_are_displayed_frame_pixels():
    text = " ".join(cli("separate", "--help").stdout.replace("│", " ").split())
    assert "x0,y0,x1,y1 in pixels of the displayed video frame" in text
    assert '{"name": ..., "box": [x0,y0,x1,y1]}' in text


@pytest.mark.parametrize(("rate", "channels"), [(44100, 1), (48000, 2)], ids=["44k-mono", "48k-stereo"])
def test_default_strips_at_the_input_rate(shared_video, tmp_path, rate, channels):
    video = shared_video("duet.mp4", sample_rate=rate, channels=channels, **SMALL)
    cli("separate", video, "-o", tmp_path)
    out = wavs(tmp_path)
    assert sorted(out) == [f"{video.stem}/source1.wav", f"{video.stem}/source2.wav"]
    for info in out.values():
        assert info.samplerate == rate and info.channels == channels and info.subtype == "PCM_16"
        assert info.duration == pytest.approx(3.0, abs=0.1)


def test_forty_seconds_stereo_48k(shared_video, tmp_path):
    video = shared_video("long.mp4", duration=40.0, sample_rate=48000, channels=2, width=64, height=48, fps=2)
    cli("separate", video, "-o", tmp_path, "-q", "--format", "float")
    out = wavs(tmp_path)
    assert len(out) == 2
    for info in out.values():
        assert info.samplerate == 48000
        assert info.duration == pytest.approx(40.0, abs=0.1)


def test_several_boxes_after_one_flag_with_names(shared_video, tmp_path):
    video = shared_video("clip.mp4", **SMALL)
    cli(
        "separate",
        "--boxes",
        "0,0,20,48",
        "20,0,40,48",
        "40,0,64,48",
        "--names",
        "violin",
        "flute",
        "cello",
        video,
        "-o",
        tmp_path,
    )
    assert sorted(wavs(tmp_path)) == [f"{video.stem}/{n}.wav" for n in ("cello", "flute", "violin")]


@pytest.mark.parametrize("form", ["plain", "named"])
def test_boxes_file_both_forms(shared_video, tmp_path, form):
    video = shared_video("clip.mp4", **SMALL)
    boxes = [[0, 0, 32, 48], [32, 0, 64, 48]]
    data = boxes if form == "plain" else [{"name": n, "box": b} for n, b in zip(("left", "right"), boxes)]
    spec = tmp_path / "boxes.json"
    spec.write_text(json.dumps(data))
    cli("separate", video, "--boxes-file", spec, "-o", tmp_path / "out")
    names = ["source1", "source2"] if form == "plain" else ["left", "right"]
    assert sorted(wavs(tmp_path / "out")) == [f"{video.stem}/{n}.wav" for n in names]


def test_sources_strips_template_and_index(shared_video, tmp_path):
    video = shared_video("clip.mp4", **SMALL)
    cli("separate", video, "--sources", "3", "-o", tmp_path, "--output-template", "{stem}-{index}-{name}.{ext}")
    assert sorted(wavs(tmp_path)) == [f"{video.stem}-{i}-source{i}.wav" for i in (1, 2, 3)]


@pytest.mark.parametrize(("fmt", "subtype"), [("pcm16", "PCM_16"), ("pcm24", "PCM_24"), ("float", "FLOAT")])
def test_format_and_sample_rate(shared_video, tmp_path, fmt, subtype):
    video = shared_video("clip48.mp4", sample_rate=48000, **SMALL)
    cli("separate", video, "-o", tmp_path, "--format", fmt, "--sample-rate", "22050", "--sources", "1")
    (info,) = wavs(tmp_path).values()
    assert (info.subtype, info.samplerate) == (subtype, 22050)
    assert info.duration == pytest.approx(3.0, abs=0.1)


def test_residual_completes_the_mixture(shared_video, tmp_path):
    """sources + residual == the mixture, per channel (residual = mixture - sum)."""
    video = shared_video("stereo.mp4", channels=2, **SMALL)
    cli("separate", video, "-o", tmp_path, "--residual", "--sample-rate", "11025", "--format", "float")
    files = sorted(tmp_path.rglob("*.wav"))
    assert [f.stem for f in files] == ["residual", "source1", "source2"]
    total = sum(sf.read(str(f), dtype="float32")[0] for f in files)
    mixture, rate = load_audio(video, 11025, mono=False)
    assert rate == 11025 and total.shape[1] == mixture.shape[1] == 2 and abs(len(total) - len(mixture)) <= 1
    n = min(len(total), len(mixture))
    assert np.abs(total[:n] - mixture[:n]).max() < 1e-4


@pytest.mark.parametrize("mask", ["binary", "soft", "ratio", "capped"])
def test_mask_and_overlap_reach_the_pipeline(shared_video, tmp_path, monkeypatch, mask):
    import avsep.separation.engine
    import avsep.signal.dsp

    seen: dict[str, object] = {}
    combine, windower = avsep.signal.dsp.combine_masks, avsep.separation.engine.Windower

    def spy_mask(masks, mode, rest=None):
        seen["mask"] = mode
        return combine(masks, mode, rest)

    def spy_windower(overlap):
        seen["overlap"] = overlap
        return windower(overlap)

    monkeypatch.setattr(avsep.signal.dsp, "combine_masks", spy_mask)
    monkeypatch.setattr(avsep.separation.engine, "Windower", spy_windower)
    video = shared_video("clip.mp4", **SMALL)
    cli("separate", video, "-o", tmp_path, "--mask", mask, "--overlap", "0.5")
    assert seen == {"mask": mask, "overlap": 0.5}


def test_audio_and_video_stream_selection(shared_video, tmp_path):
    """A file with two video and two audio streams: the options pick which ones are used; left
    to the default, the audio stream separated is named, with the option to pick the other."""
    first = shared_video("a.mkv", tones=(440.0,), **SMALL)
    second = shared_video("b.mkv", tones=(1000.0,), duration=3.0, width=32, height=24)
    both = merge_streams(tmp_path / "two.mkv", first, second)
    # --video-stream 1 is the 32x24 one: a box right of x=32 lies outside it.
    result = cli("separate", both, "--video-stream", "1", "--boxes", "40,0,64,24", "-o", tmp_path, code=2)
    assert "outside the 32x24 frame" in error_line(result)
    assert (
        f"warning: {both} has 2 audio streams; separating audio stream 0 (aac, 44100 Hz, 1 ch); "
        "choose another with --audio-stream 1"
    ) in " ".join(result.stderr.split())
    chosen = cli(
        "separate",
        both,
        "--audio-stream",
        "1",
        "--video-stream",
        "0",
        "--boxes",
        "40,0,64,24",
        "--residual",
        "--sample-rate",
        "11025",
        "--format",
        "float",
        "-o",
        tmp_path / "out",
    )
    assert "audio streams" not in chosen.stderr  # the stream was chosen: no word about the others
    total = sum(sf.read(str(f), dtype="float32")[0] for f in (tmp_path / "out").rglob("*.wav"))
    chosen, _ = load_audio(both, 11025, audio_stream=1)
    n = min(len(total), len(chosen))
    assert np.abs(total[:n] - chosen[:n]).max() < 1e-4
    line = error_line(cli("separate", both, "--audio-stream", "2", "-o", tmp_path, code=2))
    assert "no audio stream 2 (the file has 2)" in line


def test_stdout_wav_in_process(shared_video):
    video = shared_video("clip.mp4", **SMALL)
    result = cli("separate", video, "-o", "-", "--source", "2", "-q")
    data, rate = sf.read(io.BytesIO(result.stdout_bytes), dtype="float32")
    assert rate == 44100 and len(data) == pytest.approx(3 * 44100, abs=0.1 * 44100)


def test_stdout_source_by_name_is_the_source_of_that_number(shared_video):
    video = shared_video("clip.mp4", **SMALL)
    boxes = ("--boxes", "0,0,32,48", "32,0,64,48", "--names", "violin", "flute")
    by_name = cli("separate", video, *boxes, "-o", "-", "--source", "flute", "-q")
    by_number = cli("separate", video, *boxes, "-o", "-", "--source", "2", "-q")
    assert by_name.stdout_bytes == by_number.stdout_bytes and len(by_name.stdout_bytes) > 1000
    bad = error_line(cli("separate", video, *boxes, "-o", "-", "--source", "cello", code=2))
    assert bad == "error: --source cello: no source of that name; the sources are violin, flute"
    unnamed = error_line(
        cli("separate", video, "--boxes", "0,0,32,48", "32,0,64,48", "-o", "-", "--source", "x", code=2)
    )
    assert "--source x: the boxes have no names" in unnamed


def test_stdout_needs_one_source(shared_video):
    video = shared_video("clip.mp4", **SMALL)
    assert "--source N" in error_line(cli("separate", video, "-o", "-", code=2))


def test_batch_over_files_and_folders(shared_video, tmp_path):
    folder = tmp_path / "in"
    (folder / "deeper").mkdir(parents=True)
    shutil.copy(shared_video("clip.mp4", **SMALL), folder / "a.mp4")
    shutil.copy(shared_video("clip.mkv", **SMALL), folder / "deeper" / "b.mkv")
    (folder / "notes.txt").write_text("not a video")
    (folder / "broken.mp4").write_bytes(b"\x00not a video" * 50)
    single = shutil.copy(shared_video("clip.mp4", **SMALL), tmp_path / "c.mov")
    result = cli("separate", folder, single, "-o", tmp_path / "out", code=2)
    expected = ["a", "c", "deeper/b"]  # b.mkv keeps its place below the input folder
    assert sorted(wavs(tmp_path / "out")) == [f"{s}/source{i}.wav" for s in expected for i in (1, 2)]
    assert "broken.mp4" in error_line(result)
    table = result.stderr.split("avsep separate", 1)[1]
    assert table.count(" ok ") == 3 and table.count(" failed ") == 1


def test_batch_with_skip_existing_and_overwrite(shared_video, tmp_path):
    video = shared_video("clip.mp4", **SMALL)
    cli("separate", video, "-o", tmp_path)
    before = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*.wav")}
    result = cli("separate", video, "-o", tmp_path, "--skip-existing")
    assert "skipped" in result.stderr
    assert {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*.wav")} == before
    cli("separate", video, "-o", tmp_path, "--overwrite", "--sample-rate", "8000")
    assert {i.samplerate for i in wavs(tmp_path).values()} == {8000}


def test_a_sidecar_stands_in_for_found_boxes_and_command_line_boxes_win(shared_video, tmp_path):
    video = tmp_path / "clip.mp4"
    shutil.copy(shared_video("clip.mp4", **SMALL), video)
    sidecar = tmp_path / "clip.mp4.boxes.json"
    sidecar.write_text(json.dumps([{"name": n, "box": [i * 20, 0, i * 20 + 20, 48]} for i, n in enumerate("xyz")]))
    used = cli("separate", video, "-o", tmp_path / "a").stderr
    assert sorted(wavs(tmp_path / "a")) == ["clip/x.wav", "clip/y.wav", "clip/z.wav"]
    assert f"wrote {tmp_path}/a/clip/x.wav, y.wav, z.wav (boxes from {sidecar})" in used.splitlines()
    given = cli("separate", video, "--boxes", "0,0,32,48", "32,0,64,48", "--names", "l", "r", "-o", tmp_path / "b")
    assert sorted(wavs(tmp_path / "b")) == ["clip/l.wav", "clip/r.wav"]
    assert f"(boxes given; {sidecar} not used, as boxes were given)" in given.stderr


def test_each_video_says_what_it_wrote_unless_quiet(shared_video, tmp_path):
    duet = shared_video("duet.mp4", panels=(GREEN, YELLOW), **SMALL)
    plain = shared_video("clip.mp4", **SMALL)
    result = cli("separate", duet, plain, "-o", tmp_path / "a")
    lines = result.stderr.splitlines()
    assert f"wrote {tmp_path}/a/{duet.stem}/violin.wav, flute.wav (boxes found: violin 1.00, flute 1.00)" in lines
    assert f"wrote {tmp_path}/a/{plain.stem}/source1.wav, source2.wav (no players found: 2 vertical strips)" in lines
    strips = cli("separate", plain, "--boxes", "strips", "--sources", "3", "-o", tmp_path / "b").stderr
    assert "(boxes: 3 vertical strips)" in strips
    assert "wrote" not in cli("separate", duet, "-o", tmp_path / "c", "-q").stderr


def test_quiet_prints_nothing(shared_video, tmp_path):
    """Not even the boxes found (the players are found: no fallback warning either)."""
    video = shared_video("players.mp4", panels=(GREEN, YELLOW), **SMALL)
    result = cli("separate", video, video.parent / "missing.mp4", "-o", tmp_path, "-q", code=2)
    assert result.stderr.splitlines() == [error_line(result)]
    assert len(wavs(tmp_path)) == 2


def test_device_cuda_without_gpu(shared_video, tmp_path, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    video = shared_video("clip.mp4", **SMALL)
    assert "no CUDA GPU is available; use --device cpu" in error_line(
        cli("separate", video, "--device", "cuda:0", "-o", tmp_path, code=2)
    )
    assert "is not a device" in error_line(cli("separate", video, "--device", "tpu", "-o", tmp_path, code=2))
    cli("separate", video, "--device", "cpu", "-o", tmp_path, "--sources", "1")


def test_no_bundled_weights_is_a_clear_error(shared_video, tmp_path, monkeypatch):
    monkeypatch.setenv("AVSEP_WEIGHTS_DIR", str(tmp_path / "empty"))
    (tmp_path / "empty").mkdir()
    line = error_line(cli("separate", shared_video("clip.mp4", **SMALL), "-o", tmp_path, code=1))
    assert "no bundled model 'avsep-pcn'" in line and "weights are missing" in line
    assert not (tmp_path / "clip").exists()


def test_default_model_is_the_bundled_one(monkeypatch):
    from pathlib import Path

    import avsep
    from avsep.models.weights import weights_dir

    monkeypatch.delenv("AVSEP_WEIGHTS_DIR")
    assert weights_dir() == Path(avsep.__file__).resolve().parents[1] / "weights"


# -- info and models -----------------------------------------------------------------------------


def test_info_prints_streams_duration_size(shared_video):
    video = shared_video("stereo48.mp4", sample_rate=48000, channels=2, **SMALL)
    text = cli("info", video).stdout
    assert "3.0" in text and f"{video.stat().st_size} bytes" in text
    assert "64x48 (displayed), 10 fps" in text and "48000 Hz, 2 ch" in text
    assert "box 1: 0,0,32,48" in text and "box 2: 32,0,64,48" in text


def test_info_preview_draws_the_boxes(shared_video, tmp_path):
    video = shared_video("clip.mp4", **SMALL)
    png = tmp_path / "preview.png"
    cli("info", video, "--boxes", "4,4,30,40", "34,8,60,44", "--preview", png)
    image = np.asarray(Image.open(png).convert("RGB"))
    assert image.shape == (48, 64, 3)
    for (x0, y0, _, y1), colour in zip([(4, 4, 30, 40), (34, 8, 60, 44)], COLOURS):
        expected = tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))
        row = image[(y0 + y1) // 2]
        # the left side: a black line, then the box's colour (preview.draw_box, 64x48: 1 + 3 + 1 px)
        assert tuple(row[x0]) == (0, 0, 0) and tuple(row[x0 + 2]) == expected


def test_models_lists_hash_and_card(tiny_weights, tmp_path, monkeypatch):
    for f in tiny_weights.glob("*.pt"):
        shutil.copy(f, tmp_path / f.name)
    card = {"architecture": "pcn", "parameters": 7, "sdr_db": 7.5, "intended_use": "Videos of two players. " * 30}
    (tmp_path / "avsep-pcn.json").write_text(json.dumps(card))
    (tmp_path / "avsep-old-00000000.pt").write_bytes(b"not a checkpoint")
    monkeypatch.setenv("AVSEP_WEIGHTS_DIR", str(tmp_path))
    text = cli("models").stdout
    (model,) = tmp_path.glob("avsep-pcn-*.pt")
    digest = hashlib.sha256(model.read_bytes()).hexdigest()  # what sha256sum prints
    assert f"avsep-pcn (default)  {tmp_path}" in text and f"sha256  {digest} (verified" in text
    parameters = load_checkpoint(model).parameters
    assert (
        f"size    {model.stat().st_size / 1e6:.1f} MB file ({model.stat().st_size:,} bytes), {parameters:,} parameters"
        in text
    )
    assert "card    architecture: pcn, intended_use: Videos of two players." in text and "sdr_db" not in text
    card_lines = [ln for ln in text.splitlines() if ln.startswith(("  card", " " * 10)) and "full card" not in ln]
    assert len(card_lines) > 3 and max(map(len, card_lines)) <= 100  # a long card wraps (it was one 613-character line)
    assert f"full card: {tmp_path / 'avsep-pcn.json'}" in text
    assert "avsep-old  " in text and "refused: " in text and "card    (none)" in text


def test_models_without_any(tmp_path, monkeypatch):
    monkeypatch.setenv("AVSEP_WEIGHTS_DIR", str(tmp_path))
    assert "no bundled models" in error_line(cli("models", code=1))


# -- a real process --------------------------------------------------------------------------------


@pytest.mark.slow
def test_stdout_pipe_to_another_process(shared_video, tiny_weights):
    """``avsep separate ... -o - --source 1 | python -c "read the WAV from stdin"``, real pipes
    and the real (random) resnet18 trunk; its UntrainedTrunkWarning and the fallback to strips must be one clean line
    each."""
    video = shared_video("clip.mp4", **SMALL)
    producer = cli_process(
        "separate",
        video,
        "-o",
        "-",
        "--source",
        "1",
        "-q",
        env={"AVSEP_WEIGHTS_DIR": str(tiny_weights)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    reader = "import io, sys, soundfile as sf; d, r = sf.read(io.BytesIO(sys.stdin.buffer.read()));print(r, len(d))"
    consumer = subprocess.run(
        [sys.executable, "-c", reader], stdin=producer.stdout, capture_output=True, text=True, timeout=120
    )
    producer.stdout.close()
    stderr = producer.stderr.read().decode()
    assert producer.wait(timeout=60) == 0, stderr
    rate, frames = map(int, consumer.stdout.split())
    assert rate == 44100 and abs(frames - 3 * 44100) < 0.1 * 44100
    # Two clean lines: the random trunk, and (no boxes; red and blue panels hold no player)
    # the fallback to strips, which -q does not hide.
    trunk, fallback = sorted(stderr.splitlines(), key=lambda line: "strips" in line)
    assert trunk.startswith("warning: resnet18 trunk has random weights")
    assert fallback == (
        f"warning: {video}: found no instrument it is sure of; using 2 vertical strips instead "
        "(give --boxes to place them)"
    )


def test_boxes_for_another_resolution_are_refused_naming_the_frame_size(shared_video, tmp_path):
    video = shared_video("clip.mp4", **SMALL)  # 64x48
    result = cli("separate", video, "--boxes", "0,0,960,1080", "960,0,1920,1080", "-o", tmp_path, code=2)
    assert "past the 64x48 frame" in error_line(result)
    assert wavs(tmp_path) == {}
    assert "past the 64x48 frame" in error_line(cli("info", video, "--boxes", "0,0,960,1080", code=2))


def test_a_time_past_the_end_is_an_error(shared_video, tmp_path):
    video = shared_video("clip.mp4", **SMALL)
    line = error_line(cli("info", video, "--boxes", "strips", "--preview", tmp_path / "p.png", "--time", "99", code=2))
    assert "--time 99:" in line and "s long; give a time from 0 to" in line
    assert not (tmp_path / "p.png").exists()
    line = error_line(cli("locate", video, "--boxes", "strips", "--time", "-1", "-o", tmp_path, code=2))
    assert "--time -1:" in line


def test_separate_writes_tagged_mp3_m4a_and_opus_at_the_bitrate_asked(shared_video, tmp_path):
    """--format mp3|m4a|opus (issue 31): one compressed file per box, named and tagged by its
    source and video, at --bitrate; the provenance record tells the formats apart. Opus, which
    takes no 44.1 kHz, says that it writes 48 kHz, and the record says so too."""
    video = shared_video("clip.mp4", **SMALL)
    boxes = ["--boxes", "0,0,32,48", "32,0,64,48", "--names", "guitar", "saxophone"]
    changed = "OPUS cannot be written at 44100 Hz, so the outputs are 48000 Hz rather than the video's 44100 Hz"
    for fmt, codec, rate in (("mp3", "mp3", 44100), ("m4a", "aac", 44100), ("opus", "opus", 48000)):
        result = cli("separate", video, *boxes, "--format", fmt, "--bitrate", "64k", "-o", tmp_path / fmt, "-q")
        assert (changed in " ".join(result.stderr.split())) == (fmt == "opus"), result.stderr
        folder = tmp_path / fmt / video.stem
        assert sorted(p.name for p in folder.iterdir()) == [".avsep.json", f"guitar.{fmt}", f"saxophone.{fmt}"]
        record = json.loads((folder / ".avsep.json").read_text())
        assert {o["sample_rate"] for o in record["written"]["outputs"]} == {rate}
        with av.open(str(folder / f"guitar.{fmt}")) as container:
            stream = container.streams.audio[0]
            tags = {**container.metadata, **stream.metadata}
            assert stream.codec_context.name.startswith(codec) and stream.sample_rate == rate
            assert tags["title"] == "guitar" and video.name in tags["comment"], tags
            assert 2.5 < float(container.duration / 1_000_000) < 3.3
    error = error_line(cli("separate", video, *boxes, "--format", "flac", "--bitrate", "64k", "-o", tmp_path, code=2))
    assert error.startswith("error: --bitrate applies to mp3, m4a, opus; flac is lossless")


@pytest.mark.parametrize(
    ("fmt", "name", "sound", "said"),
    [
        ("mp3", "surround.mp4", {"channels": 6}, "MP3 holds 1 to 2 channels, not 6"),
        (
            "flac",
            "nine.mkv",
            {"channels": 9, "layout": "9 channels", "audio_codec": "pcm_s16le"},
            "FLAC holds 1 to 8 channels, not 9",
        ),
    ],
)
def test_a_format_that_cannot_hold_the_channels_is_refused_before_any_work(
    shared_video, tmp_path, monkeypatch, fmt, name, sound, said
):
    """MP3 of a 5.1 video, FLAC of a 9-channel one: refused once the video is probed, as an input
    error (exit 2), before the separation starts; --mono makes it fit."""
    from avsep.separation.separator import Separator

    def not_started(*args, **kwargs):
        raise AssertionError("the separation started")

    video = shared_video(name, **sound, **SMALL)
    with monkeypatch.context() as patch:
        patch.setattr(Separator, "stream", not_started)
        line = error_line(cli("separate", video, "--boxes", "strips", "--format", fmt, "-o", tmp_path, code=2))
    assert line == f"error: {video}: {said}; use --mono or another --format"
    assert not (tmp_path / video.stem).exists()
    cli("separate", video, "--boxes", "strips", "--format", fmt, "--mono", "-o", tmp_path, "-q")
