"""Fuzzing on a short budget: whatever a user or a damaged disk hands in, the only exception that
escapes the box parser or the media readers is avsep's own (:class:`~avsep.errors.AvsepError`),
which the CLI turns into one line. Any other type (``av.error.*``, ``OSError``, ``ValueError``,
``IndexError`` ...) would reach the user as "unexpected error".
"""

from __future__ import annotations

import json
import math
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from avsep.boxes.box import load_boxes_file, parse_box, validate_boxes
from avsep.errors import AvsepError, InputError
from avsep.io.audio import stream_audio
from avsep.io.media import probe
from avsep.io.video import FrameReader

FUZZ = settings(deadline=None, max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])

numbers = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30),
    st.integers(min_value=10**300, max_value=10**320),
    st.floats(allow_nan=True, allow_infinity=True),
)
json_values = st.recursive(
    st.none() | st.booleans() | numbers | st.text(max_size=8),
    lambda children: st.lists(children, max_size=6)
    | st.dictionaries(st.sampled_from(["name", "box", "x"]), children, max_size=3),
    max_leaves=20,
)
box_like_text = st.lists(st.one_of(st.text(max_size=6), numbers.map(str)), min_size=0, max_size=6).map(",".join)


@FUZZ
@given(st.one_of(st.text(), box_like_text))
def test_box_text(text):
    try:
        box = parse_box(text)
    except InputError:
        return
    assert box[0] < box[2] and box[1] < box[3]
    try:
        validate_boxes([box], 64, 48)
    except InputError:
        pass


@FUZZ
@given(st.one_of(json_values, st.binary(max_size=64)))
def test_boxes_file(content):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "boxes.json"
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(json.dumps(content, allow_nan=True))
        try:
            boxes = load_boxes_file(path)
        except InputError:
            return
    assert all(b.box[0] < b.box[2] and b.box[1] < b.box[3] for b in boxes)


@pytest.fixture(scope="module")
def clip_bytes(tmp_path_factory) -> dict[str, bytes]:
    """Small real files to damage: mp4 (moov at the end, and first) and mkv."""
    from tests.media import make_video

    folder = tmp_path_factory.mktemp("fuzz")
    spec = {"duration": 1.0, "width": 32, "height": 24, "fps": 5, "sample_rate": 8000}
    return {
        name: make_video(folder / name, **spec, **extra).read_bytes()
        for name, extra in [("a.mp4", {}), ("b.mp4", {"faststart": True}), ("c.mkv", {})]
    }


#: Where to damage, as a fraction of the file: anywhere, or in the headers and indexes that sit
#: at either end (mp4's moov is at the end unless faststart, mkv's cues too).
position = st.one_of(st.floats(0, 1, exclude_max=True), st.floats(0, 0.05), st.floats(0.9, 1, exclude_max=True))
damage = st.lists(
    st.one_of(
        st.tuples(st.just("flip"), position, st.integers(1, 255)),
        st.tuples(st.just("cut"), position, st.just(0)),
        st.tuples(st.just("zero"), position, st.integers(1, 64)),
    ),
    min_size=1,
    max_size=4,
)


def _damaged(data: bytes, edits: list[tuple[str, float, int]]) -> bytes:
    buf = bytearray(data)
    for kind, where, value in edits:
        if not buf:
            break
        at = math.floor(where * len(buf))
        if kind == "flip":
            buf[at] ^= value
        elif kind == "cut":
            del buf[at:]
        else:
            buf[at : at + value] = bytes(len(buf[at : at + value]))
    return bytes(buf)


@settings(FUZZ, max_examples=120)
@given(name=st.sampled_from(["a.mp4", "b.mp4", "c.mkv"]), edits=damage)
def test_damaged_containers(clip_bytes, tmp_path, name, edits):
    path = tmp_path / name
    path.write_bytes(_damaged(clip_bytes[name], edits))
    try:
        info = probe(path)
        if info.audio is not None:
            for _ in stream_audio(path, block=8192):
                pass
        if info.video is not None:
            with FrameReader(path) as reader:
                reader.frames_at([0.0, info.duration / 2, info.duration + 1])
    except AvsepError:
        pass
