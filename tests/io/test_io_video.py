"""FrameReader: right frames at the right times, by seeking; rotation; crop_boxes."""

from __future__ import annotations

import time

import numpy as np
import pytest

import avsep.io.video as video_module
from avsep.errors import InputError
from avsep.io.video import FrameReader, crop_boxes
from tests.media import has_encoder, read_marker, truncated_copy

RED, BLUE, GREEN = (255, 0, 0), (0, 0, 255), (0, 255, 0)


def _close(pixel: np.ndarray, colour: tuple[int, int, int]) -> bool:
    return bool(np.abs(pixel.astype(int) - colour).max() < 40)


@pytest.mark.parametrize("suffix", [".mp4", ".mkv", ".mov", ".avi", ".webm"])
def test_panels_and_times(shared_video, suffix):
    if suffix == ".webm" and not has_encoder("libvpx"):
        pytest.skip("this FFmpeg build cannot encode VP8 for a webm fixture")
    path = shared_video(f"panels{suffix}", duration=3.0, width=96, height=64, panels=(RED, GREEN, BLUE), marker=True)
    with FrameReader(path) as reader:
        assert (reader.info.width, reader.info.height) == (96, 64)
        frames = reader.frames_at([0.0, 1.0, 2.5, 0.35])
    assert [read_marker(f) for f in frames] == [0, 10, 25, 4]
    for frame in frames:
        assert frame.shape == (64, 96, 3) and frame.dtype == np.uint8
        assert _close(frame[20, 16], RED) and _close(frame[20, 48], GREEN) and _close(frame[20, 80], BLUE)


def test_at_or_after_and_clamping(shared_video):
    path = shared_video("clip.mp4", duration=2.0, width=64, height=64, marker=True)
    with FrameReader(path) as reader:
        frames = reader.frames_at([-1.0, 0.0, 0.05, 0.1, 1.95, 2.0, 100.0])
    assert [read_marker(f) for f in frames] == [0, 0, 1, 1, 19, 19, 19]


def test_long_video_seeks(shared_video, decoded_times):
    path = shared_video("long.mp4", duration=40.0, width=64, height=48, marker=True)
    times = [35.0, 1.0, 20.05, 20.1, 20.3, 39.95, 12.34, 35.0]
    start = time.perf_counter()
    with FrameReader(path) as reader:
        frames = reader.frames_at(times)
        later = reader.frames_at([5.0, 5.2])
    elapsed = time.perf_counter() - start
    assert [read_marker(f) for f in frames] == [350, 10, 201, 201, 203, 399, 124, 350]
    assert [read_marker(f) for f in later] == [50, 52]
    # 400 frames in the file; keyframes every 20 frames bound the work per distant time.
    assert len(decoded_times) < 140
    assert elapsed < 5.0


def test_sequential_times_reuse_decoding(shared_video, decoded_times):
    path = shared_video("long.mp4", duration=40.0, width=64, height=48, marker=True)
    with FrameReader(path) as reader:
        for k in range(30):
            t = 10.0 + k * 0.1
            assert read_marker(reader.frames_at([t])[0]) == 100 + k
    # One seek, then forward decoding: 30 frames plus at most a GOP of lead-in.
    assert len(decoded_times) <= 30 + 21


def test_frames_nothing_refers_to_are_not_decoded(tmp_video, decoded_times, monkeypatch):
    """x264's superfast preset makes B-frames (as phones' encoders do); those no other frame is
    predicted from are skipped while far from the time asked for, and the frames returned are
    exactly those of decoding everything."""
    path = tmp_video("b.mp4", duration=30.0, width=64, height=48, marker=True, gop=250, preset="superfast")
    times = [t for centre in (3.0, 7.5, 12.0, 16.5, 21.0) for t in (centre - 1.5, centre, centre + 1.5)]
    with FrameReader(path) as reader:
        skipping = reader.frames_at(times)
    assert [read_marker(f) for f in skipping] == [round(t * 10) for t in times]
    # without skipping: every frame up to 22.5 s (226); skipping from half a second before each
    # time asked for: 175; from a tenth of a second: 145
    assert len(decoded_times) <= 150
    monkeypatch.setattr(video_module, "_SKIP_BEFORE_S", 1e9)  # never skip
    with FrameReader(path) as reader:
        assert all(np.array_equal(a, b) for a, b in zip(skipping, reader.frames_at(times)))


def test_analysed_frames_skip_only_the_deblocking_filter(tmp_video):
    """Frames that are only analysed are decoded without H.264's deblocking filter: not bit for
    bit what a player shows, but within a grey level of it; frames for the eye (``display``)
    are exactly those of a plain decode."""
    import av

    path = tmp_video("bar.mp4", duration=4.0, fps=25, bar=True, gop=250, preset="superfast")
    times = [0.5, 1.5, 2.5, 3.5]
    with FrameReader(path) as reader:
        analysed = reader.frames_at(times)
    with FrameReader(path, display=True) as reader:
        shown = reader.frames_at(times)
    with av.open(str(path)) as container:
        plain = [(f.time, f.to_ndarray(format="rgb24")) for f in container.decode(video=0)]
    wanted = [next(rgb for at, rgb in plain if at >= t - 1e-4) for t in times]
    assert all(np.array_equal(a, b) for a, b in zip(shown, wanted))
    differences = [float(np.abs(a.astype(int) - b).mean()) for a, b in zip(analysed, shown)]
    assert max(differences) > 0 and max(differences) < 1.0


def test_a_keyframe_close_enough_answers_alone(tmp_video, decoded_times):
    """With ``snap``, where keyframes come every second (as phones encode), each time is
    answered by the keyframe within ``snap`` of it, decoded alone (no run of frames), with its
    own time; a time with no keyframe that close is answered exactly."""
    path = tmp_video("k.mp4", duration=12.0, width=64, height=48, marker=True, gop=10, preset="superfast")
    with FrameReader(path) as reader:
        got = reader.frames_and_times_at([1.3, 2.8, 4.6, 6.0, 6.0], snap=0.4)
        assert len(decoded_times) == 0  # every one a keyframe: none went through the decoding run
        assert [t for _, t in got] == pytest.approx([1.0, 3.0, 5.0, 6.0, 6.0])
        assert [read_marker(f) for f, _ in got] == [10, 30, 50, 60, 60]
        ((frame, t),) = reader.frames_and_times_at([7.5], snap=0.4)  # keyframes 7 and 8: too far
        assert (read_marker(frame), t) == (75, pytest.approx(7.5)) and len(decoded_times) > 0


def test_rare_keyframes_are_not_waited_for(tmp_video):
    """With keyframes 25 s apart no keyframe is near: exact frames, as without snap; and once
    none lies within STILL_MAX_S before a time, the reader stops looking for them."""
    path = tmp_video("rare.mp4", duration=30.0, width=64, height=48, marker=True, gop=250, preset="superfast")
    times = [3.0, 4.5, 6.0, 7.5, 9.0, 13.5, 15.0]
    with FrameReader(path) as reader:
        got = reader.frames_and_times_at(times, snap=0.5)
        assert not reader._snapping  # stopped looking at 13.5 s
    assert [read_marker(f) for f, _ in got] == [round(t * 10) for t in times]
    with FrameReader(path) as reader:  # the keyframe at 0 answers the first time, then none is near
        got = reader.frames_and_times_at([0.3, *times], snap=0.5)
    assert [read_marker(f) for f, _ in got] == [0] + [round(t * 10) for t in times]


def test_keyframes_around_a_still_picture_answer_for_the_frames_between(shared_video, decoded_times):
    """With ``still``, x264's default-like interval (6 s here) no longer means decoding every
    reference frame: where the caller judges the picture still from one keyframe to the next,
    the nearer one answers for each time between them, each pair judged once; where it does
    not, and past the last keyframe, the frames are exact."""
    path = shared_video("gop6.mp4", duration=20.0, width=64, height=48, marker=True, gop=60, preset="superfast")
    times = [2.0, 4.0, 5.0, 8.0, 13.0, 19.0]
    judged: list[tuple[float, float]] = []

    def still(a: tuple[np.ndarray, float], b: tuple[np.ndarray, float]) -> bool:
        judged.append((a[1], b[1]))
        return a[1] < 6.0  # the first pair held still, the later ones did not

    with FrameReader(path) as reader:
        got = reader.frames_and_times_at(times, snap=0.5, still=still)
    assert judged == pytest.approx([(0.0, 6.0), (6.0, 12.0), (12.0, 18.0)])
    markers = [read_marker(f) for f, _ in got]
    assert markers[:3] == [0, 60, 60] and [t for _, t in got][:3] == pytest.approx([0.0, 6.0, 6.0])
    assert markers[3:] == [80, 130, 190]  # changed pairs, and the last keyframe with none after it
    exact = len(decoded_times)
    assert exact > 0
    with FrameReader(path) as reader:  # every pair still: keyframes alone, no decoding run
        got = reader.frames_and_times_at(times[:5], snap=0.5, still=lambda a, b: True)
    assert [read_marker(f) for f, _ in got] == [0, 60, 60, 60, 120] and len(decoded_times) == exact


def test_a_keyframe_lookup_between_exact_frames_does_not_lose_the_decoding_run(shared_video):
    """Looking up the keyframes around 12.7 s moves the container past 18 s: the exact frame
    after it is decoded from its own keyframe, not from wherever the demuxer stopped."""
    path = shared_video("gop6.mp4", duration=20.0, width=64, height=48, marker=True, gop=60, preset="superfast")
    with FrameReader(path) as reader:
        got = reader.frames_and_times_at([11.0, 12.7], snap=0.5, still=lambda a, b: False)
    assert [read_marker(f) for f, _ in got] == [110, 127]


def test_keyframes_too_far_apart_are_not_taken_for_a_still_picture(shared_video, decoded_times):
    path = shared_video("gop15.mp4", duration=20.0, width=64, height=48, marker=True, gop=150, preset="superfast")
    with FrameReader(path) as reader:
        got = reader.frames_and_times_at([3.0, 6.0], snap=0.5, still=lambda a, b: True)
    assert [read_marker(f) for f, _ in got] == [30, 60] and len(decoded_times) > 0


def test_long_gop_is_learned(tmp_video, decoded_times):
    """With a single keyframe, every seek decodes from the start (over 1000 frames for these
    times); once the reader has seen how long the GOP is, 3 s hops decode forward instead."""
    path = tmp_video("gop.mp4", duration=30.0, width=32, height=32, marker=True, gop=300)
    with FrameReader(path) as reader:
        got = [read_marker(reader.frames_at([t])[0]) for t in (10.0, 13.0, 16.0, 19.0, 22.0, 25.0)]
    assert got == [100, 130, 160, 190, 220, 250]
    assert len(decoded_times) <= 101 + 5 * 30


def test_variable_frame_rate(tmp_video):
    times = [0.0, 0.05, 0.3, 0.31, 1.0, 1.7, 2.5]
    path = tmp_video("vfr.mkv", duration=3.0, width=32, height=32, marker=True, frame_times=times)
    with FrameReader(path) as reader:
        got = reader.frames_at([0.0, 0.01, 0.3, 0.305, 0.5, 1.69, 1.71, 2.6])
    assert [read_marker(f) for f in got] == [0, 1, 2, 3, 4, 5, 6, 6]


@pytest.mark.parametrize("rotate", [90, 180, 270])
def test_rotation_gives_displayed_frames(tmp_video, rotate):
    path = tmp_video("rot.mp4", duration=1.0, width=96, height=64, rotate=rotate, marker=True)
    with FrameReader(path) as reader:
        assert reader.info.rotation == rotate
        frame = reader.frames_at([0.5])[0]
        ((key, _),) = reader.frames_and_times_at([0.1], snap=0.2)  # the keyframe at 0, decoded alone
    assert frame.shape == key.shape == (64, 96, 3)
    assert _close(frame[10, 10], RED) and _close(frame[10, 86], BLUE)
    assert _close(key[10, 10], RED) and _close(key[10, 86], BLUE)
    assert read_marker(frame) == 5 and read_marker(key) == 0


def test_returned_frames_are_independent(shared_video):
    path = shared_video("clip.mp4", duration=2.0, width=64, height=64, marker=True)
    with FrameReader(path) as reader:
        first, again = reader.frames_at([0.5, 0.5])
        first[:] = 0
        assert read_marker(again) == 5 and read_marker(reader.frames_at([0.5])[0]) == 5


def test_truncated_video_clamps_to_last_decodable_frame(shared_video, tmp_path):
    path = shared_video("clip.mkv", duration=4.0, width=64, height=64, marker=True)
    cut = truncated_copy(path, tmp_path / "cut.mkv", 0.6)
    with FrameReader(cut) as reader:
        got = [read_marker(f) for f in reader.frames_at([0.0, 1.0, 3.9, 100.0])]
    assert got[:2] == [0, 10]
    assert 15 <= got[2] == got[3] < 40


def test_no_video_stream(tmp_wav):
    with pytest.raises(InputError, match=r"no video stream"):
        FrameReader(tmp_wav("song.wav"))


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        FrameReader(tmp_path / "gone.mp4")


def test_crop_boxes_picks_panels():
    frame = np.zeros((100, 200, 3), np.uint8)
    frame[:, :100] = RED
    frame[:, 100:] = BLUE
    crops = crop_boxes(frame, [(0, 0, 100, 100), (100, 0, 200, 100), (150, 50, 400, 400)], size=32)
    assert crops.shape == (3, 32, 32, 3) and crops.dtype == np.uint8
    assert (crops[0] == RED).all() and (crops[1] == BLUE).all() and (crops[2] == BLUE).all()


def test_crop_boxes_resizes_bilinearly():
    frame = np.zeros((10, 10, 3), np.uint8)
    frame[:, 5:] = 200
    crop = crop_boxes(frame, [(0, 0, 10, 10)], size=20)[0]
    row = crop[5, :, 0]
    assert row[0] == 0 and row[-1] == 200
    assert 0 < row[9] < 200 and 0 < row[10] < 200  # a ramp across the edge, not a step
    upscaled_edge = crop_boxes(frame, [(4, 0, 6, 2)], size=4)[0][0, :, 0]
    assert list(upscaled_edge) == sorted(upscaled_edge)


def test_crop_boxes_empty_and_outside():
    frame = np.zeros((20, 20, 3), np.uint8)
    assert crop_boxes(frame, [], size=8).shape == (0, 8, 8, 3)
    with pytest.raises(InputError, match=r"outside the 20x20 frame"):
        crop_boxes(frame, [(30, 30, 40, 40)])
    with pytest.raises(InputError, match="x0,y0,x1,y1"):
        crop_boxes(frame, [(10, 10, 5, 15)])
