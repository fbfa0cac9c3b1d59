"""``--start``/``--end`` (issue 31, item 8): a part of the video separated, remixed or located;
the outputs cover the range, and a boxes file's times stay in the video's clock."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
import soundfile as sf

from avsep.boxes.request import BoxRequest, plan_boxes
from avsep.errors import InputError
from avsep.io.audio import stream_audio
from avsep.io.media import clip, probe
from avsep.io.soundtrack import check_soundtrack
from avsep.io.video import FrameReader
from avsep.options import COMMAND_LINE
from avsep.timerange import TimeRange, parse_time
from tests.cli_support import cli, error_line
from tests.media import merge_streams, read_marker

#: a 6-second clip, small
SIX = {"duration": 6.0, "width": 64, "height": 48}


@pytest.mark.parametrize(("text", "seconds"), [("90", 90.0), ("90.5", 90.5), ("1:20", 80.0), ("1:02:03.5", 3723.5)])
def test_times_read_as_a_player_shows_them(text, seconds):
    assert parse_time(text, "--start") == seconds


@pytest.mark.parametrize("text", ["soon", "1:75", "-3", "1:2:3:4", "nan"])
def test_a_time_that_is_no_time_is_one_line(text):
    with pytest.raises(InputError, match=r"--start '.*': give"):
        parse_time(text, "--start")


def test_the_readers_start_and_end_at_the_range(shared_video):
    """Audio sample 0 and frame time 0 are the range's start (frame-exact, sample-exact at the
    file's rate); decoding stops at its end."""
    video = shared_video("marked.mp4", marker=True, tones=(440.0,), **SIX)
    media = probe(video)
    part = clip(media, TimeRange(2.0, 4.5))
    assert (part.start, part.duration) == (2.0, 2.5)
    rate = media.audio.sample_rate
    whole = np.concatenate(list(stream_audio(media, rate)))
    cut = np.concatenate(list(stream_audio(part, rate)))
    assert len(cut) == round(2.5 * rate)
    np.testing.assert_allclose(cut, whole[2 * rate : 2 * rate + len(cut)], atol=1e-4)
    with FrameReader(part) as reader:
        assert [read_marker(f) for f in reader.frames_at([0.0, 1.0, 2.4])] == [20, 30, 44]  # 10 fps
    with pytest.raises(InputError, match=r"--end 9: .* is 6.\d\d s long; give a time from 0 to 6.\d\d"):
        clip(media, TimeRange(1.0, 9.0))


def test_a_boxes_file_keeps_the_videos_clock(shared_video, tmp_path):
    """A box that moves at 3 s: seen from a range that starts at 2 s, it moves 1 s in, and the
    plan shows (and records) its times as the video's."""
    video = shared_video("clip.mp4", **SIX)
    entries = [
        {"name": "a", "box": [0, 0, 32, 48], "end": 3.0},
        {"name": "a", "box": [32, 0, 64, 48], "start": 3.0},
    ]
    (tmp_path / "b.json").write_text(json.dumps(entries))
    request = BoxRequest.from_options(None, tmp_path / "b.json")
    plan = plan_boxes(request, clip(probe(video), TimeRange(2.0, 5.0)), lambda: None)
    assert plan.boxes_at(0.5) == [(0, 0, 32, 48)] and plan.boxes_at(1.5) == [(32, 0, 64, 48)]
    assert [e.get("start", e.get("end")) for e in plan.segments()] == [3.0, 3.0]


def test_separate_writes_the_range_and_records_it(shared_video, tmp_path, fast_model):
    video = shared_video("clip.mp4", **SIX)
    args = ["separate", video, "--boxes", "0,0,32,48", "32,0,64,48", "--residual", "-o", tmp_path, "-q"]
    cli(*args, "--start", "1.5", "--end", "0:04")
    outputs = sorted((tmp_path / video.stem).glob("*.wav"))
    data = [sf.read(p, dtype="float32")[0] for p in outputs]
    rate = sf.info(outputs[0]).samplerate
    assert all(len(d) == round(2.5 * rate) for d in data)
    mixture = np.concatenate(list(stream_audio(probe(video), rate)))[round(1.5 * rate) : round(4.0 * rate)]
    together = np.sum(data, axis=0)  # sources + residual: the mixture of the range
    assert np.corrcoef(together, mixture)[0, 1] > 0.99
    record = json.loads((tmp_path / video.stem / ".avsep.json").read_text())
    assert record["options"]["range"] == {"start": 1.5, "end": 4.0}
    other = cli(*args, "--start", "2", "--skip-existing", code=2)  # another range: not these outputs
    assert "made with other options" in error_line(other)


def test_remix_and_locate_take_the_range(shared_video, tmp_path, fast_model):
    """remix: the new soundtrack covers the range (the picture is copied from the keyframe at or
    before its start); locate: --time is the video's and must lie in the range."""
    video = shared_video("clip.mp4", **SIX)
    boxes = ["--boxes", "0,0,32,48", "32,0,64,48"]
    cli("remix", video, *boxes, "--mute", "source1", "--start", "2", "--end", "4.5", "-o", tmp_path / "r.mp4", "-q")
    remixed = probe(tmp_path / "r.mp4")
    assert abs(remixed.audio.duration - 2.5) < 0.1
    assert remixed.duration >= 2.5
    located = cli("locate", video, *boxes, "--start", "2", "--end", "4", "--time", "3", "-o", tmp_path, "-q")
    assert len(located.stdout.split()) == 2
    wrong = cli("locate", video, *boxes, "--start", "2", "--end", "4", "--time", "1", "-o", tmp_path, code=2)
    assert "--time 1: the range is 2.00 to 4.00 s; give a time from 2.00 to 4.00" in error_line(wrong)


def _short_soundtrack(shared_video, tmp_path):
    """A 6-second picture whose audio track ends at 2 s (a recorder stopped early)."""
    picture = shared_video("picture.mp4", audio=False, **SIX)
    sound = shared_video("sound.mp4", video=False, duration=2.0)
    return merge_streams(tmp_path / "short-sound.mp4", picture, sound)


def test_a_range_past_the_audio_is_refused_or_said(shared_video, tmp_path, fast_model):
    """A range that starts after the audio track's end holds no sound: refused before any work,
    nothing written (it wrote files of no samples, exit 0). A range, or the whole video, that runs
    past it gives outputs as long as the sound, and a warning says so."""
    video = _short_soundtrack(shared_video, tmp_path)
    args = ["separate", video, "--boxes", "0,0,32,48", "32,0,64,48", "-o", tmp_path / "out"]
    line = error_line(cli(*args, "--start", "3", "--end", "5", code=2))
    assert line == (
        f"error: --start 3: the audio track of {video} ends at 2.00 s, so the range holds no sound; "
        "give a --start before 2.00"
    )
    assert not list(tmp_path.rglob("*.wav"))
    for span, said, seconds in (
        (["--start", "1", "--end", "5"], "before --end 5 (5.00 s), so the outputs are 1.00 s long", 1.0),
        ([], "before the video's end (6.00 s), so the outputs are 2.00 s long", 2.0),
    ):
        result = cli(*args, *span, "--overwrite", "-q")
        assert f"warning: {video}: the audio track ends at 2.00 s, {said}" in " ".join(result.stderr.split())
        assert sf.info(tmp_path / "out" / video.stem / "source1.wav").duration == pytest.approx(seconds, abs=0.05)


def test_a_range_after_an_undeclared_audio_end_fails_as_it_decodes(shared_video, tmp_path):
    """A container that does not say where its audio ends (nothing to refuse up front): decoding
    finds no sound in the range, and that is an error rather than outputs of no samples."""
    media = probe(_short_soundtrack(shared_video, tmp_path))
    part = clip(replace(media, audio=replace(media.audio, duration=None)), TimeRange(3.0, 5.0))
    check_soundtrack(part)
    with pytest.raises(InputError, match=r"ends before the range's start \(3 s\), so the range holds no sound"):
        list(stream_audio(part))


def test_a_range_before_a_late_audio_track_is_refused(shared_video, tmp_path):
    """A track that starts after the picture (2.98 s into a tester's file) leaves the range
    before it silent: refused like a range after the track's end, not written as silence."""
    media = probe(_short_soundtrack(shared_video, tmp_path))
    late = replace(media, audio=replace(media.audio, offset=3.0))
    with pytest.raises(InputError, match=r"^--end 2.5: the audio track of .* starts at 3.00 s, so the range holds"):
        check_soundtrack(clip(late, TimeRange(0.0, 2.5)), say=COMMAND_LINE)
    check_soundtrack(clip(late, TimeRange(0.0, 3.5)), say=COMMAND_LINE)  # half a second of sound: separated


def test_the_track_warning_names_the_stream_separated(shared_video, tmp_path):
    """A probe that chose the second of two audio tracks (the Python API's MediaInfo) is not
    told that the first one is separated."""
    import warnings

    two = merge_streams(
        tmp_path / "two.mp4",
        _short_soundtrack(shared_video, tmp_path),
        shared_video("sound.mp4", video=False, duration=2.0),
    )
    with pytest.warns(UserWarning, match="has 2 audio streams; separating audio stream 0"):
        check_soundtrack(probe(two))
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        check_soundtrack(probe(two, audio_stream=1))
    assert not [w for w in said if "audio streams" in str(w.message)]
