"""Full-band, per-channel stems (avsep/separation/fullband.py): a 48 kHz stereo video whose two instruments
are panned apart and reach above 6 kHz keeps each instrument on its side and keeps the top band."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
import torch

from avsep import Separator
from avsep.io.audio import load_audio
from avsep.separation import fullband
from tests.cli_support import cli
from tests.io.test_io_wav import wav_speakers
from tests.media import layouts_read

pytestmark = pytest.mark.usefixtures("fast_model")

RATE = 48000
#: Left instrument: 440 Hz with a 7 kHz partial; right: 660 Hz with a 9 kHz partial.
LEFT, RIGHT = (440.0, 7000.0), (660.0, 9000.0)
PANNED = {
    "duration": 8.0,
    "sample_rate": RATE,
    "channels": 2,
    "tones": (*LEFT, *RIGHT),
    "pan": (-1.0, -1.0, 1.0, 1.0),
    "width": 64,
    "height": 48,
    "audio_codec": "pcm_s16le",
}
BOXES = [(0, 0, 32, 48), (32, 0, 64, 48)]


def energy_at(x: np.ndarray, freqs: tuple[float, ...], rate: int = RATE) -> float:
    """Energy of ``x`` (1-D) within 20 Hz of each of ``freqs``."""
    spectrum = np.abs(np.fft.rfft(x)) ** 2
    f = np.fft.rfftfreq(len(x), 1 / rate)
    return float(sum(spectrum[np.abs(f - fr) < 20].sum() for fr in freqs))


def energy_above(x: np.ndarray, cutoff: float, rate: int = RATE) -> float:
    spectrum = np.abs(np.fft.rfft(x)) ** 2
    return float(spectrum[np.fft.rfftfreq(len(x), 1 / rate) > cutoff].sum())


@pytest.fixture(scope="module")
def panned(tmp_path_factory):
    from tests.media import make_video

    return make_video(tmp_path_factory.mktemp("panned") / "duet.mkv", **PANNED)


def test_stereo_stems_keep_their_side_and_their_top_band(panned):
    result = Separator(device="cpu").separate_file(panned, BOXES, residual=True)
    mixture, _ = load_audio(panned, mono=False)  # [n, 2]
    rows = np.concatenate([result.sources, result.residual[None]])  # [3, 2, n]
    assert result.sample_rate == RATE and rows.shape == (3, 2, mixture.shape[0])
    # Stems plus residual give the mixture back, channel by channel.
    assert np.abs(rows.sum(0) - mixture.T).max() < 1e-4
    left_in_left = energy_at(mixture[:, 0], LEFT)
    right_in_right = energy_at(mixture[:, 1], RIGHT)
    for row in rows:  # nothing of the left instrument moved right, nor the reverse
        assert energy_at(row[1], LEFT) < 1e-6 * left_in_left
        assert energy_at(row[0], RIGHT) < 1e-6 * right_in_right
    # The sources carry the band above 6 kHz (a band-limited output has nothing there).
    for channel in range(2):
        top = energy_above(result.sources[:, channel].sum(0), 6000)
        assert top > 0.05 * energy_above(mixture[:, channel], 6000)


def test_the_band_limited_path_has_no_top_band(panned):
    """The comparison the full-band path is measured against: mono, nothing above 5.5 kHz."""
    result = Separator(device="cpu", full_band=False).separate_file(panned, BOXES)
    mixture, _ = load_audio(panned)
    assert result.sources.shape == (2, mixture.shape[0])
    assert energy_above(result.sources.sum(0), 6000) < 1e-4 * energy_above(mixture, 6000)


def test_cli_writes_stereo_flac_or_mono(panned, tmp_path):
    cli("separate", panned, "--boxes", "strips", "-o", tmp_path / "stereo", "--format", "flac24", "-q")
    files = sorted((tmp_path / "stereo").rglob("*.flac"))  # beside them: the provenance record
    assert [f.name for f in files] == ["source1.flac", "source2.flac"]
    info = sf.info(str(files[-1]))
    assert (info.format, info.subtype, info.channels, info.samplerate) == ("FLAC", "PCM_24", 2, RATE)
    assert info.duration == pytest.approx(PANNED["duration"], abs=0.01)
    cli("separate", panned, "--boxes", "strips", "-o", tmp_path / "mono", "--mono", "-q")
    for f in (tmp_path / "mono").rglob("*.wav"):
        assert sf.info(str(f)).channels == 1


def test_stems_keep_the_videos_speaker_layout(tmp_path):
    """A 5.1 (side) video's stems are 5.1 (side) too, in WAV (its channel mask), FLAC and on
    standard output, so an editor tells the centre from the LFE; a downmix is plain mono."""
    from tests.media import make_video

    video = make_video(
        tmp_path / "surround.mkv",
        duration=2.0,
        channels=6,
        layout="5.1(side)",
        width=64,
        height=48,
        audio_codec="flac",
    )
    runs = {"wav": [], "flac": ["--format", "flac"], "mono": ["--mono"]}
    for folder, options in runs.items():
        cli("separate", video, "--boxes", "strips", "-o", tmp_path / folder, *options, "-q")
    piped = cli("separate", video, "--boxes", "strips", "--source", "1", "-o", "-", "-q").stdout_bytes
    (tmp_path / "piped.wav").write_bytes(piped)
    wavs = [tmp_path / "wav" / "surround" / "source1.wav", tmp_path / "piped.wav"]
    assert [wav_speakers(w) for w in wavs] == [(0xFFFE, 0x60F)] * 2  # FL FR FC LFE SL SR
    for path in [*wavs, tmp_path / "flac" / "surround" / "source2.flac"]:
        assert set(layouts_read(path)) == {"5.1(side)"}, path
    assert wav_speakers(tmp_path / "mono" / "surround" / "source1.wav") == (1, None)


def test_the_fft_length_has_no_large_prime_factor_but_the_models_grid_stays():
    assert [fullband.Grid.for_rate(r).n_fft for r in (11025, 22050, 44100, 48000)] == [1022, 2048, 4096, 4500]
    assert [fullband.Grid.for_rate(r).win for r in (11025, 22050, 44100, 48000)] == [1022, 2044, 4088, 4450]
    assert [fullband.smooth_length(n) for n in (7, 1022, 4450, 4501)] == [8, 1024, 4500, 4608]


@pytest.mark.parametrize("extension", fullband.EXTENSIONS)
@pytest.mark.parametrize("rate", [11025, 44100, 48000])
def test_ratio_masks_still_sum_to_one_on_the_output_grid(rate, extension):
    """Masks that sum to one over the boxes on the model grid do so on any output grid, above
    5.5 kHz too, so stems plus residual stay the mixture whatever the extension."""
    torch.manual_seed(0)
    raw = torch.rand(1, 3, fullband.dsp.FREQ_BINS, fullband.dsp.WINDOW_FRAMES)
    masks = raw / raw.sum(1, keepdim=True)
    grid = fullband.Grid.for_rate(rate)
    frames = 1 + grid.window // grid.hop
    spec = torch.randn(1, 2, grid.n_fft // 2 + 1, frames, dtype=torch.complex64)
    full = fullband.masks_on_grid(masks, spec, grid, extension)
    assert full.shape == (1, 3, 2, grid.n_fft // 2 + 1, frames)
    assert torch.allclose(full.sum(1), torch.ones(()), atol=1e-5)
    if rate == 11025:  # the model's own grid: the masks themselves
        assert torch.allclose(full[:, :, 0, :, : masks.shape[-1]], masks, atol=1e-6)


@pytest.mark.parametrize(
    ("rate", "shared"), [(22050, "no"), (22050, "all"), (22050, "all but one bin"), (11025, "all"), (48000, "all")]
)
@pytest.mark.parametrize("extension", fullband.EXTENSIONS)
def test_apply_masks_masks_the_mixture_spectrum_with_the_grid_masks(extension, rate, shared, monkeypatch):
    """apply_masks writes the masked spectrum part by part (below and above 5.5 kHz) without
    building the full-grid mask: it must give what masking with that mask gives. Masks that
    share every bin out (ratio masks) give the last box as the mixture minus the others: one
    inverse STFT fewer per channel, the same samples."""
    torch.manual_seed(1)
    grid = fullband.Grid.for_rate(rate)
    masks = torch.rand(2, 2, fullband.dsp.FREQ_BINS, fullband.dsp.WINDOW_FRAMES)
    masks = masks / masks.sum(1, keepdim=True) if shared != "no" else masks
    if shared == "all but one bin":
        masks[1, 0, 100, 50] += 1e-3
    mixture = torch.randn(2, 2, grid.window)
    window = torch.hann_window(grid.win)
    spec = torch.stft(
        mixture.flatten(0, 1), grid.n_fft, grid.hop, win_length=grid.win, window=window, return_complex=True
    )
    spec = spec.unflatten(0, (2, 2))
    full = fullband.masks_on_grid(masks, spec, grid, extension)  # [B, S, C, bins, frames]
    if rate > fullband.dsp.SAMPLE_RATE:  # above 5.5 kHz the masks differ between boxes and frames
        assert (full[:, 0, :, -1] - full[:, 1, :, -1]).abs().max() > 0.01
    masked = (spec.unsqueeze(1) * full).flatten(0, 2)
    expected = torch.istft(masked, grid.n_fft, grid.hop, win_length=grid.win, window=window, length=grid.window)
    expected = expected.unflatten(0, (2, 2, 2))
    inverse, calls = torch.istft, []
    monkeypatch.setattr(torch, "istft", lambda *a, **k: calls.append(1) or inverse(*a, **k))
    out = fullband.apply_masks(masks, mixture, grid, extension=extension)
    assert out.shape == (2, 2, 2, grid.window)
    assert torch.allclose(out, expected, atol=1e-5)
    inverted = {"no": [2, 2], "all": [1, 1], "all but one bin": [1, 2]}[shared]  # boxes per window
    assert len(calls) == sum(inverted) * 2  # x channels
