"""Compressed output (avsep/io/encoded.py, avsep/io/output.py): mp3, m4a and opus round trips
with their tags and bit rate, streams to a pipe, no partial files."""

from __future__ import annotations

import io

import av
import numpy as np
import pytest

from avsep.errors import AvsepError, InputError
from avsep.io.encoded import encoder_rate
from avsep.io.output import check_format, extension, open_writer, write_stdout
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
    with pytest.raises(AvsepError, match="MP3 holds 1 to 2 channels, not 6; use --mono"):
        open_writer(tmp_path / "x.mp3", 48000, 6, "mp3")
    assert list(tmp_path.iterdir()) == []


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
