"""The command line of automatic boxes and boxes over time: ``separate`` without boxes,
``--boxes auto|strips``, timed ``--boxes-file``, ``info --json/--preview``, and ``locate``.

Videos are coloured panels; the finder runs on the stand-in classifier (green = violin,
yellow = flute, magenta = cello; red and blue are nothing), and the tiny random model separates.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from avsep import Separator
from avsep.boxes.preview import COLOURS
from tests.cli_support import GREEN, MAGENTA, SMALL, YELLOW, ColourTrunk, cli, error_line, wavs

pytestmark = pytest.mark.usefixtures("fast_model")

RED = (255, 0, 0)
CLIP = {"duration": 12.0, "width": 96, "height": 48, "fps": 4}


def test_no_boxes_finds_the_players_names_the_outputs_and_prints_the_boxes(shared_video, tmp_path):
    video = shared_video("duet.mp4", panels=(GREEN, YELLOW), **SMALL)
    result = cli("separate", video, "-o", tmp_path)
    assert sorted(wavs(tmp_path)) == [f"{video.stem}/flute.wav", f"{video.stem}/violin.wav"]
    assert f"{video}: found 2 player(s): violin 1.00, flute 1.00" in result.stderr
    assert "  --boxes 0,0,32,48 32,0,64,48 --names violin flute" in result.stderr.splitlines()


def test_boxes_auto_and_names_and_numbering(shared_video, tmp_path):
    video = shared_video("violins.mp4", panels=(GREEN, RED, GREEN), duration=3.0, width=96, height=48)
    cli("separate", video, "--boxes", "auto", "-o", tmp_path / "a")
    assert sorted(wavs(tmp_path / "a")) == [f"{video.stem}/violin1.wav", f"{video.stem}/violin2.wav"]
    cli("separate", video, "--names", "first", "second", "-o", tmp_path / "b")
    assert sorted(wavs(tmp_path / "b")) == [f"{video.stem}/first.wav", f"{video.stem}/second.wav"]


def test_boxes_strips_is_the_old_default(shared_video, tmp_path):
    video = shared_video("duet.mp4", panels=(GREEN, YELLOW), **SMALL)
    result = cli("separate", video, "--boxes", "strips", "--sources", "3", "-o", tmp_path)
    assert sorted(wavs(tmp_path)) == [f"{video.stem}/source{i}.wav" for i in (1, 2, 3)]
    assert "found" not in result.stderr


def test_not_confident_falls_back_to_strips_in_one_line(shared_video, tmp_path):
    video = shared_video("clip.mp4", **SMALL)  # red and blue panels: no instrument
    result = cli("separate", video, "-o", tmp_path, "-q")
    assert result.stderr.splitlines() == [
        f"warning: {video}: found no instrument it is sure of; using 2 vertical strips instead "
        "(give --boxes to place them)"
    ]
    assert sorted(wavs(tmp_path)) == [f"{video.stem}/source1.wav", f"{video.stem}/source2.wav"]


def test_sources_more_than_found_falls_back(shared_video, tmp_path):
    video = shared_video("duet.mp4", panels=(GREEN, YELLOW), **SMALL)
    result = cli("separate", video, "--sources", "3", "-o", tmp_path)
    assert "found 2 player(s) but --sources asks for 3; using 3 vertical strips" in result.stderr
    assert len(wavs(tmp_path)) == 3


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--boxes", "auto", "0,0,10,10"], "--boxes auto stands alone"),
        (["-o", "-", "--source", "3"], "--source 3: there are 2 sources in"),
        (["-o", "-", "--source", "tuba"], "--source tuba: no source of that name in"),
    ],
)
def test_auto_option_errors(shared_video, tmp_path, args, message):
    video = shared_video("duet.mp4", panels=(GREEN, YELLOW), **SMALL)
    assert message in error_line(cli("separate", video, *args, code=2))


def test_timed_boxes_file_follows_the_players(shared_video, tmp_path, monkeypatch):
    """The players swap places at 6 s; a boxes file with time ranges keeps each output on its
    player: every guide crop of 'violin' is green, every one of 'flute' yellow."""
    video = shared_video("swap.mp4", panels=(GREEN, YELLOW), cuts=[(6.0, (YELLOW, GREEN))], **CLIP)
    left, right = [0, 0, 48, 48], [48, 0, 96, 48]
    spec = tmp_path / "boxes.json"
    spec.write_text(
        json.dumps(
            [
                {"name": "violin", "box": left, "end": 6.0},
                {"name": "violin", "box": right, "start": 6.0},
                {"name": "flute", "box": right, "end": 6.0},
                {"name": "flute", "box": left, "start": 6.0},
            ]
        )
    )
    crops: list[np.ndarray] = []
    guide = Separator.guide
    monkeypatch.setattr(Separator, "guide", lambda self, c, memo=None: crops.append(c) or guide(self, c, memo))
    cli("separate", video, "--boxes-file", spec, "-o", tmp_path / "out")
    assert sorted(wavs(tmp_path / "out")) == [f"{video.stem}/flute.wav", f"{video.stem}/violin.wav"]
    colours = np.concatenate(crops).mean(axis=(3, 4))  # [windows, sources, frames, 3]
    np.testing.assert_allclose(colours[:, 0], np.broadcast_to(GREEN, colours[:, 0].shape), atol=30)
    np.testing.assert_allclose(colours[:, 1], np.broadcast_to(YELLOW, colours[:, 1].shape), atol=30)


def test_info_json_round_trips_into_separate(shared_video, tmp_path):
    video = shared_video("swap.mp4", panels=(GREEN, YELLOW), cuts=[(6.0, (YELLOW, GREEN))], **CLIP)
    report = json.loads(cli("info", video, "--json").stdout)
    assert report["method"] == "auto" and sorted(s["class"] for s in report["sources"]) == ["flute", "violin"]
    assert {(b["name"], tuple(b["box"])) for b in report["boxes"]} == {
        ("violin", (0, 0, 48, 48)),
        ("violin", (48, 0, 96, 48)),
        ("flute", (0, 0, 48, 48)),
        ("flute", (48, 0, 96, 48)),
    }
    spec = tmp_path / "found.json"
    spec.write_text(json.dumps(report))
    cli("separate", video, "--boxes-file", spec, "-o", tmp_path / "out")
    assert sorted(wavs(tmp_path / "out")) == [f"{video.stem}/flute.wav", f"{video.stem}/violin.wav"]


def test_info_prints_and_draws_what_it_found(shared_video, tmp_path):
    video = shared_video("trio.mp4", panels=(GREEN, RED, YELLOW), duration=3.0, width=96, height=48)
    png = tmp_path / "boxes.png"
    text = cli("info", video, "--preview", png).stdout
    # Each player's box reaches the middle of the red panel between them.
    assert "box 1: 0,0,48,48  violin 1.00" in text and "box 2: 48,0,96,48  flute 1.00" in text
    assert "--boxes 0,0,48,48 48,0,96,48 --names violin flute" in text
    image = np.asarray(Image.open(png).convert("RGB"))
    for (x0, y0, _, y1), colour in zip([(0, 0, 48, 48), (48, 0, 96, 48)], COLOURS):
        expected = tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))
        assert tuple(image[(y0 + y1) // 2, x0 + 1]) == expected


def test_info_and_separate_use_the_same_finder_and_print_the_same_boxes(shared_video, tmp_path, monkeypatch):
    """Both use the model's trunk (here the colour stand-in): a different shipped finder, which
    would see nothing in this video, must not change what info shows."""
    from avsep.boxes.detect import PlayerFinder

    class Blind(ColourTrunk):
        def dense_logits(self, images):
            return torch.zeros(images.shape[0], 1000, images.shape[2] // 32, images.shape[3] // 32)

    monkeypatch.setattr("avsep.boxes.detect.default_finder", lambda: PlayerFinder(Blind()))
    video = shared_video("swap.mp4", panels=(GREEN, YELLOW), cuts=[(6.0, (YELLOW, GREEN))], **CLIP)
    shown = cli("info", video).stdout.splitlines()
    said = cli("separate", video, "-o", tmp_path).stderr.splitlines()
    ready = [line.strip() for line in said if line.strip().startswith("--boxes")]
    assert ready and ready[0] in shown
    found = json.loads(cli("info", video, "--json").stdout)
    assert sorted(s["name"] for s in found["sources"]) == ["flute", "violin"]


def test_info_finds_the_players_of_a_range_as_separate_does(shared_video, tmp_path):
    """``info --start/--end`` shows the boxes ``separate`` with that range uses (after the cut the
    players have swapped sides); a range outside the video fails."""
    video = shared_video("swap.mp4", panels=(GREEN, YELLOW), cuts=[(6.0, (YELLOW, GREEN))], **CLIP)
    report = json.loads(cli("info", video, "--start", "7", "--json").stdout)
    assert {(b["name"], tuple(b["box"])) for b in report["boxes"]} == {
        ("violin", (48, 0, 96, 48)),
        ("flute", (0, 0, 48, 48)),
    }
    assert report["duration"] == pytest.approx(5.0, abs=0.3) and report["start"] == 7.0
    assert report["end"] == pytest.approx(12.0, abs=0.3)
    assert "start" not in json.loads(cli("info", video, "--json").stdout)  # the whole video: no range
    shown = cli("info", video, "--start", "7").stdout.splitlines()
    assert "from 7 s" in shown[0]
    said = cli("separate", video, "--start", "7", "-o", tmp_path).stderr.splitlines()
    ready = [line.strip() for line in said if line.strip().startswith("--boxes")]
    assert ready == ["--boxes 0,0,48,48 48,0,96,48 --names flute violin"] and ready[0] in shown
    late = cli("info", video, "--start", "30", code=2)
    assert error_line(late) == f"error: --start 30: {video} is 12.00 s long; give a time from 0 to 12.00"


def test_locate_writes_a_heat_map_per_source(shared_video, tmp_path):
    """Each source's picture is brightest on its own panel (the guide is its crop's colour)."""
    video = shared_video("trio.mp4", panels=(GREEN, MAGENTA, YELLOW), duration=3.0, width=96, height=48)
    out = cli("locate", video, "-o", tmp_path).stdout.split()
    assert [p.split("/")[-1] for p in out] == ["violin.png", "cello.png", "flute.png"]
    for k, path in enumerate(out):
        heat = np.asarray(Image.open(path).convert("L"), np.float32)
        thirds = [heat[10:40, 32 * j + 4 : 32 * j + 28].mean() for j in range(3)]
        assert int(np.argmax(thirds)) == k, (path, thirds)


def test_info_json_says_strips_when_strips_were_used(shared_video):
    video = shared_video("clip.mp4", **SMALL)  # red and blue panels: no player found
    assert json.loads(cli("info", video, "--json").stdout)["method"] == "strips"
    assert json.loads(cli("info", video, "--boxes", "strips", "--json").stdout)["method"] == "strips"
    assert json.loads(cli("info", video, "--boxes", "0,0,32,48", "--json").stdout)["method"] == "boxes"


def test_the_ready_boxes_line_says_when_the_boxes_move(shared_video, tmp_path):
    moving = shared_video("swap.mp4", panels=(GREEN, YELLOW), cuts=[(6.0, (YELLOW, GREEN))], **CLIP)
    note = "(each source's typical box; the boxes change over the video"
    assert note in cli("info", moving).stdout
    assert note in cli("separate", moving, "-o", tmp_path / "a").stderr
    still = shared_video("duet.mp4", panels=(GREEN, YELLOW), **SMALL)
    assert "--boxes 0,0,32,48 32,0,64,48 --names violin flute" in cli("info", still).stdout
    assert note not in cli("info", still).stdout


def test_pictures_are_readable_by_everyone_like_the_wavs(shared_video, tmp_path):
    import os

    umask = os.umask(0)
    os.umask(umask)
    video = shared_video("trio.mp4", panels=(GREEN, MAGENTA, YELLOW), duration=3.0, width=96, height=48)
    cli("info", video, "--preview", tmp_path / "check.png")
    pictures = [tmp_path / "check.png", *cli("locate", video, "-o", tmp_path).stdout.split()]
    assert {oct(Path(p).stat().st_mode & 0o777) for p in pictures} == {oct(0o666 & ~umask)}


def test_pictures_replace_a_file_only_with_overwrite_and_take_their_names_format(shared_video, tmp_path):
    """A user's own picture survives ``info --preview`` and ``locate`` unless --overwrite is given
    (one line, nothing touched, as separate's outputs); a .jpg preview is a JPEG, not a PNG."""
    video = shared_video("duet.mp4", panels=(GREEN, YELLOW), **SMALL)
    mine, heat = tmp_path / "mine.png", tmp_path / "maps" / video.stem / "violin.png"
    heat.parent.mkdir(parents=True)
    for path in (mine, heat):
        path.write_bytes(b"mine")
    refused = cli("info", video, "--preview", mine, code=2)
    assert error_line(refused) == f"error: {mine} already exists; pass --overwrite to replace it"
    refused = cli("locate", video, "-o", tmp_path / "maps", code=2)
    assert error_line(refused) == f"error: {heat} already exists; pass --overwrite to replace it"
    assert mine.read_bytes() == heat.read_bytes() == b"mine"
    assert sorted(p.name for p in heat.parent.iterdir()) == ["violin.png"]  # flute.png not written either
    cli("info", video, "--preview", mine, "--overwrite")
    cli("locate", video, "-o", tmp_path / "maps", "--overwrite")
    assert Image.open(mine).format == Image.open(heat).format == "PNG"
    cli("info", video, "--preview", tmp_path / "check.JPG")
    assert Image.open(tmp_path / "check.JPG").format == "JPEG"


def test_source_by_a_found_players_name(shared_video):
    video = shared_video("duet.mp4", panels=(GREEN, YELLOW), **SMALL)
    by_name = cli("separate", video, "-o", "-", "--source", "flute", "-q")
    by_number = cli("separate", video, "-o", "-", "--source", "2", "-q")
    assert by_name.stdout_bytes == by_number.stdout_bytes and len(by_name.stdout_bytes) > 1000
