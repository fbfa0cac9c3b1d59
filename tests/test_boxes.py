"""Boxes: the parser, JSON files, validation against a frame, and how the command line hands
several boxes or names to one option (GreedyCommand)."""

from __future__ import annotations

import json

import pytest
import typer
from typer.testing import CliRunner

from avsep.boxes.box import MAX_BOXES, NamedBox, load_boxes_file, parse_box, sidecar_for, validate_boxes
from avsep.boxes.request import MIN_BOX_SIDE, GivenBoxesWarning
from avsep.cli.app import app
from avsep.errors import InputError
from avsep.timerange import TimeRange


@pytest.mark.parametrize(
    ("text", "box"),
    [("0,0,112,224", (0, 0, 112, 224)), (" 1.6, 2 ,3.4,4e1", (2, 2, 3, 40)), ("-5,-5,10,10", (-5, -5, 10, 10))],
)
def test_parse_box(text, box):
    assert parse_box(text) == box


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1,2,3", "expected 4 numbers x0,y0,x1,y1, got 3"),
        ("", "got 1"),
        ("a,b,c,d", "not numbers"),
        ("0,0,nan,5", "not a finite pixel coordinate"),
        ("0,0,inf,5", "not a finite pixel coordinate"),
        ("9,0,3,5", "inverted"),
        ("0,4,3,4", "zero-area"),
        ("1,1,1.2,5", "zero-area"),  # rounds to an empty box
    ],
)
def test_parse_box_errors(text, message):
    with pytest.raises(InputError, match=message):
        parse_box(text)


def test_long_garbage_is_shortened_in_the_message():
    with pytest.raises(InputError) as info:
        parse_box("x" * 10_000 + ",1,2,3")
    assert len(str(info.value)) < 200


def test_boxes_file_forms(tmp_path):
    path = tmp_path / "b.json"
    path.write_text(json.dumps([[0, 0, 10, 10], {"name": "flute", "box": [10, 0, 20, 10.4]}]))
    assert load_boxes_file(path) == [NamedBox((0, 0, 10, 10)), NamedBox((10, 0, 20, 10), "flute")]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{", "not valid JSON"),
        ("[]", "non-empty JSON list"),
        ('{"box": [0, 0, 1, 1]}', "non-empty JSON list"),
        ('[{"name": "x"}]', "without a 'box' key"),
        ('[{"name": 3, "box": [0, 0, 1, 1]}]', "'name' must be a string"),
        ("[[0, 0, true, 1]]", "not a finite pixel coordinate"),
        ('[[0, 0, "1", 1]]', "not a finite pixel coordinate"),
        ("[[0, 0, 1e999, 1]]", "not a finite pixel coordinate"),
        (f"[[0, 0, {'9' * 400}, 1]]", "not a finite pixel coordinate"),
        (f"[[0, 0, {'9' * 5000}, 1]]", "not a usable boxes file"),
        ("[" * 100_000, "not a usable boxes file"),
        ('["0,0,1,1"]', "expected a list"),
        (json.dumps([[0, 0, 1, 1]] * (MAX_BOXES + 1)), f"at most {MAX_BOXES}"),
    ],
    ids=lambda v: v[:30],
)
def test_boxes_file_errors(tmp_path, content, message):
    path = tmp_path / "b.json"
    path.write_text(content)
    with pytest.raises(InputError, match=message):
        load_boxes_file(path)


def test_boxes_file_unreadable(tmp_path):
    with pytest.raises(InputError, match="boxes file not found"):
        load_boxes_file(tmp_path / "none.json")
    (tmp_path / "bin.json").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(InputError, match="cannot read boxes file"):
        load_boxes_file(tmp_path / "bin.json")


def test_validate_clips_to_the_frame_and_refuses_outside():
    assert validate_boxes([(-4, -3, 50, 30), (60, 0, 68, 52)], 64, 48) == [(0, 0, 50, 30), (60, 0, 64, 48)]
    with pytest.raises(InputError, match="lies outside the 64x48 frame; check it with 'avsep info"):
        validate_boxes([(64, 0, 66, 48)], 64, 48)


@pytest.mark.parametrize("box", [(-10, -10, 50, 30), (60, 0, 200, 48), (0, 0, 64, 53), (60, 0, 80, 48)])
def test_a_box_for_another_frame_size_is_refused_not_clipped(box):
    with pytest.raises(InputError, match=r"pixels past the 64x48 frame; give boxes in this video's pixels"):
        validate_boxes([box], 64, 48)


def test_sidecar_name(tmp_path):
    assert sidecar_for(tmp_path / "duet.mp4") == tmp_path / "duet.mp4.boxes.json"


# -- the command line's handling of several values -------------------------------------------------


def parsed(*args: str) -> dict:
    """Option values ``avsep separate ARGS`` would run with (parsed, not run; click keeps a
    repeated option's values as a tuple, the command receives them as a list)."""
    command = typer.main.get_command(app).commands["separate"]
    params = command.make_context("separate", list(args)).params
    return {k: list(v) if isinstance(v, tuple) else v for k, v in params.items()}


def test_several_boxes_after_one_flag(tmp_path):
    video = tmp_path / "v.mp4"
    video.touch()
    params = parsed("--boxes", "0,0,1,1", "-4,0,9,9", "2,2,3,3", str(video), "-b", "5,5,6,6", "-o", "out")
    assert params["boxes"] == ["0,0,1,1", "-4,0,9,9", "2,2,3,3", "5,5,6,6"]
    assert [str(p) for p in params["inputs"]] == [str(video)]


def test_several_names_stop_at_a_video_name_or_option():
    params = parsed("--names", "violin", "flute", "missing.mp4", "--sources", "2")
    assert params["names"] == ["violin", "flute"]
    assert [str(p) for p in params["inputs"]] == ["missing.mp4"]


def test_first_value_always_belongs_to_the_option():
    """``--boxes clip.mp4`` (box forgotten) must not silently fall back to strips."""
    params = parsed("--boxes", "clip.mp4", "other.mp4")
    assert params["boxes"] == ["clip.mp4"]


def _plan(video, *, boxes=None, boxes_file=None, span=None):
    """The plan ``avsep separate`` would follow for given boxes, and the warnings it raised."""
    import warnings

    from avsep.boxes.request import BoxRequest, plan_boxes
    from avsep.io.media import clip, probe

    media = clip(probe(video), span or TimeRange())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        plan_boxes(BoxRequest.from_options(boxes, boxes_file), media, lambda: None)
    return [str(w.message) for w in caught if issubclass(w.category, GivenBoxesWarning)]


def test_a_box_too_small_to_show_an_instrument_is_warned_about(shared_video):
    """Under MIN_BOX_SIDE pixels on its longer side the crop is an enlarged blur: said, once per
    such box; a box of MIN_BOX_SIDE (a half of the 64x48 clip, too) is not."""
    video = shared_video("clip.mp4", duration=3.0, width=64, height=48)
    said = _plan(video, boxes=["2,2,4,4", "32,0,64,48", "0,10,20,40"])
    assert said == [
        f"{video}: box 1 (2,2,4,4) is 2x2 pixels, too small to show an instrument (the model reads it enlarged "
        "112x to 224 pixels); draw it around the player (check with 'avsep info VIDEO --boxes ... --preview out.png')",
        f"{video}: box 3 (0,10,20,40) is 20x30 pixels, too small to show an instrument (the model reads it "
        "enlarged 7x to 224 pixels); draw it around the player (check with 'avsep info VIDEO --boxes ... "
        "--preview out.png')",
    ]
    assert _plan(video, boxes=[f"0,0,{MIN_BOX_SIDE},{MIN_BOX_SIDE}", "32,0,64,48"]) == []
    result = CliRunner().invoke(app, ["info", str(video), "--boxes", "2,2,4,4", "-q"])
    assert result.exit_code == 0 and "warning: " in result.stderr and "too small to show an instrument" in result.stderr


def test_a_timed_box_wholly_outside_the_video_is_warned_about(shared_video, tmp_path):
    """A 3-s video: an entry from 30 to 40 s (or before 0) is applied by the nearest-range rule,
    and said, naming the entry and the video's length; entries that reach into the video are not."""
    video = shared_video("clip.mp4", duration=3.0, width=64, height=48)
    entries = [
        {"name": "a", "box": [0, 0, 32, 48], "start": 0, "end": 2},
        {"name": "a", "box": [32, 0, 64, 48], "start": 30, "end": 40},
        {"name": "b", "box": [32, 0, 64, 48], "start": -5, "end": 0},
        {"name": "b", "box": [0, 0, 32, 48], "start": 2.5},
    ]
    file = tmp_path / "b.json"
    file.write_text(json.dumps(entries))
    said = _plan(video, boxes_file=file)
    assert len(said) == 2, said
    assert said[0].startswith(f"{video}: the box of 'a' from 30 to 40 s in {file} lies wholly after the video's end")
    assert "(it is 3.00 s long); it applies only as the nearest box in time, so check its times" in said[0]
    assert said[1].startswith(f"{video}: the box of 'b' from -5 to 0 s in {file} lies wholly before the video's start")
    assert _plan(video, boxes_file=file, span=TimeRange(0.0, 2.0)) == said  # a range does not hide the file's end
