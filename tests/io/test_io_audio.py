"""Audio decoding: downmix of any channel count, exact resampled lengths, streaming blocks."""

from __future__ import annotations

import logging
import shutil
import subprocess

import av.logging
import numpy as np
import pytest

from avsep.errors import InputError
from avsep.io.audio import MODEL_SR, Resampler, load_audio, stream_audio
from avsep.io.ffmpeg_log import decoder_threads, route_ffmpeg_log
from tests.media import make_tone_wav, make_video, truncated_copy


def _exact(n: int, out_rate: int, in_rate: int) -> int:
    return int(np.floor(n * out_rate / in_rate + 0.5))


def _peak_frequency(x: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.fft.rfftfreq(len(x), 1 / rate)[spectrum.argmax()])


@pytest.mark.parametrize("channels", [1, 2, 3, 6, 8])
def test_downmix_averages_every_channel(tmp_path, channels):
    """Channel c holds the constant c+1 (scaled): the mono mix must be their plain mean."""
    n = 4000
    data = np.tile((np.arange(channels) + 1) / 10.0, (n, 1))
    path = make_tone_wav(tmp_path / "c.wav", sample_rate=8000, data=data, subtype="FLOAT")
    mono, rate = load_audio(path)
    assert rate == 8000 and mono.dtype == np.float32 and mono.shape == (n,)
    np.testing.assert_allclose(mono, (channels + 1) / 20.0, atol=1e-6)
    multi, _ = load_audio(path, mono=False)
    assert multi.shape == (n, channels)
    np.testing.assert_allclose(multi, data, atol=1e-6)


def test_stereo_with_different_channels(tmp_path):
    rate = 11025
    t = np.arange(rate) / rate
    left, right = 0.5 * np.sin(2 * np.pi * 440 * t), 0.25 * np.sin(2 * np.pi * 1000 * t)
    path = make_tone_wav(tmp_path / "lr.wav", sample_rate=rate, data=np.stack([left, right], 1), subtype="FLOAT")
    mono = np.concatenate(list(stream_audio(path)))
    np.testing.assert_allclose(mono, (left + right) / 2, atol=1e-6)


def _video_peak(path) -> tuple[float, float]:
    mono = np.concatenate(list(stream_audio(path)))
    body = mono[len(mono) // 4 : 3 * len(mono) // 4]
    return float(np.abs(body).max()), _peak_frequency(body, MODEL_SR)


@pytest.mark.parametrize(
    ("name", "channels", "codec"),
    [
        ("stereo.mp4", 2, None),
        ("surround.mkv", 6, "pcm_s16le"),
        ("surround.mkv", 8, "pcm_s16le"),
    ],
)
def test_downmix_in_video_containers(tmp_path, name, channels, codec):
    """Every channel carries the same tone, so an average keeps its level (FFmpeg's standard
    downmix matrices would not)."""
    path = make_video(
        tmp_path / name,
        duration=1.0,
        width=32,
        height=32,
        channels=channels,
        sample_rate=48000,
        audio_codec=codec,
        tones=(440.0,),
    )
    peak, frequency = _video_peak(path)
    assert peak == pytest.approx(0.8, rel=0.03)
    assert frequency == pytest.approx(440, abs=5)


def test_aac_surround(tmp_path):
    """AAC 5.1 decodes to planar 6-channel frames; the encoder may band-limit the LFE channel,
    so at least five of six equal channels must remain in the average."""
    path = make_video(
        tmp_path / "surround.mp4", duration=1.0, width=32, height=32, channels=6, sample_rate=48000, tones=(440.0,)
    )
    peak, frequency = _video_peak(path)
    assert 0.8 * 5 / 6 * 0.97 < peak < 0.8 * 1.03
    assert frequency == pytest.approx(440, abs=5)


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs the ffmpeg command to encode AAC 7.1")
def test_aac_7_1(tmp_path):
    """Planar 8-channel frames crash PyAV 18's to_ndarray; the reader must not go that way."""
    path = tmp_path / "71.mkv"
    pan = "pan=7.1|" + "|".join(f"c{i}=c0" for i in range(8))
    subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "sine=f=440:r=48000:d=1", "-af", pan, "-c:a", "aac", str(path)],
        check=True,
        timeout=60,
    )
    mono, rate = load_audio(path, sample_rate=MODEL_SR)
    assert len(mono) / rate == pytest.approx(1.0, abs=0.05)
    assert _peak_frequency(mono, rate) == pytest.approx(440, abs=5)


@pytest.mark.parametrize("rate", [8000, 44100, 48000, 96000])
def test_resampled_length_is_exact(tmp_path, rate):
    n = rate + 123  # not a whole number of output samples
    path = make_tone_wav(tmp_path / f"{rate}.wav", sample_rate=rate, data=np.full(n, 0.1))
    blocks = list(stream_audio(path, block=4096))
    assert all(len(b) == 4096 for b in blocks[:-1]) and 0 < len(blocks[-1]) <= 4096
    assert all(b.dtype == np.float32 and b.ndim == 1 for b in blocks)
    total = np.concatenate(blocks)
    assert len(total) == _exact(n, MODEL_SR, rate)
    # Level is kept away from the edges (the resampler's filter rings at the cut).
    np.testing.assert_allclose(total[200:-200], 0.1, atol=2e-3)
    loaded, out_rate = load_audio(path, sample_rate=MODEL_SR)
    assert out_rate == MODEL_SR
    np.testing.assert_array_equal(loaded, total)


def test_tone_survives_resampling(tmp_path):
    path = make_tone_wav(tmp_path / "t.wav", freqs=(1234.0,), duration=1.0, sample_rate=44100)
    mono, rate = load_audio(path, sample_rate=MODEL_SR)
    assert _peak_frequency(mono, rate) == pytest.approx(1234, abs=3)


def test_native_rate_is_kept(tmp_wav):
    mono, rate = load_audio(tmp_wav(duration=0.5, sample_rate=22050))
    assert rate == 22050 and len(mono) == 11025


@pytest.mark.parametrize(
    ("in_rate", "out_rate"), [(11025, 44100), (11025, 48000), (11025, 8000), (11025, 11025), (44100, 11025)]
)
def test_streaming_resampler_exact_and_seamless(in_rate, out_rate):
    rng = np.random.default_rng(1)
    sizes = rng.integers(1, 5000, size=40)
    n = int(sizes.sum())
    t = np.arange(n) / in_rate
    x = (0.5 * np.sin(2 * np.pi * 300 * t)).astype(np.float32)
    resampler = Resampler(in_rate, out_rate)
    pieces, start = [], 0
    for size in sizes:
        pieces.append(resampler.push(x[start : start + size]))
        start += size
    pieces.append(resampler.flush())
    y = np.concatenate(pieces)
    assert y.dtype == np.float32 and len(y) == _exact(n, out_rate, in_rate)
    # Same result as one big push: block boundaries leave no trace.
    whole = Resampler(in_rate, out_rate)
    z = np.concatenate([whole.push(x), whole.flush()])
    np.testing.assert_allclose(y, z, atol=1e-6)
    expected = 0.5 * np.sin(2 * np.pi * 300 * np.arange(len(y)) / out_rate)
    np.testing.assert_allclose(y[100:-100], expected[100:-100], atol=0.02)


def test_resampler_is_reusable_after_flush():
    resampler = Resampler(48000, MODEL_SR)
    for _ in range(2):
        out = np.concatenate([resampler.push(np.ones(48000, np.float32)), resampler.flush()])
        assert len(out) == MODEL_SR


def test_late_audio_is_padded_to_the_shared_timeline(tmp_path):
    path = make_video(tmp_path / "late.mkv", duration=2.0, width=32, height=32, audio_start=0.5)
    mono, rate = load_audio(path, sample_rate=MODEL_SR)
    assert np.abs(mono[: int(0.48 * rate)]).max() == 0
    assert np.abs(mono[int(0.6 * rate) :]).max() > 0.5
    assert len(mono) / rate == pytest.approx(2.5, abs=0.05)


def test_memory_does_not_grow_with_length(tmp_path):
    """Blocks are independent small arrays, not views into a whole-file buffer."""
    path = make_tone_wav(tmp_path / "long.wav", duration=30.0, sample_rate=8000)
    biggest = 0
    for block in stream_audio(path, block=8192):
        base = block.base if block.base is not None else block
        biggest = max(biggest, base.nbytes)
    assert biggest < 8 * 8192 * 4


def test_truncated_file_decodes_what_it_can(tmp_path):
    full = make_video(tmp_path / "full.mkv", duration=4.0, width=32, height=32)
    cut = truncated_copy(full, tmp_path / "cut.mkv", 0.5)
    mono = np.concatenate(list(stream_audio(cut)))
    assert 1.0 < len(mono) / MODEL_SR < 3.5


def test_truncated_faststart_mp4(tmp_path):
    full = make_video(tmp_path / "full.mp4", duration=4.0, width=32, height=32, faststart=True)
    mono, rate = load_audio(truncated_copy(full, tmp_path / "cut.mp4", 0.5))
    assert 0.5 < len(mono) / rate < 3.5


def test_no_audio_stream(tmp_path):
    silent = make_video(tmp_path / "silent.mp4", duration=0.5, width=32, height=32, audio=False)
    with pytest.raises(InputError, match=r"silent\.mp4: no audio stream; .*--audio-stream"):
        stream_audio(silent)


def test_errors_raise_at_call_time(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        stream_audio(tmp_path / "missing.wav")
    with pytest.raises(InputError, match="no audio stream 3"):
        load_audio(make_tone_wav(tmp_path / "a.wav"), audio_stream=3)


def test_a_cut_stream_says_it_ends_early_and_ffmpeg_speaks_only_through_logging(tmp_path, caplog, capfd):
    """A faststart mp4 cut short opens fine (its index is first) and decodes to the cut: the
    shortfall against the declared duration is a warning, and FFmpeg's own complaints ("partial
    file") go to the ``libav`` loggers, never straight to the terminal."""
    whole = make_video(tmp_path / "web.mp4", duration=4.0, width=64, height=48, faststart=True)
    cut = truncated_copy(whole, tmp_path / "cut.mp4", 0.6)
    av.logging.set_level(av.logging.ERROR)  # as `import torchvision` does: avsep turns it off again
    with caplog.at_level(logging.WARNING):
        decoded = sum(len(b) for b in stream_audio(cut)) / MODEL_SR
    assert decoded < 3.5
    early = [r.getMessage() for r in caplog.records if "stream ends early" in r.getMessage()]
    assert len(early) == 1 and f"decodes to {decoded:.2f} s of the 4.00 s" in early[0], early
    assert not any(r.name.startswith("libav") for r in caplog.records)  # dropped unless asked for
    assert capfd.readouterr().err == ""
    caplog.clear()
    route_ffmpeg_log(True)  # what --debug does
    try:
        with caplog.at_level(logging.WARNING):
            sum(len(b) for b in stream_audio(cut))
        assert decoder_threads() == "NONE"  # a logging decoder thread could deadlock a free
    finally:
        route_ffmpeg_log(False)
    assert any(r.name.startswith("libav") for r in caplog.records)
    assert capfd.readouterr().err == "" and decoder_threads() == "AUTO"
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        sum(len(b) for b in stream_audio(whole))
    assert not caplog.records  # a whole file says nothing
