"""WAV output: formats, atomic replacement, write errors, and streaming to a pipe."""

from __future__ import annotations

import errno
import os
import struct
import subprocess
import sys
import textwrap
import wave
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from avsep.errors import AvsepError, InputError, already_exists
from avsep.io.audio import load_audio
from avsep.io.wav import FORMATS, AtomicWavWriter, write_wav_stdout
from tests.media import layouts_read

ROOT = Path(__file__).resolve().parents[2]


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


@pytest.mark.parametrize("fmt", list(FORMATS))
@pytest.mark.parametrize("channels", [1, 2, 6])
def test_round_trip(tmp_path, fmt, channels):
    rng = np.random.default_rng(0)
    data = (rng.uniform(-0.9, 0.9, size=(3000, channels))).astype(np.float32)
    target = tmp_path / "out" / "x.wav"
    with AtomicWavWriter(target, 11025, channels=channels, fmt=fmt) as writer:
        for start in range(0, 3000, 700):
            block = data[start : start + 700]
            writer.write(block[:, 0] if channels == 1 else block)
    info = sf.info(target)
    assert (info.samplerate, info.channels, info.frames, info.subtype) == (11025, channels, 3000, FORMATS[fmt])
    back, _ = sf.read(target, dtype="float32", always_2d=True)
    # Readers scale by 2**(bits-1), writers by 2**(bits-1) - 1: allow that plus rounding.
    tolerance = {"pcm16": 2 / 32767, "pcm24": 2 / 8388607, "float": 0}[fmt]
    np.testing.assert_allclose(back, data, atol=tolerance)
    # FFmpeg reads it too (WAVE_FORMAT_EXTENSIBLE for >2 channels or >16 bits).
    via_ffmpeg, rate = load_audio(target, mono=False)
    assert rate == 11025 and via_ffmpeg.shape == (3000, channels)
    assert _leftovers(target.parent) == []


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_channels_as_a_transposed_view_are_written(tmp_path, fmt):
    """Separation rows are ``[channels, n]`` and reach the writer transposed (not contiguous):
    24-bit packing must not need a contiguous array (it crashed every stereo pcm24 stem)."""
    rows = np.random.default_rng(0).uniform(-0.5, 0.5, size=(2, 1000)).astype(np.float32)
    with AtomicWavWriter(tmp_path / "x.wav", 8000, channels=2, fmt=fmt) as writer:
        writer.write(rows.T)
    back, _ = sf.read(tmp_path / "x.wav", dtype="float32", always_2d=True)
    np.testing.assert_allclose(back, rows.T, atol=2 / 32767)


def test_pcm_clips_instead_of_wrapping(tmp_path):
    target = tmp_path / "loud.wav"
    with AtomicWavWriter(target, 8000) as writer:
        writer.write(np.array([2.0, -3.0, 0.5, np.nan, np.inf], np.float32))
    back, _ = sf.read(target, dtype="float32")
    np.testing.assert_allclose(back, [1.0, -1.0, 0.5, 0.0, 1.0], atol=1e-4)


def test_exception_leaves_nothing(tmp_path):
    target = tmp_path / "x.wav"
    with pytest.raises(RuntimeError), AtomicWavWriter(target, 8000) as writer:
        writer.write(np.zeros(100, np.float32))
        assert len(_leftovers(tmp_path)) == 1 and _leftovers(tmp_path)[0].startswith(".x.wav.")
        raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []


def test_keyboard_interrupt_leaves_nothing(tmp_path):
    target = tmp_path / "x.wav"
    with pytest.raises(KeyboardInterrupt), AtomicWavWriter(target, 8000) as writer:
        writer.write(np.zeros(100, np.float32))
        raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


def test_abort_and_abandon(tmp_path):
    writer = AtomicWavWriter(tmp_path / "a.wav", 8000)
    writer.write(np.zeros(10, np.float32))
    writer.abort()
    writer.abort()
    with pytest.raises(ValueError, match="aborted"):
        writer.close()
    abandoned = AtomicWavWriter(tmp_path / "b.wav", 8000)
    del abandoned
    assert list(tmp_path.iterdir()) == []


def test_existing_target_is_refused_then_overwritten(tmp_path):
    target = tmp_path / "x.wav"
    target.write_bytes(b"old")
    with pytest.raises(InputError, match=r"x\.wav already exists; pass --overwrite .* --skip-existing"):
        AtomicWavWriter(target, 8000)
    assert target.read_bytes() == b"old"
    with AtomicWavWriter(target, 8000, overwrite=True) as writer:
        writer.write(np.zeros(5, np.float32))
    assert sf.info(target).frames == 5
    assert _leftovers(tmp_path) == []


def test_already_exists_is_one_sentence_in_the_readers_words():
    """The writers, the batch and the remix build "already exists" from one function, which
    names the option as the reader does (the API's keyword) and adds what else they can do."""
    said = already_exists("x.wav", "overwrite", more=" or skip_existing to skip this video")
    assert str(said) == "x.wav already exists; pass overwrite to replace it or skip_existing to skip this video"
    assert str(already_exists("y.mkv")) == "y.mkv already exists; pass --overwrite to replace it"


def test_target_appearing_during_the_run_is_not_clobbered(tmp_path):
    target = tmp_path / "x.wav"
    writer = AtomicWavWriter(target, 8000)
    target.write_bytes(b"someone else's")
    with pytest.raises(InputError, match="already exists"):
        writer.close()
    assert target.read_bytes() == b"someone else's" and _leftovers(tmp_path) == []


def test_permissions_follow_umask(tmp_path):
    target = tmp_path / "x.wav"
    with AtomicWavWriter(target, 8000) as writer:
        writer.write(np.zeros(5, np.float32))
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask


def test_disk_full_on_write(tmp_path):
    target = tmp_path / "out" / "x.wav"
    writer = AtomicWavWriter(target, 8000)

    class Full:
        def write(self, _data):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        def close(self):
            pass

    real = writer._file
    writer._file = Full()
    with pytest.raises(AvsepError, match=r"cannot write .*x\.wav: no space left on device; free some disk space"):
        writer.write(np.zeros(100, np.float32))
    real.close()
    assert list(target.parent.iterdir()) == []


def test_disk_full_at_fsync(tmp_path, monkeypatch):
    target = tmp_path / "x.wav"

    def full(_fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr("avsep.io.wav.os.fsync", full)
    with pytest.raises(AvsepError, match="no space left on device"), AtomicWavWriter(target, 8000) as writer:
        writer.write(np.zeros(100, np.float32))
    assert list(tmp_path.iterdir()) == []


def test_read_only_directory(tmp_path, monkeypatch):
    def read_only(*_args, **_kwargs):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr("avsep.io.wav.tempfile.mkstemp", read_only)
    with pytest.raises(AvsepError, match=r"cannot write .*x\.wav: read-only file system"):
        AtomicWavWriter(tmp_path / "x.wav", 8000)


def test_target_is_a_directory(tmp_path):
    with pytest.raises(InputError, match="is a directory"):
        AtomicWavWriter(tmp_path, 8000)


def test_unknown_format(tmp_path):
    with pytest.raises(InputError, match="pcm16, pcm24, float"):
        AtomicWavWriter(tmp_path / "x.wav", 8000, fmt="mp3")


_WRITER = textwrap.dedent(
    """
    import sys
    import numpy as np
    from avsep.io.wav import write_wav_stdout
    blocks = (np.full((1000, 2), k / 100, np.float32) for k in range({blocks}))
    ok = write_wav_stdout(blocks, 8000, fmt="{fmt}")
    print("complete" if ok else "reader left", file=sys.stderr)
    """
)

_READER = textwrap.dedent(
    """
    import sys, wave
    import numpy as np
    reader = wave.open(sys.stdin.buffer)
    frames = reader.readframes(10**9)
    data = np.frombuffer(frames, "<i2").reshape(-1, reader.getnchannels())
    print(reader.getframerate(), reader.getnchannels(), len(data), data[-1, 0])
    """
)


def _python(code: str, **kwargs) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen([sys.executable, "-c", code], env=env, **kwargs)


def test_stdout_round_trip_through_a_pipe():
    writer = _python(_WRITER.format(blocks=20, fmt="pcm16"), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    reader = _python(_READER, stdin=writer.stdout, stdout=subprocess.PIPE)
    writer.stdout.close()
    out, _ = reader.communicate(timeout=60)
    _, err = writer.communicate(timeout=60)
    assert writer.returncode == 0 and err.decode().strip() == "complete"
    assert out.split() == [b"8000", b"2", b"20000", str(round(0.19 * 32767)).encode()]


def test_stdout_reader_closing_early_is_quiet():
    writer = _python(_WRITER.format(blocks=2000, fmt="float"), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    writer.stdout.read(5000)
    writer.stdout.close()
    _, err = writer.communicate(timeout=60)
    assert writer.returncode == 0
    assert err.decode().strip() == "reader left"  # no BrokenPipeError noise


@pytest.mark.parametrize("fmt", ["pcm16", "pcm24"])
def test_stdout_to_a_file_gets_exact_header(tmp_path, fmt):
    target = tmp_path / "redirected.wav"
    with open(target, "wb") as handle:
        assert write_wav_stdout([np.zeros(300, np.float32), np.ones(200, np.float32)], 8000, fmt=fmt, stream=handle)
    info = sf.info(target)
    assert (info.frames, info.channels, info.subtype) == (500, 1, FORMATS[fmt])
    if fmt == "pcm16":  # exact sizes, so strict readers are happy too (wave: plain PCM only)
        with wave.open(str(target)) as reader:
            assert reader.getnframes() == 500


def test_stdout_empty_stream(tmp_path):
    target = tmp_path / "empty.wav"
    with open(target, "wb") as handle:
        assert write_wav_stdout([], 8000, stream=handle)
    assert sf.info(target).frames == 0


def wav_speakers(path: Path) -> tuple[int, int | None]:
    """A WAV's format tag and, for WAVE_FORMAT_EXTENSIBLE (0xFFFE), its channel mask, read from
    the header itself."""
    head = path.read_bytes()[:44]
    tag = struct.unpack_from("<H", head, 20)[0]
    return tag, struct.unpack_from("<I", head, 40)[0] if tag == 0xFFFE else None


@pytest.mark.parametrize(
    ("channels", "layout", "tag", "mask", "read"),
    [
        (6, "5.1", 0xFFFE, 0x3F, "5.1"),
        (6, "5.1(side)", 0xFFFE, 0x60F, "5.1(side)"),
        (8, "7.1", 0xFFFE, 0x63F, "7.1"),
        (3, "2.1", 0xFFFE, 0xB, "2.1"),
        (6, None, 0xFFFE, 0, None),  # not known: no positions invented
        (6, "6 channels", 0xFFFE, 0, None),
        (2, "stereo", 1, None, None),  # plain PCM, which every reader opens
        (1, "mono", 1, None, None),
        (2, "5.1", 1, None, None),  # a downmix of a 5.1 input is not 5.1
    ],
)
def test_the_input_speaker_layout_is_declared(tmp_path, channels, layout, tag, mask, read):
    """A 5.1 video's stems say which channel is the centre and which the LFE (the channel mask),
    in a file and on standard output; what no layout names stays undeclared."""
    data = np.zeros((100, channels), np.float32)
    with AtomicWavWriter(tmp_path / "x.wav", 8000, channels, layout=layout) as writer:
        writer.write(data)
    with open(tmp_path / "piped.wav", "wb") as handle:
        assert write_wav_stdout([data], 8000, stream=handle, layout=layout)
    for path in (tmp_path / "x.wav", tmp_path / "piped.wav"):
        assert wav_speakers(path) == (tag, mask)
        if read is not None:
            assert set(layouts_read(path)) == {read}
