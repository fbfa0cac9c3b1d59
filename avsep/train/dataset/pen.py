"""The drawing kit of the procedural instruments (:mod:`avsep.train.dataset.shapes`,
:mod:`avsep.train.dataset.winds`): a 1024 x 1024 canvas drawn at 2x and downsampled, a
:class:`Pen` with outlined shapes, jittered palettes (woods, brass, silver), arcs and the outline
of a bowed body."""

from __future__ import annotations

import colorsys
import math
from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw

S = 1024  # drawing size; downsampled 2x


RGB = tuple[int, int, int]


def tint(rgb: Sequence[float], rng: np.random.Generator, amount: float = 18) -> RGB:
    return tuple(int(np.clip(v + rng.normal(0, amount), 0, 255)) for v in rgb)  # type: ignore[return-value]


def colour(rng: np.random.Generator) -> np.ndarray:
    """A random RGB colour, mostly muted (real rooms and clothes are rarely saturated)."""
    h = rng.random()
    sat = rng.uniform(0.0, 0.45) if rng.random() < 0.7 else rng.uniform(0.45, 1.0)
    val = rng.uniform(0.12, 0.95)
    return np.array(colorsys.hsv_to_rgb(h, sat, val)) * 255


def shade(rgb: RGB, k: float) -> RGB:
    """k < 1 darker, k > 1 lighter."""
    if k <= 1:
        return tuple(int(v * k) for v in rgb)  # type: ignore[return-value]
    return tuple(int(v + (255 - v) * (k - 1)) for v in rgb)  # type: ignore[return-value]


WOODS: list[RGB] = [(150, 80, 30), (175, 100, 40), (120, 55, 25), (200, 130, 60), (95, 45, 20), (185, 85, 35)]


BRASS: list[RGB] = [(218, 170, 60), (200, 150, 40), (230, 190, 90), (190, 140, 55)]


SILVER: list[RGB] = [(200, 200, 205), (180, 182, 190), (215, 212, 205)]


def box_of(b: Sequence[float]) -> list[float]:
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
            box_of(box), fill=fill, outline=self.outline if outline else None, width=self.width if outline else 0
        )

    def rect(self, box: Sequence[float], fill: RGB, outline: bool = True, radius: float = 0) -> None:
        self.d.rounded_rectangle(
            box_of(box),
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


def new_canvas(rng: np.random.Generator) -> tuple[Image.Image, Pen]:
    img = Image.new("RGBA", (S, S), (0, 0, 0, 0))
    style = rng.random()
    if style < 0.45:
        outline: RGB | None = (20, 16, 14)
    elif style < 0.7:
        outline = tint((60, 40, 30), rng, 20)
    else:
        outline = None
    return img, Pen(img, outline, int(rng.integers(4, 11)))


def finish(img: Image.Image) -> Image.Image:
    img = img.resize((S // 2, S // 2), Image.Resampling.LANCZOS)
    box = img.getbbox()
    return img.crop(box) if box else img


def arc_points(cx: float, cy: float, rx: float, ry: float, a0: float, a1: float, n: int = 40) -> np.ndarray:
    a = np.linspace(math.radians(a0), math.radians(a1), n)
    return np.stack([cx + rx * np.cos(a), cy + ry * np.sin(a)], axis=1)


def profile_outline(
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


def draw_bow(pen: Pen, rng: np.random.Generator, p0: tuple[float, float], p1: tuple[float, float]) -> None:
    stick = tint((70, 35, 20), rng, 15)
    hair = tint((235, 230, 215), rng, 8)
    pen.line([p0, p1], stick, 9)
    dx, dy = p1[0] - p0[0], p1[1] - p0[1]
    n = math.hypot(dx, dy)
    ox, oy = -dy / n * 16, dx / n * 16
    pen.line([(p0[0] + ox, p0[1] + oy), (p1[0] + ox, p1[1] + oy)], hair, 6)
    pen.rect([p0[0] - 12 + ox / 2, p0[1] - 12 + oy / 2, p0[0] + 12 + ox / 2, p0[1] + 12 + oy / 2], (25, 20, 20))
