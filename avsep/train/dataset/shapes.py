"""Procedural instrument drawings, for classes the installed clipart lacks or has few of.

Each ``draw_<class>(rng)`` draws one instrument in flat colours on a transparent 512 x 512
canvas (PIL, drawn at 2x and downsampled for anti-aliasing). A *variant* is a seed: it fixes
the palette, proportions, outline and details, so variants are distinct pictures and are split
between train/val/test like clipart files are. They are simple flat drawings, not photographs:
the backbone's ImageNet features and the colour/scale jitter of the compositor carry them.
"""

from __future__ import annotations

import colorsys
import math
from collections.abc import Callable, Sequence

import numpy as np
from PIL import Image, ImageDraw

S = 1024  # drawing size; downsampled 2x
RGB = tuple[int, int, int]


def _c(rgb: Sequence[float], rng: np.random.Generator, amount: float = 18) -> RGB:
    return tuple(int(np.clip(v + rng.normal(0, amount), 0, 255)) for v in rgb)  # type: ignore[return-value]


def colour(rng: np.random.Generator) -> np.ndarray:
    """A random RGB colour, mostly muted (real rooms and clothes are rarely saturated)."""
    h = rng.random()
    sat = rng.uniform(0.0, 0.45) if rng.random() < 0.7 else rng.uniform(0.45, 1.0)
    val = rng.uniform(0.12, 0.95)
    return np.array(colorsys.hsv_to_rgb(h, sat, val)) * 255


def _shade(rgb: RGB, k: float) -> RGB:
    """k < 1 darker, k > 1 lighter."""
    if k <= 1:
        return tuple(int(v * k) for v in rgb)  # type: ignore[return-value]
    return tuple(int(v + (255 - v) * (k - 1)) for v in rgb)  # type: ignore[return-value]


WOODS: list[RGB] = [(150, 80, 30), (175, 100, 40), (120, 55, 25), (200, 130, 60), (95, 45, 20), (185, 85, 35)]
BRASS: list[RGB] = [(218, 170, 60), (200, 150, 40), (230, 190, 90), (190, 140, 55)]
SILVER: list[RGB] = [(200, 200, 205), (180, 182, 190), (215, 212, 205)]


def _box(b: Sequence[float]) -> list[float]:
    x0, y0, x1, y1 = (float(v) for v in b)
    return [min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)]


class Pen:
    """ImageDraw with an optional outline applied to every filled shape."""

    def __init__(self, img: Image.Image, outline: RGB | None, width: int) -> None:
        self.d = ImageDraw.Draw(img)
        self.outline = outline
        self.width = width

    def poly(self, pts: Sequence[tuple[float, float]], fill: RGB, outline: bool = True) -> None:
        self.d.polygon(
            [(float(x), float(y)) for x, y in pts],
            fill=fill,
            outline=self.outline if outline else None,
            width=self.width if outline else 0,
        )

    def ellipse(self, box: Sequence[float], fill: RGB, outline: bool = True) -> None:
        self.d.ellipse(
            _box(box), fill=fill, outline=self.outline if outline else None, width=self.width if outline else 0
        )

    def rect(self, box: Sequence[float], fill: RGB, outline: bool = True, radius: float = 0) -> None:
        self.d.rounded_rectangle(
            _box(box),
            radius=radius,
            fill=fill,
            outline=self.outline if outline else None,
            width=self.width if outline else 0,
        )

    def line(self, pts: Sequence[tuple[float, float]], fill: RGB, width: float) -> None:
        self.d.line([(float(x), float(y)) for x, y in pts], fill=fill, width=max(1, int(width)), joint="curve")

    def tube(self, pts: np.ndarray, widths: np.ndarray, fill: RGB, outline: bool = True) -> None:
        """A tube of varying width along a polyline, as one polygon."""
        pts = np.asarray(pts, float)
        tan = np.gradient(pts, axis=0)
        tan /= np.linalg.norm(tan, axis=1, keepdims=True) + 1e-9
        nrm = np.stack([-tan[:, 1], tan[:, 0]], axis=1)
        w = np.asarray(widths, float)[:, None] / 2
        left = pts + nrm * w
        right = pts - nrm * w
        self.poly([tuple(p) for p in np.concatenate([left, right[::-1]])], fill, outline)


def _new(rng: np.random.Generator) -> tuple[Image.Image, Pen]:
    img = Image.new("RGBA", (S, S), (0, 0, 0, 0))
    style = rng.random()
    if style < 0.45:
        outline: RGB | None = (20, 16, 14)
    elif style < 0.7:
        outline = _c((60, 40, 30), rng, 20)
    else:
        outline = None
    return img, Pen(img, outline, int(rng.integers(4, 11)))


def _finish(img: Image.Image) -> Image.Image:
    img = img.resize((S // 2, S // 2), Image.Resampling.LANCZOS)
    box = img.getbbox()
    return img.crop(box) if box else img


def _arc(cx: float, cy: float, rx: float, ry: float, a0: float, a1: float, n: int = 40) -> np.ndarray:
    a = np.linspace(math.radians(a0), math.radians(a1), n)
    return np.stack([cx + rx * np.cos(a), cy + ry * np.sin(a)], axis=1)


def _profile_outline(
    cx: float, top: float, bottom: float, half_widths: Sequence[float], scale: float
) -> list[tuple[float, float]]:
    """A symmetric body outline from half-widths sampled evenly from top to bottom."""
    ys = np.linspace(top, bottom, 80)
    knots = np.linspace(top, bottom, len(half_widths))
    hw = np.interp(ys, knots, np.asarray(half_widths) * scale)
    # smooth the piecewise-linear profile
    hw = np.convolve(np.pad(hw, 6, mode="edge"), np.ones(13) / 13, mode="valid")
    hw[0] = hw[-1] = 0
    left = [(cx - w, y) for w, y in zip(hw, ys)]
    right = [(cx + w, y) for w, y in zip(hw[::-1], ys[::-1])]
    return left + right


def _bow(pen: Pen, rng: np.random.Generator, p0: tuple[float, float], p1: tuple[float, float]) -> None:
    stick = _c((70, 35, 20), rng, 15)
    hair = _c((235, 230, 215), rng, 8)
    pen.line([p0, p1], stick, 9)
    dx, dy = p1[0] - p0[0], p1[1] - p0[1]
    n = math.hypot(dx, dy)
    ox, oy = -dy / n * 16, dx / n * 16
    pen.line([(p0[0] + ox, p0[1] + oy), (p1[0] + ox, p1[1] + oy)], hair, 6)
    pen.rect([p0[0] - 12 + ox / 2, p0[1] - 12 + oy / 2, p0[0] + 12 + ox / 2, p0[1] + 12 + oy / 2], (25, 20, 20))


# ---------------------------------------------------------------------------------------------


def _bowed(rng: np.random.Generator, kind: str) -> Image.Image:
    img, pen = _new(rng)
    wood = _c(WOODS[int(rng.integers(len(WOODS)))], rng)
    dark = _c((25, 18, 15), rng, 6)
    cx = S / 2
    if kind == "violin":
        top, bottom, neck_top = 330.0, 900.0, 80.0
        prof = [0.25, 0.7, 0.82, 0.78, 0.55, 0.52, 0.85, 1.0, 0.98, 0.8, 0.35]
        scale = 230 * rng.uniform(0.88, 1.05)
    else:  # cello: longer, rounder body, end pin
        top, bottom, neck_top = 300.0, 880.0, 40.0
        prof = [0.3, 0.72, 0.85, 0.8, 0.6, 0.58, 0.88, 1.0, 0.98, 0.82, 0.4]
        scale = 255 * rng.uniform(0.9, 1.05)
    pen.poly(_profile_outline(cx, top, bottom, prof, scale), wood)
    if rng.random() < 0.7:  # a lighter centre, like varnish catching light
        inner = _profile_outline(cx, top + 30, bottom - 30, prof, scale * 0.8)
        pen.poly(inner, _shade(wood, 1.18), outline=False)
    # f-holes
    for sgn in (-1, 1):
        x = cx + sgn * scale * 0.42
        pts = [(x - sgn * 10, 560), (x + sgn * 12, 610), (x - sgn * 6, 660), (x + sgn * 10, 720)]
        pen.line(pts, dark, 9)
        for px, py in (pts[0], pts[-1]):
            pen.ellipse([px - 9, py - 9, px + 9, py + 9], dark, outline=False)
    # fingerboard, neck, pegbox, scroll
    pen.poly([(cx - 26, neck_top + 120), (cx + 26, neck_top + 120), (cx + 40, 700), (cx - 40, 700)], dark)
    pen.rect([cx - 22, neck_top + 40, cx + 22, neck_top + 130], _shade(wood, 0.8))
    pen.ellipse([cx - 34, neck_top - 20, cx + 34, neck_top + 48], _shade(wood, 0.75))
    pen.ellipse([cx - 14, neck_top - 2, cx + 14, neck_top + 28], _shade(wood, 0.5), outline=False)
    for k, sgn in enumerate((-1, 1, -1, 1)):
        y = neck_top + 55 + k * 18
        pen.line([(cx, y), (cx + sgn * 42, y - 4)], dark, 8)
    # tailpiece, bridge, strings
    pen.poly([(cx - 34, 770), (cx + 34, 770), (cx + 22, 880), (cx - 22, 880)], dark)
    bridge = _c((225, 200, 160), rng, 10)
    pen.rect([cx - 48, 735, cx + 48, 750], bridge)
    for k in range(4):
        x0 = cx - 15 + k * 10
        pen.line([(cx - 12 + k * 8, neck_top + 125), (x0, 780)], (225, 225, 220), 3)
    if kind == "cello":
        pen.line([(cx, 880), (cx, 1000)], (160, 160, 165), 10)
    if rng.random() < 0.55:
        _bow(pen, rng, (cx - 360, 560 + rng.uniform(-60, 60)), (cx + 380, 700 + rng.uniform(-60, 60)))
    return _finish(img)


def draw_violin(rng: np.random.Generator) -> Image.Image:
    return _bowed(rng, "violin")


def draw_cello(rng: np.random.Generator) -> Image.Image:
    return _bowed(rng, "cello")


def draw_acoustic_guitar(rng: np.random.Generator) -> Image.Image:
    img, pen = _new(rng)
    top_wood = _c([(220, 170, 100), (205, 140, 70), (160, 90, 40), (235, 195, 130)][int(rng.integers(4))], rng)
    side = _shade(top_wood, 0.7)
    dark = _c((40, 25, 15), rng, 8)
    cx = S / 2
    scale = 300 * rng.uniform(0.9, 1.05)
    prof = [0.35, 0.72, 0.8, 0.72, 0.62, 0.7, 0.92, 1.0, 0.95, 0.75, 0.35]
    pen.poly(_profile_outline(cx, 430, 1010, prof, scale), side)
    pen.poly(_profile_outline(cx, 440, 1000, prof, scale * 0.95), top_wood, outline=False)
    r = scale * 0.32
    pen.ellipse([cx - r - 16, 620 - r - 16, cx + r + 16, 620 + r + 16], _c((90, 50, 20), rng))
    pen.ellipse([cx - r, 620 - r, cx + r, 620 + r], (20, 12, 8))
    # neck with frets, headstock with pegs
    neck = _c((120, 70, 30), rng)
    pen.rect([cx - 34, 90, cx + 34, 520], neck)
    for k in range(12):
        y = 120 + k * 30 * (1 - k * 0.02)
        pen.line([(cx - 32, y), (cx + 32, y)], (210, 210, 210), 4)
    pen.poly([(cx - 44, 10), (cx + 44, 10), (cx + 36, 100), (cx - 36, 100)], _shade(neck, 0.7))
    for k in range(3):
        for sgn in (-1, 1):
            y = 30 + k * 25
            pen.ellipse([cx + sgn * 60 - 11, y - 9, cx + sgn * 60 + 11, y + 9], (220, 220, 210))
    pen.rect([cx - 70, 820, cx + 70, 850], dark, radius=8)
    for k in range(6):
        x = cx - 20 + k * 8
        pen.line([(x, 100), (cx - 45 + k * 18, 835)], (235, 230, 220), 2)
    return _finish(img)


def draw_erhu(rng: np.random.Generator) -> Image.Image:
    """A long thin neck, a small hexagonal or round resonator, two pegs, two strings, a bow."""
    img, pen = _new(rng)
    wood = _c([(60, 25, 15), (95, 40, 20), (40, 20, 15), (120, 55, 25)][int(rng.integers(4))], rng)
    cx = S / 2 + rng.uniform(-40, 40)
    top = 40.0
    pen.rect([cx - 13, top, cx + 13, 900], wood, radius=10)
    # curled head
    pen.ellipse([cx - 30, top - 30, cx + 30, top + 30], _shade(wood, 1.3))
    # two pegs sticking out sideways
    for k, y in enumerate((top + 110, top + 190)):
        pen.rect([cx - 80, y - 10, cx + 10, y + 10], _shade(wood, 1.4), radius=8)
        pen.ellipse([cx - 100, y - 18, cx - 64, y + 18], _shade(wood, 1.2))
    # resonator at the bottom, front skin
    ry = 820.0
    w = rng.uniform(150, 200)
    h = rng.uniform(130, 170)
    if rng.random() < 0.5:
        pts = [
            (cx + w / 2 * math.cos(a), ry + h / 2 * math.sin(a))
            for a in np.linspace(0, 2 * math.pi, 7)[:-1] + math.pi / 6
        ]
        pen.poly(pts, _shade(wood, 1.15))
    else:
        pen.rect([cx - w / 2, ry - h / 2, cx + w / 2, ry + h / 2], _shade(wood, 1.15), radius=h / 4)
    skin = _c((70, 65, 50), rng, 15)
    pen.ellipse([cx - w * 0.35, ry - h * 0.38, cx + w * 0.35, ry + h * 0.38], skin)
    scale_col = _shade(skin, 0.6)
    for i in range(-3, 4):
        for j in range(-2, 3):
            x, y = cx + i * w * 0.09, ry + j * h * 0.13 + (i % 2) * h * 0.06
            if ((x - cx) / (w * 0.33)) ** 2 + ((y - ry) / (h * 0.36)) ** 2 < 1:
                pen.ellipse([x - 9, y - 6, x + 9, y + 6], scale_col, outline=False)
    # strings, the qianjin loop, the bridge
    for dx in (-5, 5):
        pen.line([(cx + dx, top + 100), (cx + dx, ry - 20)], (230, 225, 200), 3)
    pen.line([(cx - 16, 380), (cx + 16, 380)], _c((180, 40, 40), rng, 20), 10)
    pen.rect([cx - 14, ry - 30, cx + 14, ry - 14], (200, 170, 120))
    # the bow passes between the strings, nearly horizontal
    y0 = ry - rng.uniform(60, 130)
    _bow(pen, rng, (cx - 420, y0 + rng.uniform(-30, 30)), (cx + 300, y0 + rng.uniform(-40, 40)))
    return _finish(img)


def draw_clarinet(rng: np.random.Generator) -> Image.Image:
    img, pen = _new(rng)
    body = _c([(25, 22, 22), (45, 30, 25), (15, 15, 18), (60, 40, 30)][int(rng.integers(4))], rng, 6)
    metal = _c(SILVER[int(rng.integers(len(SILVER)))], rng, 8)
    cx = S / 2
    w = rng.uniform(44, 56)
    pen.poly([(cx - 12, 20), (cx + 12, 20), (cx + w / 2 - 6, 110), (cx - w / 2 + 6, 110)], (20, 20, 20))
    pen.rect([cx - w / 2 - 2, 105, cx + w / 2 + 2, 130], metal)  # ligature
    pen.rect([cx - w / 2 - 4, 130, cx + w / 2 + 4, 200], body, radius=10)  # barrel
    pen.rect([cx - w / 2, 200, cx + w / 2, 820], body)
    bell_w = w * rng.uniform(2.2, 2.8)
    pen.poly([(cx - w / 2, 800), (cx + w / 2, 800), (cx + bell_w / 2, 980), (cx - bell_w / 2, 980)], body)
    pen.ellipse([cx - bell_w / 2, 960, cx + bell_w / 2, 1000], _shade(body, 1.3))
    for y in (200, 500, 800):
        pen.rect([cx - w / 2 - 5, y - 8, cx + w / 2 + 5, y + 8], metal)
    if rng.random() < 0.6:
        pen.rect([cx - w / 2 + 6, 210, cx - w / 2 + 14, 790], _shade(body, 1.6), outline=False)
    # tone holes, rings, keys and rods
    for k, y in enumerate(np.linspace(250, 760, 11)):
        if k % 3 == 1:
            pen.ellipse([cx - 15, y - 15, cx + 15, y + 15], metal)
            pen.ellipse([cx - 8, y - 8, cx + 8, y + 8], (10, 10, 10), outline=False)
        else:
            pen.ellipse([cx - 9, y - 9, cx + 9, y + 9], (5, 5, 5), outline=False)
        side = 1 if k % 2 else -1
        pen.rect([cx + side * (w / 2 - 4) - 6, y - 22, cx + side * (w / 2 + 8), y + 4], metal, radius=4)
    pen.line([(cx + w / 2 + 2, 240), (cx + w / 2 + 2, 780)], metal, 5)
    return _finish(img)


def draw_flute(rng: np.random.Generator) -> Image.Image:
    """A transverse flute, drawn diagonally (it is rotated again when composited)."""
    img, pen = _new(rng)
    metal = _c(
        [SILVER[int(rng.integers(len(SILVER)))], BRASS[0], (120, 75, 35)][int(rng.choice(3, p=[0.7, 0.15, 0.15]))],
        rng,
        8,
    )
    angle = math.radians(rng.uniform(-40, -15))
    L = 920
    x0, y0 = S / 2 - L / 2 * math.cos(angle), S / 2 - L / 2 * math.sin(angle)
    pts = np.array([[x0 + t * L * math.cos(angle), y0 + t * L * math.sin(angle)] for t in np.linspace(0, 1, 30)])
    w = rng.uniform(30, 40)
    pen.tube(pts, np.full(len(pts), w), metal)
    hi = _shade(metal, 1.35)
    off = np.array([-math.sin(angle), math.cos(angle)]) * (-w * 0.22)
    pen.line([tuple(p) for p in pts[1:-1] + off], hi, w * 0.18)
    d = np.array([math.cos(angle), math.sin(angle)])
    # crown, embouchure plate, joints, keys
    pen.ellipse([*(pts[0] - w * 0.7), *(pts[0] + w * 0.7)], _shade(metal, 0.85))
    ep = pts[0] + d * 110
    pen.ellipse([ep[0] - w * 0.9, ep[1] - w * 0.6, ep[0] + w * 0.9, ep[1] + w * 0.6], _shade(metal, 1.1))
    pen.ellipse([ep[0] - 10, ep[1] - 6, ep[0] + 10, ep[1] + 6], (20, 20, 20), outline=False)
    for t in (0.28, 0.78):
        p = pts[0] + d * L * t
        pen.ellipse([p[0] - w * 0.6, p[1] - w * 0.6, p[0] + w * 0.6, p[1] + w * 0.6], _shade(metal, 0.9))
    for t in np.linspace(0.36, 0.92, 13):
        p = pts[0] + d * L * t
        r = w * 0.42
        pen.ellipse([p[0] - r, p[1] - r, p[0] + r, p[1] + r], _shade(metal, 1.15))
        if rng.random() < 0.5:
            pen.ellipse([p[0] - r / 3, p[1] - r / 3, p[0] + r / 3, p[1] + r / 3], (25, 25, 25), outline=False)
    return _finish(img)


def draw_saxophone(rng: np.random.Generator) -> Image.Image:
    img, pen = _new(rng)
    brass = _c(BRASS[int(rng.integers(len(BRASS)))] if rng.random() < 0.85 else SILVER[0], rng, 12)
    cx = 440.0
    # body: straight conical tube, U-bend, bell rising to the right
    body = np.array([[cx, 240 + t * 560] for t in np.linspace(0, 1, 20)])
    wb = np.linspace(56, 100, 20)
    bell = np.array([[cx + 190 + t * 30, 800 - t * 330] for t in np.linspace(0, 1, 16)])
    arc = _arc(cx + 95, 800, 95, 130, 180, 360, 30)
    arc[:, 1] = 1600 - arc[:, 1]  # mirrored about y = 800: the bow hangs below the body
    pts = np.concatenate([body, arc[1:], bell[1:]])
    widths = np.concatenate([wb, np.linspace(100, 115, len(arc) - 1), np.linspace(115, 175, len(bell) - 1)])
    pen.tube(pts, widths, brass)
    top = bell[-1]
    pen.ellipse([top[0] - 100, top[1] - 30, top[0] + 100, top[1] + 30], _shade(brass, 0.55))
    pen.ellipse([top[0] - 80, top[1] - 20, top[0] + 80, top[1] + 20], _shade(brass, 0.35), outline=False)
    # neck and mouthpiece
    neck = np.array([[cx, 245], [cx - 20, 180], [cx - 60, 130], [cx - 120, 105], [cx - 180, 100]])
    pen.tube(neck, np.linspace(50, 26, len(neck)), brass)
    pen.tube(np.array([[cx - 175, 100], [cx - 260, 100]]), np.array([28, 18]), (25, 25, 25))
    # keys: pearl touches on the body
    pearl = _c((240, 232, 215), rng, 8)
    for k, y in enumerate(np.linspace(300, 720, 9)):
        r = 18 + k * 1.5
        x = cx - 10 + (k % 2) * 16
        pen.ellipse([x - r, y - r, x + r, y + r], _shade(brass, 0.8))
        pen.ellipse([x - r * 0.55, y - r * 0.55, x + r * 0.55, y + r * 0.55], pearl, outline=False)
    pen.line([(cx - 45, 290), (cx - 45, 760)], _shade(brass, 0.7), 7)
    if rng.random() < 0.6:
        pen.line([(cx + 22, 260), (cx + 40, 780)], _shade(brass, 1.4), 10)
    return _finish(img)


def draw_trumpet(rng: np.random.Generator) -> Image.Image:
    img, pen = _new(rng)
    brass = _c(BRASS[int(rng.integers(len(BRASS)))] if rng.random() < 0.75 else SILVER[int(rng.integers(3))], rng, 12)
    y = 420.0
    # leadpipe from the mouthpiece to the valves, then the bell section
    pen.tube(np.array([[60, y], [140, y]]), np.array([18, 28]), _shade(brass, 0.9))
    pen.tube(np.array([[130, y], [430, y]]), np.array([26, 26]), brass)
    bell = np.array([[600 + t * 360, y] for t in np.linspace(0, 1, 24)])
    wbell = 30 + 220 * np.linspace(0, 1, 24) ** 3.2
    pen.tube(np.array([[420, y + 150], [620, y + 150]]), np.array([26, 26]), brass)
    pen.tube(bell, wbell, brass)
    pen.ellipse([945, y - 125, 985, y + 125], _shade(brass, 0.6))
    # tuning slide loop
    loop = np.concatenate(
        [
            np.array([[420, y], [300, y]]),
            _arc(300, y + 75, 75, 75, 270, 90, 20),
            np.array([[300, y + 150], [420, y + 150]]),
        ]
    )
    pen.tube(loop, np.full(len(loop), 26), brass)
    loop2 = np.concatenate(
        [np.array([[620, y + 150]]), _arc(620, y + 75, 75, 75, 90, -90, 20)[1:], np.array([[640, y]])]
    )
    pen.tube(loop2, np.full(len(loop2), 26), brass)
    # three valves with finger buttons
    for k in range(3):
        x = 450 + k * 58
        pen.rect([x - 24, y - 120, x + 24, y + 200], _shade(brass, 1.1), radius=10)
        pen.rect([x - 28, y - 140, x + 28, y - 115], _shade(brass, 0.8), radius=6)
        pen.rect([x - 6, y - 190, x + 6, y - 140], (200, 200, 200))
        pen.ellipse([x - 22, y - 212, x + 22, y - 184], _c((240, 235, 220), rng, 6))
    return _finish(img)


def draw_tuba(rng: np.random.Generator) -> Image.Image:
    img, pen = _new(rng)
    brass = _c(BRASS[int(rng.integers(len(BRASS)))] if rng.random() < 0.7 else SILVER[int(rng.integers(3))], rng, 12)
    cx, cy = 500.0, 600.0
    # the large oval coil
    coil = _arc(cx, cy, 210, 300, 0, 360, 60)
    pen.tube(coil, np.full(len(coil), 60), brass)
    # bell: rising at the top right, flaring to a wide rim
    bell = np.array([[cx + 170 + t * 10, 560 - t * 500] for t in np.linspace(0, 1, 24)])
    wbell = 70 + 330 * np.linspace(0, 1, 24) ** 2.6
    pen.tube(bell, wbell, brass)
    top = bell[-1]
    pen.ellipse([top[0] - 200, top[1] - 45, top[0] + 200, top[1] + 45], _shade(brass, 0.5))
    pen.ellipse([top[0] - 170, top[1] - 30, top[0] + 170, top[1] + 30], _shade(brass, 0.3), outline=False)
    # bottom bow
    bow = _arc(cx, 860, 170, 90, 0, 180, 30)
    pen.tube(bow, np.full(len(bow), 80), _shade(brass, 0.95))
    # valves
    for k in range(4):
        x = cx - 120 + k * 52
        pen.rect([x - 22, cy - 130, x + 22, cy + 130], _shade(brass, 1.12), radius=10)
        pen.rect([x - 6, cy - 175, x + 6, cy - 130], (200, 200, 200))
        pen.ellipse([x - 20, cy - 195, x + 20, cy - 170], _c((235, 230, 215), rng, 6))
    # leadpipe and mouthpiece sticking out to the left
    lead = np.array([[cx - 150, cy - 60], [cx - 260, cy - 150], [cx - 330, cy - 190]])
    pen.tube(lead, np.array([30, 24, 20]), brass)
    pen.tube(np.array([[cx - 330, cy - 190], [cx - 380, cy - 215]]), np.array([22, 34]), _shade(brass, 0.8))
    if rng.random() < 0.6:
        hl = _arc(cx, cy, 190, 280, 200, 250, 12)
        pen.line([tuple(p) for p in hl], _shade(brass, 1.5), 12)
    return _finish(img)


def draw_accordion(rng: np.random.Generator) -> Image.Image:
    img, pen = _new(rng)
    palette = [(190, 25, 35), (20, 20, 25), (235, 235, 230), (30, 70, 160), (30, 120, 70), (120, 20, 90)]
    shell = _c(palette[int(rng.integers(len(palette)))], rng, 10)
    bellows = _c(palette[int(rng.integers(len(palette)))], rng, 10)
    trim = _c(SILVER[0], rng, 8)
    x0, x1 = 160.0, 860.0
    y0, y1 = 180.0, 880.0
    bl, br = x0 + 170, x1 - 200
    # bellows folds: alternating stripes with zigzag top/bottom
    n = int(rng.integers(9, 15))
    xs = np.linspace(bl, br, n + 1)
    for k in range(n):
        col = bellows if k % 2 else _shade(bellows, 0.65)
        a, b = xs[k], xs[k + 1]
        dy = 25 if k % 2 else 0
        pen.poly([(a, y0 + 20 + dy), (b, y0 + 45 - dy), (b, y1 - 45 + dy), (a, y1 - 20 - dy)], col, outline=False)
        pen.line([(a, y0 + 20 + dy), (a, y1 - 20 - dy)], _shade(bellows, 0.4), 4)
    if rng.random() < 0.6:
        for k in range(n):
            pen.rect([xs[k] - 6, y0 + 20, xs[k] + 6, y0 + 40], trim, outline=False)
            pen.rect([xs[k] - 6, y1 - 40, xs[k] + 6, y1 - 20], trim, outline=False)
    # bass end (left) with a button grid
    pen.rect([x0, y0, bl, y1], shell, radius=30)
    for i in range(4):
        for j in range(10):
            x, y = x0 + 40 + i * 32, y0 + 90 + j * 55 + (i % 2) * 20
            pen.ellipse([x - 11, y - 11, x + 11, y + 11], _shade(shell, 1.6))
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
    pen.rect([br + 10, y0 + 60, kx0 - 10, y1 - 60], _shade(shell, 0.7), radius=10)
    for k in range(8):
        y = y0 + 100 + k * 80
        pen.line([(br + 20, y), (kx0 - 20, y + 20)], trim, 5)
    pen.rect([x0 + 10, y0 - 30, x1 - 10, y0 + 10], trim, radius=10)
    return _finish(img)


def draw_xylophone(rng: np.random.Generator) -> Image.Image:
    img, pen = _new(rng)
    frame = _c(WOODS[int(rng.integers(len(WOODS)))], rng)
    rainbow = rng.random() < 0.4
    n = int(rng.integers(8, 15))
    x0, x1 = 120.0, 900.0
    bars_w = (x1 - x0) / n
    top_y, long_h, short_h = 420.0, 520.0, 260.0
    # rails
    rail = _shade(frame, 0.7)
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
                [x + bars_w * 0.25, top_y + h, x + bars_w * 0.75, top_y + h + 140 - k * 6], _c((170, 170, 175), rng, 6)
            )
        if rainbow:
            hue = k / n
            col = tuple(int(255 * (0.55 + 0.45 * math.cos(2 * math.pi * (hue + o)))) for o in (0, 1 / 3, 2 / 3))
        else:
            col = _c((150, 60, 35), rng, 25)
        pen.rect([x + 4, top_y + (long_h - h) * 0.1, x + bars_w - 4, top_y + h], col, radius=8)  # type: ignore[arg-type]
        for yy in (top_y + 70 + (long_h - h) * 0.08, top_y + h - 55):
            pen.ellipse([x + bars_w / 2 - 6, yy - 6, x + bars_w / 2 + 6, yy + 6], (220, 220, 220), outline=False)
    # two mallets across the bars
    for k in range(2):
        a = (230 + k * 230, top_y + 330 - k * 20)
        b = (470 + k * 260, top_y + 150 - k * 40)
        pen.line([a, b], _c((200, 170, 120), rng, 10), 12)
        pen.ellipse([b[0] - 32, b[1] - 32, b[0] + 32, b[1] + 32], _c((200, 40, 50), rng, 30))
    return _finish(img)


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
    skin = _c([(235, 200, 170), (200, 150, 110), (150, 100, 70), (95, 60, 40)][int(rng.integers(4))], rng, 10)
    cloth = tuple(int(v) for v in colour(rng))
    legs = tuple(int(v * 0.6) for v in colour(rng))
    hair = _c([(30, 20, 15), (90, 60, 30), (200, 170, 100), (120, 120, 120)][int(rng.integers(4))], rng, 10)
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
