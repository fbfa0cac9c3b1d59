"""Pictures a person can read (avsep.boxes.preview.draw_box, used by ``info --preview`` and
``locate``): thick outlines in two contrasting tones, labels on a filled tag scaled to the
frame, and boxes on the frame's edge still visible, on a busy, photo-like frame."""

from __future__ import annotations

import numpy as np
from PIL import Image

from avsep.boxes.preview import COLOURS, caption, draw_box


def busy_frame(width: int, height: int) -> Image.Image:
    """Photo-like: smooth light and dark areas, texture and noise (no flat background)."""
    rng = np.random.default_rng(1)
    y, x = np.mgrid[0:height, 0:width] / max(width, height)
    base = 128 + 100 * np.sin(9 * x + 3 * y)[..., None] * np.array([1.0, 0.7, 0.4])
    noisy = base + rng.normal(0, 25, (height, width, 3))
    return Image.fromarray(noisy.clip(0, 255).astype(np.uint8))


def rgb(colour: str) -> np.ndarray:
    return np.array([int(colour[k : k + 2], 16) for k in (1, 3, 5)])


def colour_rows(pixels: np.ndarray, colour: str) -> np.ndarray:
    return np.abs(pixels.astype(int) - rgb(colour)).max(-1) <= 2


def test_a_box_on_the_frame_edge_keeps_four_thick_two_tone_sides():
    image = busy_frame(1280, 720)
    colour = COLOURS[1]
    draw_box(image, (0, 0, 1280, 720), colour, "1 cello")
    px = np.asarray(image)
    for side in (px[:12], px[-12:], px[:, :12], px[:, -12:]):
        band = colour_rows(side, colour)
        assert band.mean() > 0.3  # the colour runs along every side, frame edge included
        assert (side.max(-1) <= 2).mean() > 0.1  # and a black line beside it
    # Thick: at least 1/120 of the short side of colour across the top side.
    assert colour_rows(px[:, 640], colour)[:20].sum() >= 720 // 120


def tag_rows(px: np.ndarray, colour: str, x0: int, rows: slice) -> int:
    """How many rows of ``rows`` are mostly ``colour`` over the 40 pixels right of ``x0``."""
    return int((colour_rows(px[rows, x0 : x0 + 40], colour).mean(1) > 0.3).sum())


def test_labels_sit_on_a_filled_tag_scaled_to_the_frame_with_contrasting_ink():
    heights = []
    for scale in (1, 2):
        image = busy_frame(640 * scale, 360 * scale)
        colour = COLOURS[3]  # light yellow: needs black ink
        x0, y0 = 100 * scale, 120 * scale
        draw_box(image, (x0, y0, 300 * scale, 300 * scale), colour, "2 acoustic_guitar")
        px = np.asarray(image)
        heights.append(tag_rows(px, colour, x0, slice(0, y0)))
    assert heights[0] >= 12 and 1.6 < heights[1] / heights[0] < 2.4  # twice as tall on a frame twice as big
    tag = px[y0 - heights[1] : y0, x0 : x0 + 150]
    ink = (tag.max(-1) < 60).mean()
    assert 0.03 < ink < 0.6  # dark text on the light tag


def test_a_label_of_a_box_at_the_top_goes_inside_it_and_a_caption_hides_nothing():
    image = busy_frame(640, 360)
    draw_box(image, (50, 0, 300, 200), COLOURS[0], "1 flute")
    px = np.asarray(image)
    assert tag_rows(px, COLOURS[0], 52, slice(4, 40)) >= 12  # the tag is inside, under the top side
    captioned = caption(busy_frame(640, 360), "3 violin", COLOURS[2])
    px = np.asarray(captioned)
    assert captioned.height > 360 + 12 and tag_rows(px, COLOURS[2], 0, slice(360, None)) >= 12
    assert np.array_equal(px[:360], np.asarray(busy_frame(640, 360)))  # the picture itself untouched
