"""``avsep remix`` (avsep/remix/mixer.py, avsep/io/mux.py): the picture copied packet for packet, the
sources rebalanced with the residual added back, and ``--stems`` for video editors."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
import soundfile as sf

from avsep.io.audio import load_audio
from tests.cli_support import cli, error_line

pytestmark = pytest.mark.usefixtures("fast_model")

#: A stereo duet, lossless audio so the remix arithmetic can be checked to the bit.
DUET = {
    "duration": 4.0,
    "sample_rate": 48000,
    "channels": 2,
    "tones": (440.0, 7000.0, 660.0, 9000.0),
    "pan": (-0.6, -0.6, 0.6, 0.6),
    "width": 64,
    "height": 48,
    "audio_codec": "pcm_s16le",
}
#: soft masks: the residual then holds real sound, so the fit below can tell it is added back.
BOXES = ("--boxes", "0,0,32,48", "32,0,64,48", "--names", "left", "right", "--mask", "soft")
NAMES = ("left", "right", "residual")


@pytest.fixture(scope="module")
def duet(tmp_path_factory) -> Path:
    from tests.media import make_video

    return make_video(tmp_path_factory.mktemp("remix") / "duet.mkv", **DUET)


def separated(video: Path, folder: Path) -> np.ndarray:
    """``[left, right, residual]`` as ``avsep separate`` writes them: ``[3, n, 2]``."""
    cli("separate", video, *BOXES, "--residual", "-o", folder, "-q", "--format", "float")
    return np.stack([sf.read(str(folder / video.stem / f"{n}.wav"), dtype="float32")[0] for n in NAMES])


def video_packets(path: Path) -> list[tuple[bytes, float]]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return [(bytes(p), float(p.pts * p.time_base)) for p in container.demux(stream) if p.size]


def fitted_gains(path: Path, parts: np.ndarray) -> np.ndarray:
    """Least-squares gains of ``parts`` that best make the remix's soundtrack."""
    mix, rate = load_audio(path, mono=False)
    n = min(mix.shape[0], parts.shape[1])
    design = parts[:, :n].reshape(len(parts), -1).T
    gains, *_ = np.linalg.lstsq(design, mix[:n].reshape(-1), rcond=None)
    return gains


def db(ratio: float) -> float:
    return 20 * np.log10(abs(ratio))


def test_gain_and_mute_move_that_source_by_their_decibels(duet, tmp_path):
    parts = separated(duet, tmp_path / "parts")
    runs = {
        "plain": [],
        "gain": ["--gain", "left=+6"],
        "mute": ["--mute", "left"],
        "solo": ["--solo", "right"],
    }
    gains = {}
    for name, options in runs.items():
        out = tmp_path / f"{name}.mkv"
        assert cli("remix", duet, *BOXES, *options, "-o", out, "-q").stdout.strip() == str(out)
        gains[name] = fitted_gains(out, parts)
    assert np.allclose(gains["plain"], 1.0, atol=1e-3)  # no gain: the mixture itself
    assert db(gains["gain"][0] / gains["plain"][0]) == pytest.approx(6.0, abs=1.0)
    assert np.allclose(gains["gain"][1:], 1.0, atol=1e-3)  # the other source and the residual stay
    assert db(gains["mute"][0] / gains["plain"][0]) <= -15
    assert db(gains["solo"][0]) <= -15 and gains["solo"][1:] == pytest.approx([1.0, 1.0], abs=1e-3)


def test_remix_copies_the_picture_and_decodes(tmp_path):
    from tests.media import make_video

    video = make_video(tmp_path / "duet.mp4", **{**DUET, "audio_codec": None})  # AAC in MP4
    out = tmp_path / "out" / "remixed.mp4"
    cli("remix", video, *BOXES, "--gain", "right=-3", "-o", out, "-q")
    assert video_packets(out) == video_packets(video)
    with av.open(str(out)) as container:
        (audio,) = container.streams.audio
        assert (audio.codec_context.name, audio.sample_rate, audio.codec_context.channels) == ("aac", 48000, 2)
    sound, rate = load_audio(out, mono=False)
    assert sound.shape[0] == pytest.approx(DUET["duration"] * rate, abs=0.05 * rate) and np.abs(sound).max() > 0.01
    assert sorted(p.name for p in out.parent.iterdir()) == ["remixed.mp4"]  # no temporary file left


@pytest.mark.parametrize("suffix", [".mkv", ".mp4"])
def test_stems_hold_the_original_and_one_titled_track_per_source(duet, tmp_path, suffix):
    out = tmp_path / f"stems{suffix}"
    cli("remix", duet, *BOXES, "--stems", "-o", out, "-q")
    with av.open(str(out)) as container:
        titles = [s.metadata.get("title") or s.metadata.get("handler_name") for s in container.streams.audio]
        assert titles == ["original mix", "left", "right"]
        for stream in container.streams.audio:  # every track decodes
            assert sum(f.samples for f in container.decode(stream)) == pytest.approx(DUET["duration"] * 48000, rel=0.02)
            container.seek(0)
    assert video_packets(out) == video_packets(duet)


@pytest.mark.parametrize(
    ("suffix", "effect"),
    [(".mp4", "the AAC encoder may turn those passages down (by up to"), (".mkv", "clip (in the pcm_s16le track")],
)
def test_gains_over_full_scale_are_reported_with_what_the_encoder_does(tmp_path, suffix, effect):
    """The encoder, not avsep, limits (AAC may) or clips (PCM) a remix pushed over full scale:
    the remix is then not the sum asked for, and a warning says by how much and what to do."""
    from tests.media import make_video

    video = make_video(
        tmp_path / f"duet{suffix}", **{**DUET, "audio_codec": "aac" if suffix == ".mp4" else "pcm_s16le"}
    )
    loud = cli("remix", video, *BOXES, "--gain", "right=+20", "-o", tmp_path / f"loud{suffix}", "-q")
    (warning,) = [line for line in loud.stderr.splitlines() if line.startswith("warning:")]
    assert "dB over full scale (peak " in warning and effect in warning and "give smaller --gain values" in warning
    quiet = cli("remix", video, *BOXES, "--gain", "right=-3", "-o", tmp_path / f"quiet{suffix}", "-q")
    assert "warning:" not in quiet.stderr


def test_an_input_in_a_container_avsep_cannot_write_gets_an_mkv_by_default(tmp_path):
    from tests.media import make_video

    video = make_video(tmp_path / "clip.avi", **DUET)
    result = cli("remix", video, *BOXES, "-q")
    (warning,) = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert "cannot write a video as .avi" in warning and "clip.remix.mkv" in warning
    assert result.stdout.strip() == str(tmp_path / "clip.remix.mkv")
    assert video_packets(tmp_path / "clip.remix.mkv") == video_packets(video)


def test_remix_errors_are_one_line(duet, tmp_path):
    taken = tmp_path / "taken.mkv"
    taken.write_bytes(b"keep me")
    cases = [
        (["--gain", "left"], "NAME=DB"),
        (["--gain", "flute=+3"], "no source is named 'flute'; this video's sources are left, right"),
        (["--solo", "left", "--mute", "left"], "pick one"),
        (["--stems", "--gain", "left=1"], "--stems writes the sources as they are"),
        (["-o", taken], "already exists; pass --overwrite"),
        (["-o", tmp_path / "x.avi"], "write the video as"),
    ]
    for options, message in cases:
        result = cli("remix", duet, *BOXES, "-q", *options, code=2)
        assert message in error_line(result)
    assert taken.read_bytes() == b"keep me"


def test_a_webm_remix_of_44_1_khz_sound_is_opus_at_48_khz(tmp_path):
    """WebM holds Opus or Vorbis: another soundtrack becomes Opus, which takes no 44.1 kHz; the
    encoder resamples it (the muxer refused it: "Invalid argument", a Vorbis WebM's default)."""
    from tests.media import make_video

    spec = {**DUET, "sample_rate": 44100, "codec": "libvpx", "audio_codec": "aac"}
    video = make_video(tmp_path / "clip.mkv", **spec)  # VP8 as WebM's, AAC as WebM's is not
    out = tmp_path / "remixed.webm"
    result = cli("remix", video, *BOXES, "--gain", "right=-3", "-o", out, "-q")
    assert "libopus cannot be written at 44100 Hz, so its sound is 48000 Hz (resampled)" in result.stderr
    with av.open(str(out)) as container:
        (audio,) = container.streams.audio
        assert (audio.codec_context.name, audio.sample_rate) == ("opus", 48000)
    sound, rate = load_audio(out, mono=False)
    assert sound.shape[0] == pytest.approx(DUET["duration"] * rate, abs=0.05 * rate) and np.abs(sound).max() > 0.01


def test_a_webm_of_an_h264_picture_is_refused_before_any_work(duet, tmp_path):
    """The picture is copied, and WebM holds only VP8, VP9 and AV1: one line, nothing written (it
    was an unexpected ValueError once the separation had run)."""
    line = error_line(cli("remix", duet, *BOXES, "-o", tmp_path / "x.webm", code=2))
    assert line.endswith(
        "x.webm: .webm holds av1, vp8, vp9 video, not h264 (the picture is copied, never re-encoded)"
        "; write .mkv or .mp4"
    )
    assert list(tmp_path.iterdir()) == []
