"""The sampler plays recorded notes at the written pitches; recordings are cut into clips."""

from __future__ import annotations

import numpy as np
import pytest

from avsep.train.dataset.instruments import INSTRUMENTS
from avsep.train.dataset.library import file_split, scan
from avsep.train.dataset.melodies import Performance
from avsep.train.dataset.real_audio import NoteBank, RecordingStream, play, trim, voice_program
from avsep.train.dataset.render import SAMPLE_RATE
from tests.train.real_material import hz, make_tree


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory):
    audio, photos = make_tree(tmp_path_factory.mktemp("real"))
    return scan([audio], [photos], INSTRUMENTS)


def _pitch_of(x: np.ndarray) -> float:
    spec = np.abs(np.fft.rfft(x * np.hanning(len(x)), 8 * len(x)))
    return float(np.fft.rfftfreq(8 * len(x), 1 / SAMPLE_RATE)[np.argmax(spec)])


def test_bank_splits_by_pitch_and_skips_effects(library):
    bank = NoteBank(library.notes("violin"))
    for split in ("train", "val", "test"):
        assert bank.has(split)
        for voice in bank.voices[split]:
            assert voice.articulation == "arco-normal"  # the trills are not a voice
            assert {bank.split_of[n.pitch] for n in voice.notes} == {split}


@pytest.mark.parametrize("split", ["train", "test"])
def test_sampler_plays_the_written_pitches(library, split):
    bank = NoteBank(library.notes("violin"))
    rng = np.random.default_rng(0)
    voice = bank.pick_voice(split, rng)
    lo, hi = voice_program(voice).low, voice_program(voice).high
    pitches = [lo + 1, (lo + hi) // 2, hi - 1]
    perf = Performance(program=-1, bend_range=2, notes=[(0.2 + i, 0.9 + i, p, 100) for i, p in enumerate(pitches)])
    audio, recipe = play(perf, voice, 4.0, rng)
    assert audio.shape == (4 * SAMPLE_RATE,) and recipe["notes"] == 3
    for i, p in enumerate(pitches):
        seg = audio[int((0.3 + i) * SAMPLE_RATE) : int((0.8 + i) * SAMPLE_RATE)]
        assert abs(12 * np.log2(_pitch_of(seg) / hz(p))) < 0.3, (split, p)
    # released shortly after each written end: the gap before the next note is quiet
    gap = audio[int(1.1 * SAMPLE_RATE) : int(1.15 * SAMPLE_RATE)]
    assert np.sqrt(np.mean(gap**2)) < 0.05 * np.sqrt(
        np.mean(audio[int(0.3 * SAMPLE_RATE) : int(0.8 * SAMPLE_RATE)] ** 2)
    )


def test_louder_velocities_pick_louder_recordings(library):
    bank = NoteBank(library.notes("violin"))
    voice = bank.pick_voice("train", np.random.default_rng(1))
    p = voice.notes[0].pitch
    rms = []
    for vel in (30, 120):
        perf = Performance(program=-1, bend_range=2, notes=[(0.0, 1.0, p, vel)])
        x, _ = play(perf, voice, 1.5, np.random.default_rng(2))
        rms.append(np.sqrt(np.mean(x**2)))
    assert rms[1] > 2 * rms[0]


def test_recording_stream_cuts_clips_and_names_their_files(library):
    parts = file_split(library.recordings("cello"))
    stream = RecordingStream(parts["train"], 4.0)
    # 5 s per file plus 0.2-0.8 s gaps, in 4 s clips
    assert len(parts["train"]) * 5 // 4 <= stream.capacity <= len(parts["train"]) * 5.8 // 4
    first, files = stream.clip_at(0)
    assert first.shape == (4 * SAMPLE_RATE,) and files and all("cello" in f for f in files)
    again, _ = stream.clip_at(stream.capacity)  # past the end: another cut of the same audio
    assert again.shape == first.shape and not np.allclose(again, first)


def test_trim_removes_leading_and_trailing_silence():
    x = np.concatenate([np.zeros(5000), np.ones(3000) * 0.5, np.zeros(4000)]).astype(np.float32)
    y = trim(x)
    assert 3000 <= y.size <= 3000 + 4 * 128 and np.all(y[200:-200] == 0.5)


def test_two_reeds_beat(library):
    bank = NoteBank(library.notes("violin"))
    voice = bank.pick_voice("train", np.random.default_rng(1))
    p = voice.notes[len(voice.notes) // 2].pitch
    perf = Performance(program=-1, bend_range=2, notes=[(0.0, 1.0, p, 100)])
    one, _ = play(perf, voice, 1.2, np.random.default_rng(2))
    two, recipe = play(perf, voice, 1.2, np.random.default_rng(2), reeds=(0.0, 20.0))
    assert recipe["reeds_cents"] == [0.0, 20.0]
    env = [np.sqrt(np.mean(x[i : i + 551] ** 2)) for x in (one, two) for i in range(2205, 9000, 551)]
    steady, beating = np.array(env[: len(env) // 2]), np.array(env[len(env) // 2 :])
    assert beating.std() / beating.mean() > 2 * steady.std() / steady.mean()  # the amplitude swells
