"""Compressed output (avsep/io/encoded.py, avsep/io/output.py): mp3, m4a and opus round trips
with their tags and bit rate, streams to a pipe, no partial files."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import av
import numpy as np
import pytest

from avsep.errors import InputError
from avsep.io.encoded import encoder_rate
from avsep.io.media import AudioStreamInfo, MediaInfo
from avsep.io.output import check_format, check_output_audio, extension, open_writer, write_stdout
from avsep.io.soundtrack import SoundtrackWarning
from avsep.options import COMMAND_LINE, BatchOptions
from tests.io.test_io_flac import Pipe


def _sine(seconds: float, rate: int, channels: int) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    x = (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    return np.stack([x * (c + 1) / channels for c in range(channels)], axis=1)


def _decoded(data: bytes | str) -> tuple[np.ndarray, av.container.InputContainer]:
    container = av.open(io.BytesIO(data) if isinstance(data, bytes) else data)
    frames = [f.to_ndarray() for f in container.decode(audio=0)]
    planar = np.concatenate(frames, axis=-1)
    return planar, container


@pytest.mark.parametrize("channels", [1, 2])
@pytest.mark.parametrize(("fmt", "codec"), [("mp3", "mp3"), ("m4a", "aac"), ("opus", "opus")])
def test_round_trip_with_tags_and_bitrate(tmp_path, fmt, codec, channels):
    x = _sine(2.0, 44100, channels)
    target = tmp_path / f"guitar.{extension(fmt)}"
    tags = {"title": "guitar", "comment": "avsep: guitar from duet.mp4"}
    with open_writer(target, 44100, channels, fmt, bitrate=96_000, tags=tags) as writer:
        for start in range(0, len(x), 7000):
            writer.write(x[start : start + 7000] if channels > 1 else x[start : start + 7000, 0])
    assert [p.name for p in tmp_path.iterdir()] == [target.name]  # no temporary file left
    y, container = _decoded(str(target))
    stream = container.streams.audio[0]
    assert stream.codec_context.name.startswith(codec) and stream.channels == channels
    assert stream.sample_rate == encoder_rate(fmt, 44100) == (48000 if fmt == "opus" else 44100)
    metadata = {**container.metadata, **stream.metadata}
    assert metadata["title"] == "guitar" and "duet.mp4" in metadata["comment"]
    seconds = y.shape[-1] / stream.sample_rate
    assert 1.95 < seconds < 2.15  # codec priming and padding only
    middle = y[..., y.shape[-1] // 4 : y.shape[-1] // 2]
    rms = np.sqrt((middle.astype(np.float64) ** 2).mean(axis=-1)).reshape(-1)
    expected = [0.5 / np.sqrt(2) * (c + 1) / channels for c in range(channels)]
    np.testing.assert_allclose(rms, expected, rtol=0.05)
    assert target.stat().st_size < 2.0 * 96_000 / 8 * 1.6  # the bit rate asked for, plus headers (VBR)
    container.close()


def test_a_pipe_takes_mp3_and_opus():
    x = _sine(1.0, 48000, 2)
    for fmt in ("mp3", "opus"):
        pipe = Pipe()
        assert write_stdout([x[:5000], x[5000:]], 48000, fmt, pipe)
        y, container = _decoded(bytes(pipe.data))
        assert y.shape[0] == 2 and y.shape[-1] >= 48000
        container.close()


def test_mp3_refuses_more_than_two_channels_and_leaves_nothing(tmp_path):
    with pytest.raises(InputError, match="MP3 holds 1 to 2 channels, not 6; use mono or another fmt"):
        open_writer(tmp_path / "x.mp3", 48000, 6, "mp3")
    assert list(tmp_path.iterdir()) == []


def _video(rate: int, channels: int) -> MediaInfo:
    """A probed video as check_output_audio sees it (its audio stream is all it reads)."""
    audio = AudioStreamInfo(1, "aac", rate, channels, 10.0)
    return MediaInfo(Path("v.mp4"), "mp4", 10.0, 1, None, audio, (), (audio,))


def test_a_format_that_changes_the_rate_says_so_and_one_that_cannot_hold_the_channels_refuses():
    """Outputs are at the video's rate (or --sample-rate's) unless the format's encoder takes no
    such rate: a warning then names the rate written. Too many channels for the format is an
    input error, raised once the video is probed (before any work)."""
    say = {"wording": COMMAND_LINE}
    with pytest.warns(
        SoundtrackWarning, match=r"v.mp4: MP3 cannot be written at 96000 Hz, so the outputs are 48000 Hz "
    ):
        check_output_audio(_video(96000, 2), BatchOptions(fmt="mp3", **say), 2)
    with pytest.warns(
        SoundtrackWarning, match=r"OPUS .* 48000 Hz rather than --sample-rate 44100; a lossless --format"
    ):
        check_output_audio(_video(48000, 1), BatchOptions(fmt="opus", sample_rate=44100, **say), 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for fmt in ("m4a", "flac", "pcm24"):  # they keep 96 kHz
            check_output_audio(_video(96000, 6), BatchOptions(fmt=fmt, **say), 6)
    with pytest.raises(InputError, match=r"^MP3 holds 1 to 2 channels, not 6; use --mono or another --format$"):
        check_output_audio(_video(44100, 6), BatchOptions(fmt="mp3", **say), 6)


def test_format_and_bitrate_mistakes_are_one_line_each():
    with pytest.raises(InputError, match=r"--bitrate '9': give bits per second from 32k to 512k"):
        BatchOptions(fmt="mp3", bitrate="9", wording=COMMAND_LINE)
    assert BatchOptions(fmt="mp3", bitrate="160k").bitrate == 160_000
    with pytest.raises(InputError, match="--bitrate applies to mp3, m4a, opus; flac is lossless"):
        check_format(BatchOptions(fmt="flac", bitrate=128_000, wording=COMMAND_LINE))
    with pytest.raises(InputError, match="--format m4a cannot stream to -o -"):
        check_format(BatchOptions(fmt="m4a", out_dir="-", source=1, wording=COMMAND_LINE))
    with pytest.raises(InputError, match="--format 'ogg': use one of pcm16, .*, mp3, m4a, opus"):
        check_format(BatchOptions(fmt="ogg", wording=COMMAND_LINE))
