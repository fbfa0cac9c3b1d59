"""Procedural instrument drawings, for classes the installed clipart lacks or has few of.

Each ``draw_<class>(rng)`` draws one instrument in flat colours on a transparent 512 x 512
canvas (PIL, drawn at 2x and downsampled for anti-aliasing). A *variant* is a seed: it fixes
the palette, proportions, outline and details, so variants are distinct pictures and are split
between train/val/test like clipart files are. They are simple flat drawings, not photographs:
the backbone's ImageNet features and the colour/scale jitter of the compositor carry them.
The drawing kit is :mod:`avsep.train.dataset.pen`; the winds are drawn in
:mod:`avsep.train.dataset.winds`.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from PIL import Image, ImageDraw

from avsep.train.dataset.pen import (
    SILVER,
    WOODS,
    S,
    colour,
    draw_bow,
    finish,
    new_canvas,
    profile_outline,
    shade,
    tint,
)
from avsep.train.dataset.winds import draw_clarinet, draw_flute, draw_saxophone, draw_trumpet, draw_tuba

# ---------------------------------------------------------------------------------------------


def _bowed(rng: np.random.Generator, kind: str) -> Image.Image:
    img, pen = new_canvas(rng)
    wood = tint(WOODS[int(rng.integers(len(WOODS)))], rng)
    dark = tint((25, 18, 15), rng, 6)
    cx = S / 2
    if kind == "violin":
        top, bottom, neck_top = 330.0, 900.0, 80.0
        prof = [0.25, 0.7, 0.82, 0.78, 0.55, 0.52, 0.85, 1.0, 0.98, 0.8, 0.35]
        scale = 230 * rng.uniform(0.88, 1.05)
    else:  # cello: longer, rounder body, end pin
        top, bottom, neck_top = 300.0, 880.0, 40.0
        prof = [0.3, 0.72, 0.85, 0.8, 0.6, 0.58, 0.88, 1.0, 0.98, 0.82, 0.4]
        scale = 255 * rng.uniform(0.9, 1.05)
    pen.poly(profile_outline(cx, top, bottom, prof, scale), wood)
    if rng.random() < 0.7:  # a lighter centre, like varnish catching light
        inner = profile_outline(cx, top + 30, bottom - 30, prof, scale * 0.8)
        pen.poly(inner, shade(wood, 1.18), outline=False)
    # f-holes
    for sgn in (-1, 1):
        x = cx + sgn * scale * 0.42
        pts = [(x - sgn * 10, 560), (x + sgn * 12, 610), (x - sgn * 6, 660), (x + sgn * 10, 720)]
        pen.line(pts, dark, 9)
        for px, py in (pts[0], pts[-1]):
            pen.ellipse([px - 9, py - 9, px + 9, py + 9], dark, outline=False)
    # fingerboard, neck, pegbox, scroll
    pen.poly([(cx - 26, neck_top + 120), (cx + 26, neck_top + 120), (cx + 40, 700), (cx - 40, 700)], dark)
    pen.rect([cx - 22, neck_top + 40, cx + 22, neck_top + 130], shade(wood, 0.8))
    pen.ellipse([cx - 34, neck_top - 20, cx + 34, neck_top + 48], shade(wood, 0.75))
    pen.ellipse([cx - 14, neck_top - 2, cx + 14, neck_top + 28], shade(wood, 0.5), outline=False)
    for k, sgn in enumerate((-1, 1, -1, 1)):
        y = neck_top + 55 + k * 18
        pen.line([(cx, y), (cx + sgn * 42, y - 4)], dark, 8)
    # tailpiece, bridge, strings
    pen.poly([(cx - 34, 770), (cx + 34, 770), (cx + 22, 880), (cx - 22, 880)], dark)
    bridge = tint((225, 200, 160), rng, 10)
    pen.rect([cx - 48, 735, cx + 48, 750], bridge)
    for k in range(4):
        x0 = cx - 15 + k * 10
        pen.line([(cx - 12 + k * 8, neck_top + 125), (x0, 780)], (225, 225, 220), 3)
    if kind == "cello":
        pen.line([(cx, 880), (cx, 1000)], (160, 160, 165), 10)
    if rng.random() < 0.55:
        draw_bow(pen, rng, (cx - 360, 560 + rng.uniform(-60, 60)), (cx + 380, 700 + rng.uniform(-60, 60)))
    return finish(img)


def draw_violin(rng: np.random.Generator) -> Image.Image:
    return _bowed(rng, "violin")


def draw_cello(rng: np.random.Generator) -> Image.Image:
    return _bowed(rng, "cello")


def draw_acoustic_guitar(rng: np.random.Generator) -> Image.Image:
    img, pen = new_canvas(rng)
    top_wood = tint([(220, 170, 100), (205, 140, 70), (160, 90, 40), (235, 195, 130)][int(rng.integers(4))], rng)
    side = shade(top_wood, 0.7)
    dark = tint((40, 25, 15), rng, 8)
    cx = S / 2
    scale = 300 * rng.uniform(0.9, 1.05)
    prof = [0.35, 0.72, 0.8, 0.72, 0.62, 0.7, 0.92, 1.0, 0.95, 0.75, 0.35]
    pen.poly(profile_outline(cx, 430, 1010, prof, scale), side)
    pen.poly(profile_outline(cx, 440, 1000, prof, scale * 0.95), top_wood, outline=False)
    r = scale * 0.32
    pen.ellipse([cx - r - 16, 620 - r - 16, cx + r + 16, 620 + r + 16], tint((90, 50, 20), rng))
    pen.ellipse([cx - r, 620 - r, cx + r, 620 + r], (20, 12, 8))
    # neck with frets, headstock with pegs
    neck = tint((120, 70, 30), rng)
    pen.rect([cx - 34, 90, cx + 34, 520], neck)
    for k in range(12):
        y = 120 + k * 30 * (1 - k * 0.02)
        pen.line([(cx - 32, y), (cx + 32, y)], (210, 210, 210), 4)
    pen.poly([(cx - 44, 10), (cx + 44, 10), (cx + 36, 100), (cx - 36, 100)], shade(neck, 0.7))
    for k in range(3):
        for sgn in (-1, 1):
            y = 30 + k * 25
            pen.ellipse([cx + sgn * 60 - 11, y - 9, cx + sgn * 60 + 11, y + 9], (220, 220, 210))
    pen.rect([cx - 70, 820, cx + 70, 850], dark, radius=8)
    for k in range(6):
        x = cx - 20 + k * 8
        pen.line([(x, 100), (cx - 45 + k * 18, 835)], (235, 230, 220), 2)
    return finish(img)


def draw_erhu(rng: np.random.Generator) -> Image.Image:
    """A long thin neck, a small hexagonal or round resonator, two pegs, two strings, a bow."""
    img, pen = new_canvas(rng)
    wood = tint([(60, 25, 15), (95, 40, 20), (40, 20, 15), (120, 55, 25)][int(rng.integers(4))], rng)
    cx = S / 2 + rng.uniform(-40, 40)
    top = 40.0
    pen.rect([cx - 13, top, cx + 13, 900], wood, radius=10)
    # curled head
    pen.ellipse([cx - 30, top - 30, cx + 30, top + 30], shade(wood, 1.3))
    # two pegs sticking out sideways
    for k, y in enumerate((top + 110, top + 190)):
        pen.rect([cx - 80, y - 10, cx + 10, y + 10], shade(wood, 1.4), radius=8)
        pen.ellipse([cx - 100, y - 18, cx - 64, y + 18], shade(wood, 1.2))
    # resonator at the bottom, front skin
    ry = 820.0
    w = rng.uniform(150, 200)
    h = rng.uniform(130, 170)
    if rng.random() < 0.5:
        pts = [
            (cx + w / 2 * math.cos(a), ry + h / 2 * math.sin(a))
            for a in np.linspace(0, 2 * math.pi, 7)[:-1] + math.pi / 6
        ]
        pen.poly(pts, shade(wood, 1.15))
    else:
        pen.rect([cx - w / 2, ry - h / 2, cx + w / 2, ry + h / 2], shade(wood, 1.15), radius=h / 4)
    skin = tint((70, 65, 50), rng, 15)
    pen.ellipse([cx - w * 0.35, ry - h * 0.38, cx + w * 0.35, ry + h * 0.38], skin)
    scale_col = shade(skin, 0.6)
    for i in range(-3, 4):
        for j in range(-2, 3):
            x, y = cx + i * w * 0.09, ry + j * h * 0.13 + (i % 2) * h * 0.06
            if ((x - cx) / (w * 0.33)) ** 2 + ((y - ry) / (h * 0.36)) ** 2 < 1:
                pen.ellipse([x - 9, y - 6, x + 9, y + 6], scale_col, outline=False)
    # strings, the qianjin loop, the bridge
    for dx in (-5, 5):
        pen.line([(cx + dx, top + 100), (cx + dx, ry - 20)], (230, 225, 200), 3)
    pen.line([(cx - 16, 380), (cx + 16, 380)], tint((180, 40, 40), rng, 20), 10)
    pen.rect([cx - 14, ry - 30, cx + 14, ry - 14], (200, 170, 120))
    # the bow passes between the strings, nearly horizontal
    y0 = ry - rng.uniform(60, 130)
    draw_bow(pen, rng, (cx - 420, y0 + rng.uniform(-30, 30)), (cx + 300, y0 + rng.uniform(-40, 40)))
    return finish(img)


def draw_accordion(rng: np.random.Generator) -> Image.Image:
    img, pen = new_canvas(rng)
    palette = [(190, 25, 35), (20, 20, 25), (235, 235, 230), (30, 70, 160), (30, 120, 70), (120, 20, 90)]
    shell = tint(palette[int(rng.integers(len(palette)))], rng, 10)
    bellows = tint(palette[int(rng.integers(len(palette)))], rng, 10)
    trim = tint(SILVER[0], rng, 8)
    x0, x1 = 160.0, 860.0
    y0, y1 = 180.0, 880.0
    bl, br = x0 + 170, x1 - 200
    # bellows folds: alternating stripes with zigzag top/bottom
    n = int(rng.integers(9, 15))
    xs = np.linspace(bl, br, n + 1)
    for k in range(n):
        col = bellows if k % 2 else shade(bellows, 0.65)
        a, b = xs[k], xs[k + 1]
        dy = 25 if k % 2 else 0
        pen.poly([(a, y0 + 20 + dy), (b, y0 + 45 - dy), (b, y1 - 45 + dy), (a, y1 - 20 - dy)], col, outline=False)
        pen.line([(a, y0 + 20 + dy), (a, y1 - 20 - dy)], shade(bellows, 0.4), 4)
    if rng.random() < 0.6:
        for k in range(n):
            pen.rect([xs[k] - 6, y0 + 20, xs[k] + 6, y0 + 40], trim, outline=False)
            pen.rect([xs[k] - 6, y1 - 40, xs[k] + 6, y1 - 20], trim, outline=False)
    # bass end (left) with a button grid
    pen.rect([x0, y0, bl, y1], shell, radius=30)
    for i in range(4):
        for j in range(10):
            x, y = x0 + 40 + i * 32, y0 + 90 + j * 55 + (i % 2) * 20
            pen.ellipse([x - 11, y - 11, x + 11, y + 11], shade(shell, 1.6))
    # treble end (right) with the keyboard
    pen.rect([br, y0, x1, y1], shell, radius=30)
    kx0, kx1 = br + 70, x1 - 30
    pen.rect([kx0, y0 + 60, kx1, y1 - 60], (245, 245, 240))
    nk = 20
    ys = np.linspace(y0 + 60, y1 - 60, nk + 1)
    for k in range(1, nk):
        pen.line([(kx0, ys[k]), (kx1, ys[k])], (90, 90, 90), 3)
    for k in range(nk):
        if k % 7 not in (2, 6):
            key_h = ys[1] - ys[0]
            black = [kx0, ys[k] + key_h * 0.6, kx0 + (kx1 - kx0) * 0.55, ys[k + 1] + key_h * 0.4]
            pen.rect(black, (15, 15, 15), outline=False)
    # grille and name plate
    pen.rect([br + 10, y0 + 60, kx0 - 10, y1 - 60], shade(shell, 0.7), radius=10)
    for k in range(8):
        y = y0 + 100 + k * 80
        pen.line([(br + 20, y), (kx0 - 20, y + 20)], trim, 5)
    pen.rect([x0 + 10, y0 - 30, x1 - 10, y0 + 10], trim, radius=10)
    return finish(img)


def draw_xylophone(rng: np.random.Generator) -> Image.Image:
    img, pen = new_canvas(rng)
    frame = tint(WOODS[int(rng.integers(len(WOODS)))], rng)
    rainbow = rng.random() < 0.4
    n = int(rng.integers(8, 15))
    x0, x1 = 120.0, 900.0
    bars_w = (x1 - x0) / n
    top_y, long_h, short_h = 420.0, 520.0, 260.0
    # rails
    rail = shade(frame, 0.7)
    pen.poly([(x0 - 30, top_y + 60), (x1 + 30, top_y + 50), (x1 + 30, top_y + 80), (x0 - 30, top_y + 95)], rail)
    lower = [(x0 - 30, top_y + long_h - 70), (x1 + 30, top_y + short_h - 40)]
    lower += [(x1 + 30, top_y + short_h - 5), (x0 - 30, top_y + long_h - 35)]
    pen.poly(lower, rail)
    resonators = rng.random() < 0.5
    for k in range(n):
        h = long_h + (short_h - long_h) * k / max(n - 1, 1)
        x = x0 + k * bars_w
        if resonators:
            pen.rect(
                [x + bars_w * 0.25, top_y + h, x + bars_w * 0.75, top_y + h + 140 - k * 6],
                tint((170, 170, 175), rng, 6),
            )
        if rainbow:
            hue = k / n
            col = tuple(int(255 * (0.55 + 0.45 * math.cos(2 * math.pi * (hue + o)))) for o in (0, 1 / 3, 2 / 3))
        else:
            col = tint((150, 60, 35), rng, 25)
        pen.rect([x + 4, top_y + (long_h - h) * 0.1, x + bars_w - 4, top_y + h], col, radius=8)  # type: ignore[arg-type]
        for yy in (top_y + 70 + (long_h - h) * 0.08, top_y + h - 55):
            pen.ellipse([x + bars_w / 2 - 6, yy - 6, x + bars_w / 2 + 6, yy + 6], (220, 220, 220), outline=False)
    # two mallets across the bars
    for k in range(2):
        a = (230 + k * 230, top_y + 330 - k * 20)
        b = (470 + k * 260, top_y + 150 - k * 40)
        pen.line([a, b], tint((200, 170, 120), rng, 10), 12)
        pen.ellipse([b[0] - 32, b[1] - 32, b[0] + 32, b[1] + 32], tint((200, 40, 50), rng, 30))
    return finish(img)


DRAWERS: dict[str, Callable[[np.random.Generator], Image.Image]] = {
    "accordion": draw_accordion,
    "acoustic_guitar": draw_acoustic_guitar,
    "cello": draw_cello,
    "clarinet": draw_clarinet,
    "erhu": draw_erhu,
    "flute": draw_flute,
    "saxophone": draw_saxophone,
    "trumpet": draw_trumpet,
    "tuba": draw_tuba,
    "violin": draw_violin,
    "xylophone": draw_xylophone,
}


def draw(instrument: str, variant: int) -> Image.Image:
    """Variant ``variant`` of the procedural drawing of ``instrument`` (RGBA, cropped)."""
    return DRAWERS[instrument](np.random.default_rng([0x5EED, variant, sum(map(ord, instrument))]))


# ---------------------------------------------------------------------------------------------
# the people-shaped distractor


def draw_person(rng: np.random.Generator) -> Image.Image:
    """A flat person silhouette (head, neck, torso, arms, legs), about 1 : 2.6 (w : h)."""
    W, H = 400, 1040
    img = Image.new("RGBA", (W, H), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    skin = tint([(235, 200, 170), (200, 150, 110), (150, 100, 70), (95, 60, 40)][int(rng.integers(4))], rng, 10)
    cloth = tuple(int(v) for v in colour(rng))
    legs = tuple(int(v * 0.6) for v in colour(rng))
    hair = tint([(30, 20, 15), (90, 60, 30), (200, 170, 100), (120, 120, 120)][int(rng.integers(4))], rng, 10)
    cx = W / 2
    d.ellipse([cx - 62, 10, cx + 62, 170], fill=hair)
    d.ellipse([cx - 55, 30, cx + 55, 175], fill=skin)
    d.rectangle([cx - 25, 160, cx + 25, 210], fill=skin)
    sh = rng.uniform(120, 150)
    d.polygon([(cx - sh, 215), (cx + sh, 215), (cx + sh * 0.75, 620), (cx - sh * 0.75, 620)], fill=cloth)
    d.ellipse([cx - sh, 195, cx - sh + 70, 265], fill=cloth)
    d.ellipse([cx + sh - 70, 195, cx + sh, 265], fill=cloth)
    for sgn in (-1, 1):
        bend = rng.uniform(-0.5, 0.5)
        elbow = (cx + sgn * (sh + 10), 420 + 40 * bend)
        hand = (cx + sgn * rng.uniform(20, sh + 30), rng.uniform(380, 560))
        d.line([(cx + sgn * (sh - 25), 240), elbow, hand], fill=cloth, width=60, joint="curve")
        d.ellipse([hand[0] - 26, hand[1] - 26, hand[0] + 26, hand[1] + 26], fill=skin)
    d.polygon([(cx - sh * 0.75, 610), (cx - 8, 610), (cx - 30, 1030), (cx - 110, 1030)], fill=legs)
    d.polygon([(cx + 8, 610), (cx + sh * 0.75, 610), (cx + 110, 1030), (cx + 30, 1030)], fill=legs)
    return img.resize((W // 2, H // 2), Image.Resampling.LANCZOS)
