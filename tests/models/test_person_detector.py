"""The bundled person detector (BlazePose's, converted to TorchScript): its decoding on generated
values, and the detector itself on real pictures (examples/people/README.md: source, licence)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from avsep.models import person_detector as pd

PEOPLE = Path(__file__).resolve().parents[2] / "examples" / "people"


def picture(name: str) -> np.ndarray:
    with Image.open(PEOPLE / name) as im:
        return np.array(im.convert("RGB"))


def test_the_anchors_follow_mediapipes_ssd_options():
    centres = pd.anchors()
    assert centres.shape == (2254, 2)  # 28*28*2 + 14*14*2 + 7*7*6
    assert np.allclose(centres[0], [0.5 / 28, 0.5 / 28]) and np.allclose(centres[1], centres[0])
    assert np.allclose(centres[2], [1.5 / 28, 0.5 / 28])
    assert np.allclose(centres[1568], [0.5 / 14, 0.5 / 14])
    assert np.allclose(centres[1568 + 392 : 1568 + 392 + 6], [0.5 / 7, 0.5 / 7])
    assert np.allclose(centres[-1], [6.5 / 7, 6.5 / 7])


def test_decoding_puts_boxes_and_keypoints_around_their_anchor():
    centres = np.array([[0.25, 0.5]], np.float32)
    raw = np.array([[22.4, -11.2, 44.8, 22.4, 0, 0, 11.2, 11.2, -22.4, 0, 0, 22.4]], np.float32)
    values, scores = pd.decode(raw, np.array([0.0]), centres)
    assert np.allclose(values[0, :4], [0.25, 0.4, 0.45, 0.5])  # centre (0.35, 0.45), 0.2 x 0.1
    assert np.allclose(values[0, 4:], [0.25, 0.5, 0.3, 0.55, 0.15, 0.5, 0.25, 0.6])
    assert np.allclose(scores, [0.5])
    assert pd.decode(raw, np.array([1e4]), centres)[1][0] == pytest.approx(1.0)  # clipped, no overflow


def test_weighted_nms_averages_what_overlaps_the_best_and_keeps_the_rest():
    values = np.array([[0, 0, 10, 10, 1, 1], [1, 0, 11, 10, 3, 3], [50, 50, 60, 60, 0, 0]], np.float64)
    out = pd.weighted_nms(values, np.array([0.9, 0.6, 0.7]))
    assert [s for _, s in out] == [0.9, 0.7]
    assert np.allclose(out[0][0], (values[0] * 0.9 + values[1] * 0.6) / 1.5)
    assert np.allclose(out[1][0], values[2])


def test_the_letterbox_centres_the_picture_on_black():
    x, pad = pd.letterbox(np.full((100, 200, 3), 255, np.uint8))
    assert x.shape == (1, 3, 224, 224) and pad == (0.0, 56 / 224, 0.0, 56 / 224)
    assert float(x[0, 0, 0, 0]) == -1.0 and float(x[0, 0, 112, 112]) == pytest.approx(1.0)


def test_wide_frames_are_also_looked_at_in_squares():
    assert pd.windows(720, 720) == [(0, 0, 720, 720)]
    assert pd.windows(1280, 720) == [(0, 0, 1280, 720), (0, 0, 720, 720), (280, 0, 1000, 720), (560, 0, 1280, 720)]
    assert pd.windows(360, 640)[1:] == [(0, 0, 360, 360), (0, 140, 360, 500), (0, 280, 360, 640)]
    fine = pd.windows(720, 720, fine=True)[1:]  # half squares, half a square apart: 3 x 3
    assert len(fine) == 9 and fine[0] == (0, 0, 360, 360) and fine[-1] == (360, 360, 720, 720)


def test_the_detector_ships_with_its_origin_recorded():
    path = pd.detector_file()
    assert path is not None, "weights/blazepose-detector-*.torchscript is missing"
    card = json.loads(path.with_name("blazepose-detector.json").read_text())
    assert card["file"] == path.name and card["origin"]["package"] == "mediapipe==0.10.21 (PyPI)"
    assert card["origin"]["member_sha256"].startswith("9ba9dd3d") and "Apache-2.0" in card["origin"]["licence"]


def test_two_people_side_by_side_are_both_found():
    detector = pd.load_person_detector()
    assert detector is not None, "the bundled person detector is missing"
    people = detector.detect(picture("camera_astronaut.jpg"))
    assert len(people) == 2
    left, right = sorted(people, key=lambda p: p.face[0])
    assert left.face[2] <= 256 <= right.face[0]  # one in each photo
    assert 40 <= (left.face[1] + left.face[3]) / 2 <= 130  # the cameraman's head, upper half
    assert 300 <= (right.face[0] + right.face[2]) / 2 <= 420  # the astronaut's face
    for p in people:
        assert p.score >= pd.MIN_SCORE and p.body[2] - p.body[0] > p.face[2] - p.face[0]


def test_the_climber_whose_head_shows_is_found():
    (climber,) = pd.load_person_detector().detect(picture("ascent.png"))
    cx, cy = (climber.face[0] + climber.face[2]) / 2, (climber.face[1] + climber.face[3]) / 2
    assert 190 <= cx <= 245 and 110 <= cy <= 165  # the man with the backpack, right


def test_a_damaged_file_is_refused(tmp_path):
    path = pd.detector_file()
    bad = tmp_path / path.name
    bad.write_bytes(path.read_bytes()[:-1] + b"x")
    with pytest.raises(Exception, match="sha256"):
        pd.load_person_detector.__wrapped__(bad)


def test_loading_the_detector_warns_nothing():
    """torch 2.13 warns that TorchScript is deprecated; a user has nothing to change, so the
    command line (which shows warnings) must not print it."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert pd.load_person_detector.__wrapped__() is not None


def test_channels_last_input_finds_the_same_people_as_planar_input():
    """The detector is fed the frame's own (channels-last) layout because its convolutions run
    faster on it; what it finds must not depend on the layout."""
    detector = pd.load_person_detector()
    assert detector is not None, "the bundled person detector is missing"
    frame = picture("camera_astronaut.jpg")
    x, _ = pd.letterbox(frame)
    assert x.is_contiguous(memory_format=torch.channels_last)
    with torch.inference_mode():
        fast = detector.network(x)
        planar = detector.network(x.contiguous())
    for a, b in zip(fast, planar):
        assert torch.allclose(a.float(), b.float(), rtol=1e-4, atol=1e-3)
