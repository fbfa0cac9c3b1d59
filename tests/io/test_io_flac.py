"""FLAC output (avsep/io/flac.py, avsep/io/output.py): round trips, stdout, no partial files."""

from __future__ import annotations

import errno
import io
import os

import av
import numpy as np
import pytest
import soundfile as sf

from avsep.errors import AvsepError, InputError
from avsep.io.output import extension, open_writer, write_stdout
from avsep.io.wav import pcm_ints
from tests.media import layouts_read

BITS = {"flac": 16, "flac24": 24}


@pytest.mark.parametrize("channels", [1, 2])
@pytest.mark.parametrize("fmt", ["flac", "flac24"])
def test_round_trip(tmp_path, fmt, channels):
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((30000, channels)) * 0.2).astype(np.float32)
    x[0] = 1.5  # clipped, not wrapped
    target = tmp_path / f"x.{extension(fmt)}"
    with open_writer(target, 48000, channels, fmt) as writer:
        for start in range(0, len(x), 7000):
            writer.write(x[start : start + 7000] if channels > 1 else x[start : start + 7000, 0])
    y, rate = sf.read(str(target), dtype="int32", always_2d=True)  # samples in the top bits
    info = sf.info(str(target))
    assert (info.format, info.subtype, rate, y.shape) == ("FLAC", f"PCM_{BITS[fmt]}", 48000, x.shape)
    np.testing.assert_array_equal(y >> (32 - BITS[fmt]), pcm_ints(x, BITS[fmt]))  # lossless, clipped
    assert [p.name for p in tmp_path.iterdir()] == [target.name]  # no temporary file left


class Pipe(io.RawIOBase):
    """A non-seekable sink, as standard output piped into a player is."""

    def __init__(self) -> None:
        self.data = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, chunk) -> int:
        self.data += bytes(chunk)
        return len(chunk)


def test_stdout_stream_decodes():
    x = (np.random.default_rng(1).standard_normal((20000, 2)) * 0.1).astype(np.float32)
    pipe = Pipe()
    assert write_stdout([x[:5000], x[5000:]], 44100, "flac", pipe)
    with av.open(io.BytesIO(bytes(pipe.data))) as container:
        y = np.concatenate([f.to_ndarray().reshape(-1, 2) for f in container.decode(audio=0)])
    assert y.shape == x.shape
    np.testing.assert_array_equal(y, pcm_ints(x, 16))


def test_disk_full_is_reported_and_leaves_nothing(tmp_path):
    target = tmp_path / "x.flac"
    writer = open_writer(target, 8000, 1, "flac")
    real = writer._file

    class Full(io.RawIOBase):
        def writable(self) -> bool:
            return True

        def seekable(self) -> bool:
            return True

        def write(self, _data):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    writer._encoder._container.close()
    writer._file = Full()
    from avsep.io.flac import FlacEncoder

    writer._encoder = FlacEncoder(writer._file, 8000, 1, 16)
    with pytest.raises(AvsepError, match=r"cannot write .*x\.flac: no space left on device; free some disk space"):
        for _ in range(50):
            writer.write(np.zeros(8000, np.float32))
        writer.close()
    real.close()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("channels", "layout", "read"),
    [
        (6, "5.1(side)", "5.1(side)"),
        (6, "5.1", "5.1"),
        (2, "5.1", "stereo"),
        (6, None, "5.1(side)"),  # not known: FLAC's own assignment of 6 channels, no mask tag
        (3, None, "3.0"),  # not 2.1: no LFE channel invented
        (3, "3 channels", "3.0"),
    ],
)
def test_the_input_speaker_layout_is_declared(tmp_path, channels, layout, read):
    """FLAC stems carry the input's layout (FFmpeg writes the channel mask tag a layout other
    than FLAC's own needs), in a file and on standard output; without one, no tag: the file
    claims only FLAC's own assignment for the count (FFmpeg's default layout for it, ``3c``,
    would claim an LFE channel as 2.1)."""
    data = np.zeros((4800, channels), np.float32)
    with open_writer(tmp_path / "x.flac", 48000, channels, "flac", layout=layout) as writer:
        writer.write(data)
    with open(tmp_path / "piped.flac", "wb") as handle:
        assert write_stdout([data], 48000, "flac", stream=handle, layout=layout)
    for path in (tmp_path / "x.flac", tmp_path / "piped.flac"):
        assert set(layouts_read(path)) == {read}


def test_more_channels_than_flac_holds_are_refused_by_the_writer_too(tmp_path):
    """The batch refuses them once the video is probed; the writer, for callers that skip that
    check (the Python API's ``save``), says the same and leaves no file."""
    with pytest.raises(InputError, match=r"^FLAC holds 1 to 8 channels, not 9; use mono or another fmt$"):
        with open_writer(tmp_path / "x.flac", 8000, 9, "flac") as writer:
            writer.write(np.zeros((10, 9), np.float32))
    assert list(tmp_path.iterdir()) == []
