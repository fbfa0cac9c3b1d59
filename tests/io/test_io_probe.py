"""probe(): stream discovery across containers, rotation, and errors for unusable inputs."""

from __future__ import annotations

import numpy as np
import pytest

from avsep.errors import InputError
from avsep.io.media import probe
from tests.media import has_encoder, make_tone_wav, make_video, truncated_copy

CONTAINERS = [".mp4", ".mkv", ".mov", ".avi", ".webm"]


@pytest.mark.parametrize("suffix", CONTAINERS)
def test_probe_containers(shared_video, suffix):
    if suffix == ".webm" and not (has_encoder("libvpx") and has_encoder("libopus")):
        pytest.skip("this FFmpeg build cannot encode VP8/Opus for a webm fixture")
    path = shared_video(f"clip{suffix}", duration=2.0, width=96, height=64)
    info = probe(path)
    assert info.path == path
    assert info.size_bytes == path.stat().st_size
    assert info.duration == pytest.approx(2.0, abs=0.1)
    assert info.video is not None and info.audio is not None
    assert (info.video.width, info.video.height, info.video.rotation) == (96, 64, 0)
    assert info.video.fps == pytest.approx(10.0)
    assert info.audio.channels == 1
    assert info.audio.sample_rate == (48000 if suffix == ".webm" else 44100)
    assert info.videos == (info.video,) and info.audios == (info.audio,)


@pytest.mark.parametrize("suffix", [".mp4", ".mkv"])
def test_where_the_audio_starts_and_how_long_it_lasts(tmp_video, suffix):
    """A late audio track: its start on the file's timeline and its length, from the header, or
    (Matroska) from the DURATION tag of where it ends, so a track that ends early is known."""
    info = probe(tmp_video(f"late{suffix}", duration=2.0, width=32, height=32, audio_start=1.0))
    assert info.audio.offset == pytest.approx(1.0, abs=0.03)
    assert info.audio.duration == pytest.approx(2.0, abs=0.03)


@pytest.mark.parametrize("rotate", [90, 180, 270])
def test_rotation_reports_displayed_size(tmp_video, rotate):
    info = probe(tmp_video("rot.mp4", duration=0.5, width=96, height=64, rotate=rotate))
    assert info.video.rotation == rotate
    assert (info.video.width, info.video.height) == (96, 64)


def test_audio_only_and_video_only(tmp_video, tmp_wav):
    silent = probe(tmp_video("silent.mp4", duration=0.5, width=32, height=32, audio=False))
    assert silent.audio is None and silent.audios == () and silent.video is not None
    song = probe(tmp_wav("song.wav", duration=0.5, sample_rate=8000, channels=2))
    assert song.video is None and song.audio.sample_rate == 8000 and song.audio.channels == 2
    assert song.duration == pytest.approx(0.5)


def test_stream_selection_out_of_range(shared_video):
    path = shared_video("clip.mkv", duration=1.0, width=32, height=32)
    assert probe(path, audio_stream=0, video_stream=0).audio.index == 1
    with pytest.raises(InputError, match=r"no audio stream 1 \(the file has 1\).*--audio-stream"):
        probe(path, audio_stream=1)
    with pytest.raises(InputError, match="--video-stream"):
        probe(path, video_stream=-1)


def test_stream_selection_without_streams(tmp_wav):
    with pytest.raises(InputError, match="has no video streams"):
        probe(tmp_wav("a.wav"), video_stream=0)


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match=r"nope\.mp4: no such file"):
        probe(tmp_path / "nope.mp4")


def test_directory(tmp_path):
    with pytest.raises(InputError, match="is a directory"):
        probe(tmp_path)


def test_empty_file(tmp_path):
    empty = tmp_path / "empty.mp4"
    empty.touch()
    with pytest.raises(InputError, match=r"empty\.mp4: empty file \(0 bytes\)"):
        probe(empty)


def test_random_bytes(tmp_path):
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(np.random.default_rng(0).bytes(50_000))
    with pytest.raises(InputError, match=r"junk\.mp4: not a video or audio file FFmpeg can read"):
        probe(junk)


def test_text_file(tmp_path):
    text = tmp_path / "notes.mkv"
    text.write_text("hello\n" * 100)
    with pytest.raises(InputError, match="not a video or audio file"):
        probe(text)


def test_truncated_index_at_end(shared_video, tmp_path):
    """An mp4 cut before its index (written last) cannot be opened at all."""
    cut = truncated_copy(shared_video("clip.mp4", duration=2.0, width=64, height=64), tmp_path / "cut.mp4", 0.5)
    with pytest.raises(InputError, match=r"cut\.mp4: .*truncated or corrupt"):
        probe(cut)


def test_truncated_mkv_still_probes(shared_video, tmp_path):
    cut = truncated_copy(shared_video("clip.mkv", duration=2.0, width=64, height=64), tmp_path / "cut.mkv", 0.5)
    info = probe(cut)
    assert info.video is not None and info.audio is not None
    assert info.duration > 0


def test_error_messages_are_one_line(tmp_path):
    junk = tmp_path / "x.avi"
    junk.write_bytes(b"\x00" * 1000)
    with pytest.raises(InputError) as caught:
        probe(junk)
    assert "\n" not in str(caught.value) and caught.value.exit_code == 2


def test_wav_tone(tmp_path):
    info = probe(make_tone_wav(tmp_path / "t.wav", duration=0.25, sample_rate=11025))
    assert info.format == "wav" and info.audio.codec == "pcm_s16le"


def test_duration_from_packets_when_headers_lack_it(tmp_path):
    """A recording never finalised has no duration anywhere in its headers."""
    info = probe(make_video(tmp_path / "live.mkv", duration=1.5, width=32, height=32, live=True))
    assert info.video.duration is None and info.audio.duration is None
    assert info.duration == pytest.approx(1.5, abs=0.05)


def test_unreadable_reported_even_as_root(tmp_wav, monkeypatch):
    path = tmp_wav("locked.wav")
    monkeypatch.setattr("avsep.io.media.os.access", lambda *_: False)
    with pytest.raises(InputError, match=r"locked\.wav: permission denied"):
        probe(path)
