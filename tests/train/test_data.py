from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from avsep.errors import InputError
from avsep.signal.dsp import SAMPLE_RATE, WINDOW_SAMPLES
from avsep.train.augment import RETUNE_STEPS, retune_read
from avsep.train.data import MixDataset
from avsep.train.features import FeatureCache
from avsep.train.index import frame_numbers, read_index, resolve_split
from avsep.train.steps import StepSampler
from tests.train.dataset_fixture import CLASSES, FPS, make_cache


def test_read_index_resolves_relative_paths_classes_and_fps(dataset: Path):
    idx = read_index(dataset / "train.csv")
    assert len(idx) == 6 and idx.fps == FPS
    assert idx.classes == sorted(CLASSES)
    assert all(c.audio.is_file() and c.frames_dir.is_dir() for c in idx.clips)
    assert idx.clips[0].label == idx.clips[0].audio.parent.name
    assert resolve_split(dataset, "val") == dataset / "val.csv"


def test_read_index_accepts_absolute_paths_and_explicit_fps(dataset: Path, tmp_path: Path):
    clip = read_index(dataset / "train.csv").clips[0]
    csv = tmp_path / "abs.csv"
    csv.write_text(f"{clip.audio},{clip.frames_dir},{clip.num_frames}\n\n")
    idx = read_index(csv, fps=8)
    assert idx.clips[0].audio == clip.audio and idx.fps == 8.0


def test_read_index_names_the_bad_line(tmp_path: Path):
    csv = tmp_path / "bad.csv"
    csv.write_text("a.wav,frames/a,3\nb.wav,frames/b,many\n")
    with pytest.raises(InputError, match=r"bad.csv:2: num_frames 'many'"):
        read_index(csv)
    with pytest.raises(InputError, match="not found"):
        read_index(tmp_path / "missing.csv")


def test_frame_numbers_follow_the_sound_of_pixels_convention():
    # frame k shows [(k-1)/fps, k/fps): t = 3.0 s at 8 fps is frame 25
    assert frame_numbers(3.0, 8.0, 100) == [13, 25, 37]
    assert frame_numbers(0.2, 8.0, 100)[0] == 1  # clamped at the start
    assert frame_numbers(10.0, 1.0, 10)[-1] == 10  # and at the end


def test_items_have_the_documented_shapes_and_distinct_classes(dataset: Path):
    ds = MixDataset(read_index(dataset / "train.csv"), num_mix=2, seed=3)
    item = ds[(0, 1)]
    assert item["audio"].shape == (2, WINDOW_SAMPLES) and item["audio"].dtype == torch.float32
    assert item["frames"].shape == (2, 3, 224, 224, 3) and item["frames"].dtype == torch.uint8
    for i in range(len(ds)):
        plan = ds.plan((0, i))
        labels = {ds.index.clips[c].label for c in plan.clips}
        assert len(labels) == 2
        assert plan.clips[0] == ds._perm(0)[i]  # each clip leads once per epoch


def test_items_are_deterministic_per_seed_epoch_index(dataset: Path):
    idx = read_index(dataset / "train.csv")
    a, b = MixDataset(idx, seed=1), MixDataset(idx, seed=1)
    x, y = a[(2, 4)], b[(2, 4)]
    assert torch.equal(x["audio"], y["audio"]) and torch.equal(x["frames"], y["frames"])
    assert a.plan(3) == a.plan((0, 3))
    assert a.plan((0, 4)) != a.plan((1, 4))  # a new epoch draws new segments
    assert MixDataset(idx, seed=2).plan((2, 4)) != a.plan((2, 4))


def test_short_clips_are_zero_padded_and_gains_scale_the_sources(dataset: Path):
    idx = read_index(dataset / "train.csv")
    ds = MixDataset(idx, seed=0, gain_db=0.0)
    for i in range(len(ds)):
        plan = ds.plan(i)
        audio = ds.load(plan)["audio"].numpy()
        for k, (valid, gain) in enumerate(zip(plan.valid, plan.gains)):
            assert gain == pytest.approx(0.5)
            assert not np.any(audio[k, valid:])
            if valid < WINDOW_SAMPLES:  # the 4 s clip, read from the start
                assert valid == 4 * SAMPLE_RATE and plan.starts[k] == 0


def test_too_few_classes_for_the_mixture_is_an_input_error(dataset: Path):
    with pytest.raises(InputError, match="3 class"):
        MixDataset(read_index(dataset / "train.csv"), num_mix=4)


def test_feature_cache_guide_matches_the_trunk(dataset: Path, tmp_path: Path):
    from avsep.models.visual import build_trunk

    real = make_cache(dataset, splits=("val",), out=tmp_path / "val-features.pt")
    idx = read_index(dataset / "val.csv")
    cache = FeatureCache(real)
    assert len(cache) == 3 and cache.trunk == "resnet18"
    cached = MixDataset(idx, seed=5, feature_cache=cache)
    pixels = MixDataset(idx, seed=5)
    item_c, item_p = cached[0], pixels[0]
    assert item_c["visual"].shape == (2, cache.feature_dim) == (2, 512)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.manual_seed(0)  # make_cache built its random resnet18 from this seed
        trunk = build_trunk("resnet18")
    expected = trunk.guide(item_p["frames"])
    assert torch.allclose(item_c["visual"], expected, rtol=2e-3, atol=2e-3)
    # pickles by path for DataLoader workers
    import pickle

    clone = pickle.loads(pickle.dumps(cache))
    assert len(clone) == len(cache)


def test_feature_cache_refuses_an_index_it_does_not_cover(dataset: Path, feature_cache: Path, tmp_path: Path):
    csv = tmp_path / "other.csv"
    clip = read_index(dataset / "train.csv").clips[0]
    csv.write_text(f"{clip.audio},{tmp_path}/frames/cls/unknown,3\n{clip.audio},{clip.frames_dir},3\n")
    with pytest.raises(InputError, match="not cached"):
        FeatureCache(feature_cache).check_index(read_index(csv))


def test_step_sampler_resumes_with_the_same_batches():
    full = list(StepSampler(7, 3, 0, 6))
    assert list(StepSampler(7, 3, 4, 6)) == full[4:]
    assert full[2] == [(1, 0), (1, 1), (1, 2)]  # 2 batches per epoch


def test_a_size_curriculum_gives_each_step_one_size_and_resumes_exactly():
    full = list(StepSampler(40, 4, 0, 30, sizes=(2, 3), seed=5))
    assert list(StepSampler(40, 4, 11, 30, sizes=(2, 3), seed=5)) == full[11:]
    sizes = [{k[2] for k in keys} for keys in full]
    assert all(len(s) == 1 for s in sizes)  # one size per batch: its tensors stack
    assert {next(iter(s)) for s in sizes} == {2, 3}  # both sizes drawn over 30 steps
    assert [k[:2] for k in full[2]] == list(StepSampler(40, 4, 2, 3))[0]  # the same items as without


def test_an_item_takes_its_size_from_the_key_and_scales_its_gains(dataset: Path):
    ds = MixDataset(read_index(dataset / "train.csv"), num_mix=3, seed=1, gain_db=0.0)
    two, three = ds.plan((0, 1, 2)), ds.plan((0, 1, 3))
    assert len(two.clips) == 2 and len(three.clips) == 3 and len(ds.plan((0, 1)).clips) == 3
    assert two.gains == (0.5, 0.5) and len(set(ds.index.clips[c].label for c in three.clips)) == 3
    assert ds[(0, 1, 2)]["audio"].shape[0] == 2
    with pytest.raises(InputError, match="at most 3"):
        ds.plan((0, 1, 4))


def _peak_hz(x: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.argmax(spectrum) * SAMPLE_RATE / len(x))


def test_retuning_plays_an_items_sources_faster_or_slower_together(dataset: Path):
    """--retune: each source's tone moves by the item's one factor, within the range asked for,
    the same factor for every source (an ensemble stays in tune), the same on every load."""
    index = read_index(dataset / "train.csv")
    plain = MixDataset(index, num_mix=2, seed=3, gain_db=0.0)
    tuned = MixDataset(index, num_mix=2, seed=3, gain_db=0.0, retune=2.0)
    ratios = []
    for key in [(0, i) for i in range(len(plain))]:
        before, after = plain[key]["audio"].numpy(), tuned[key]["audio"].numpy()
        assert after.shape == before.shape
        factors = [_peak_hz(a) / _peak_hz(b) for a, b in zip(after, before)]
        assert max(factors) / min(factors) == pytest.approx(1.0, abs=0.01)  # one factor per item
        ratios.append(factors[0])
        assert np.array_equal(tuned[key]["audio"].numpy(), after)
    assert all(2 ** (-2.05 / 12) <= r <= 2 ** (2.05 / 12) for r in ratios)
    assert max(ratios) > 1.02 and min(ratios) < 0.98  # both ways, not a no-op


def test_a_retuned_item_reads_inside_its_clips_and_ends_in_sound(dataset: Path):
    """A sped-up item reads more of each clip: its segments start early enough to fit (no
    silence resampled into its end), with frames around the middle of what is read."""
    index = read_index(dataset / "train.csv")
    clip = 16384  # the fixture's clips (4 and 7 s) hold a segment read 1.26x as long
    tuned = MixDataset(index, num_mix=2, seed=3, gain_db=0.0, retune=4.0, clip=clip)
    for key in [(0, i) for i in range(len(tuned))]:
        plan = tuned.plan(key)
        read = retune_read(clip, plan.up)
        for c, start, valid in zip(plan.clips, plan.starts, plan.valid):
            assert start + read <= tuned.audio.length(index.clips[c].audio) and valid == read
        tail = tuned.load(plan)["audio"][:, -200:]
        assert (tail.abs().amax(dim=1) > 0.01).all()  # the tones play to the end
    assert {tuned.plan(k).up for k in [(0, i) for i in range(len(tuned))]} != {RETUNE_STEPS}
