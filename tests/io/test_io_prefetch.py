"""A video's sound decoded on a worker thread (avsep/io/prefetch.py): the same blocks and
native pieces as decoding it in place, in order, with or without a handover mid-stream."""

from __future__ import annotations

import numpy as np
import pytest

from avsep.errors import InputError
from avsep.io import prefetch
from avsep.io.audio import MODEL_SR, stream_audio
from avsep.io.media import probe
from avsep.io.prefetch import AudioAhead, audio_blocks


def _read(blocks_of, media):
    natives: list[tuple[np.ndarray | None, int]] = []
    blocks = list(blocks_of(lambda piece, rate: natives.append((piece, rate))))
    return blocks, natives


def _same(a: list, b: list) -> bool:
    return len(a) == len(b) and all(
        (x is None and y is None) or (x is not None and y is not None and np.array_equal(x, y)) for x, y in zip(a, b)
    )


@pytest.mark.parametrize("budget", [1, 10**9], ids=["handed over mid-stream", "decoded whole"])
def test_the_same_blocks_and_native_pieces_as_decoding_in_place(shared_video, budget):
    media = probe(shared_video("stereo.mp4", duration=14.0, channels=2, sample_rate=48000))
    own_blocks, own_natives = _read(lambda see: stream_audio(media, MODEL_SR, on_native=see), media)
    ahead = AudioAhead(media, MODEL_SR, keep_native=True, budget=budget)
    blocks, natives = _read(ahead.blocks, media)
    assert _same(blocks, own_blocks) and len(blocks) > 1
    assert _same([p for p, _ in natives], [p for p, _ in own_natives]) and natives[-1][0] is None
    assert {r for _, r in natives} == {48000}


def test_without_native_pieces_only_the_blocks(shared_video):
    media = probe(shared_video("stereo.mp4", duration=14.0, channels=2, sample_rate=48000))
    blocks, natives = _read(AudioAhead(media, MODEL_SR, keep_native=False).blocks, media)
    assert _same(blocks, list(stream_audio(media, MODEL_SR))) and natives == []


def test_a_bad_input_fails_where_the_sound_is_read(tmp_path, shared_video):
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(shared_video("clip.mp4").read_bytes())
    media = probe(cut)
    cut.write_bytes(b"")  # gone bad after the probe
    with pytest.raises(InputError):
        list(stream_audio(media, MODEL_SR))
    blocks = AudioAhead(media, MODEL_SR, keep_native=False).blocks(None)
    with pytest.raises(InputError):
        list(blocks)


def test_only_the_probe_it_was_started_for_takes_it(shared_video, monkeypatch):
    video = shared_video("clip.mp4")
    media, again = probe(video), probe(video)
    ahead = AudioAhead(media, MODEL_SR, keep_native=False)
    ahead._worker.join()
    calls: list[object] = []
    monkeypatch.setattr(prefetch, "stream_audio", lambda m, rate, on_native=None: calls.append(m) or iter(()))
    assert list(audio_blocks(ahead, again, MODEL_SR, None)) == [] and calls == [again]  # another probe
    assert list(audio_blocks(ahead, media, 22050, None)) == [] and len(calls) == 2  # another rate
    assert len(list(audio_blocks(ahead, media, MODEL_SR, None))) > 0 and len(calls) == 2


def test_a_stream_without_native_pieces_is_not_taken_where_they_are_wanted(shared_video):
    media = probe(shared_video("clip.mp4"))
    ahead = AudioAhead(media, MODEL_SR, keep_native=False)
    natives: list = []
    blocks = list(audio_blocks(ahead, media, MODEL_SR, lambda piece, rate: natives.append(piece)))
    assert blocks and natives and natives[-1] is None  # decoded again, the pieces told


def test_no_second_decoding_thread_while_ffmpeg_logs_through_python(shared_video):
    from avsep.io.ffmpeg_log import route_ffmpeg_log

    media = probe(shared_video("clip.mp4"))
    route_ffmpeg_log(True)
    try:
        assert AudioAhead.start(media, MODEL_SR, keep_native=False) is None
    finally:
        route_ffmpeg_log(False)
    assert AudioAhead.start(media, MODEL_SR, keep_native=False) is not None
