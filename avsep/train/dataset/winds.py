"""The procedural wind instruments (clarinet, flute, saxophone, trumpet, tuba), drawn with the
kit of :mod:`avsep.train.dataset.pen` as :mod:`avsep.train.dataset.shapes` draws the rest: one
instrument in flat colours on a transparent canvas, its palette, proportions and details fixed by
the variant's seed."""

from __future__ import annotations

import math

import numpy as np
from PIL import Image

from avsep.train.dataset.pen import BRASS, SILVER, S, arc_points, finish, new_canvas, shade, tint


def draw_clarinet(rng: np.random.Generator) -> Image.Image:
    img, pen = new_canvas(rng)
    body = tint([(25, 22, 22), (45, 30, 25), (15, 15, 18), (60, 40, 30)][int(rng.integers(4))], rng, 6)
    metal = tint(SILVER[int(rng.integers(len(SILVER)))], rng, 8)
    cx = S / 2
    w = rng.uniform(44, 56)
    pen.poly([(cx - 12, 20), (cx + 12, 20), (cx + w / 2 - 6, 110), (cx - w / 2 + 6, 110)], (20, 20, 20))
    pen.rect([cx - w / 2 - 2, 105, cx + w / 2 + 2, 130], metal)  # ligature
    pen.rect([cx - w / 2 - 4, 130, cx + w / 2 + 4, 200], body, radius=10)  # barrel
    pen.rect([cx - w / 2, 200, cx + w / 2, 820], body)
    bell_w = w * rng.uniform(2.2, 2.8)
    pen.poly([(cx - w / 2, 800), (cx + w / 2, 800), (cx + bell_w / 2, 980), (cx - bell_w / 2, 980)], body)
    pen.ellipse([cx - bell_w / 2, 960, cx + bell_w / 2, 1000], shade(body, 1.3))
    for y in (200, 500, 800):
        pen.rect([cx - w / 2 - 5, y - 8, cx + w / 2 + 5, y + 8], metal)
    if rng.random() < 0.6:
        pen.rect([cx - w / 2 + 6, 210, cx - w / 2 + 14, 790], shade(body, 1.6), outline=False)
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
    return finish(img)


def draw_flute(rng: np.random.Generator) -> Image.Image:
    """A transverse flute, drawn diagonally (it is rotated again when composited)."""
    img, pen = new_canvas(rng)
    metal = tint(
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
    hi = shade(metal, 1.35)
    off = np.array([-math.sin(angle), math.cos(angle)]) * (-w * 0.22)
    pen.line([tuple(p) for p in pts[1:-1] + off], hi, w * 0.18)
    d = np.array([math.cos(angle), math.sin(angle)])
    # crown, embouchure plate, joints, keys
    pen.ellipse([*(pts[0] - w * 0.7), *(pts[0] + w * 0.7)], shade(metal, 0.85))
    ep = pts[0] + d * 110
    pen.ellipse([ep[0] - w * 0.9, ep[1] - w * 0.6, ep[0] + w * 0.9, ep[1] + w * 0.6], shade(metal, 1.1))
    pen.ellipse([ep[0] - 10, ep[1] - 6, ep[0] + 10, ep[1] + 6], (20, 20, 20), outline=False)
    for t in (0.28, 0.78):
        p = pts[0] + d * L * t
        pen.ellipse([p[0] - w * 0.6, p[1] - w * 0.6, p[0] + w * 0.6, p[1] + w * 0.6], shade(metal, 0.9))
    for t in np.linspace(0.36, 0.92, 13):
        p = pts[0] + d * L * t
        r = w * 0.42
        pen.ellipse([p[0] - r, p[1] - r, p[0] + r, p[1] + r], shade(metal, 1.15))
        if rng.random() < 0.5:
            pen.ellipse([p[0] - r / 3, p[1] - r / 3, p[0] + r / 3, p[1] + r / 3], (25, 25, 25), outline=False)
    return finish(img)


def draw_saxophone(rng: np.random.Generator) -> Image.Image:
    img, pen = new_canvas(rng)
    brass = tint(BRASS[int(rng.integers(len(BRASS)))] if rng.random() < 0.85 else SILVER[0], rng, 12)
    cx = 440.0
    # body: straight conical tube, U-bend, bell rising to the right
    body = np.array([[cx, 240 + t * 560] for t in np.linspace(0, 1, 20)])
    wb = np.linspace(56, 100, 20)
    bell = np.array([[cx + 190 + t * 30, 800 - t * 330] for t in np.linspace(0, 1, 16)])
    arc = arc_points(cx + 95, 800, 95, 130, 180, 360, 30)
    arc[:, 1] = 1600 - arc[:, 1]  # mirrored about y = 800: the bow hangs below the body
    pts = np.concatenate([body, arc[1:], bell[1:]])
    widths = np.concatenate([wb, np.linspace(100, 115, len(arc) - 1), np.linspace(115, 175, len(bell) - 1)])
    pen.tube(pts, widths, brass)
    top = bell[-1]
    pen.ellipse([top[0] - 100, top[1] - 30, top[0] + 100, top[1] + 30], shade(brass, 0.55))
    pen.ellipse([top[0] - 80, top[1] - 20, top[0] + 80, top[1] + 20], shade(brass, 0.35), outline=False)
    # neck and mouthpiece
    neck = np.array([[cx, 245], [cx - 20, 180], [cx - 60, 130], [cx - 120, 105], [cx - 180, 100]])
    pen.tube(neck, np.linspace(50, 26, len(neck)), brass)
    pen.tube(np.array([[cx - 175, 100], [cx - 260, 100]]), np.array([28, 18]), (25, 25, 25))
    # keys: pearl touches on the body
    pearl = tint((240, 232, 215), rng, 8)
    for k, y in enumerate(np.linspace(300, 720, 9)):
        r = 18 + k * 1.5
        x = cx - 10 + (k % 2) * 16
        pen.ellipse([x - r, y - r, x + r, y + r], shade(brass, 0.8))
        pen.ellipse([x - r * 0.55, y - r * 0.55, x + r * 0.55, y + r * 0.55], pearl, outline=False)
    pen.line([(cx - 45, 290), (cx - 45, 760)], shade(brass, 0.7), 7)
    if rng.random() < 0.6:
        pen.line([(cx + 22, 260), (cx + 40, 780)], shade(brass, 1.4), 10)
    return finish(img)


def draw_trumpet(rng: np.random.Generator) -> Image.Image:
    img, pen = new_canvas(rng)
    brass = tint(BRASS[int(rng.integers(len(BRASS)))] if rng.random() < 0.75 else SILVER[int(rng.integers(3))], rng, 12)
    y = 420.0
    # leadpipe from the mouthpiece to the valves, then the bell section
    pen.tube(np.array([[60, y], [140, y]]), np.array([18, 28]), shade(brass, 0.9))
    pen.tube(np.array([[130, y], [430, y]]), np.array([26, 26]), brass)
    bell = np.array([[600 + t * 360, y] for t in np.linspace(0, 1, 24)])
    wbell = 30 + 220 * np.linspace(0, 1, 24) ** 3.2
    pen.tube(np.array([[420, y + 150], [620, y + 150]]), np.array([26, 26]), brass)
    pen.tube(bell, wbell, brass)
    pen.ellipse([945, y - 125, 985, y + 125], shade(brass, 0.6))
    # tuning slide loop
    loop = np.concatenate(
        [
            np.array([[420, y], [300, y]]),
            arc_points(300, y + 75, 75, 75, 270, 90, 20),
            np.array([[300, y + 150], [420, y + 150]]),
        ]
    )
    pen.tube(loop, np.full(len(loop), 26), brass)
    loop2 = np.concatenate(
        [np.array([[620, y + 150]]), arc_points(620, y + 75, 75, 75, 90, -90, 20)[1:], np.array([[640, y]])]
    )
    pen.tube(loop2, np.full(len(loop2), 26), brass)
    # three valves with finger buttons
    for k in range(3):
        x = 450 + k * 58
        pen.rect([x - 24, y - 120, x + 24, y + 200], shade(brass, 1.1), radius=10)
        pen.rect([x - 28, y - 140, x + 28, y - 115], shade(brass, 0.8), radius=6)
        pen.rect([x - 6, y - 190, x + 6, y - 140], (200, 200, 200))
        pen.ellipse([x - 22, y - 212, x + 22, y - 184], tint((240, 235, 220), rng, 6))
    return finish(img)


def draw_tuba(rng: np.random.Generator) -> Image.Image:
    img, pen = new_canvas(rng)
    brass = tint(BRASS[int(rng.integers(len(BRASS)))] if rng.random() < 0.7 else SILVER[int(rng.integers(3))], rng, 12)
    cx, cy = 500.0, 600.0
    # the large oval coil
    coil = arc_points(cx, cy, 210, 300, 0, 360, 60)
    pen.tube(coil, np.full(len(coil), 60), brass)
    # bell: rising at the top right, flaring to a wide rim
    bell = np.array([[cx + 170 + t * 10, 560 - t * 500] for t in np.linspace(0, 1, 24)])
    wbell = 70 + 330 * np.linspace(0, 1, 24) ** 2.6
    pen.tube(bell, wbell, brass)
    top = bell[-1]
    pen.ellipse([top[0] - 200, top[1] - 45, top[0] + 200, top[1] + 45], shade(brass, 0.5))
    pen.ellipse([top[0] - 170, top[1] - 30, top[0] + 170, top[1] + 30], shade(brass, 0.3), outline=False)
    # bottom bow
    bow = arc_points(cx, 860, 170, 90, 0, 180, 30)
    pen.tube(bow, np.full(len(bow), 80), shade(brass, 0.95))
    # valves
    for k in range(4):
        x = cx - 120 + k * 52
        pen.rect([x - 22, cy - 130, x + 22, cy + 130], shade(brass, 1.12), radius=10)
        pen.rect([x - 6, cy - 175, x + 6, cy - 130], (200, 200, 200))
        pen.ellipse([x - 20, cy - 195, x + 20, cy - 170], tint((235, 230, 215), rng, 6))
    # leadpipe and mouthpiece sticking out to the left
    lead = np.array([[cx - 150, cy - 60], [cx - 260, cy - 150], [cx - 330, cy - 190]])
    pen.tube(lead, np.array([30, 24, 20]), brass)
    pen.tube(np.array([[cx - 330, cy - 190], [cx - 380, cy - 215]]), np.array([22, 34]), shade(brass, 0.8))
    if rng.random() < 0.6:
        hl = arc_points(cx, cy, 190, 280, 200, 250, 12)
        pen.line([tuple(p) for p in hl], shade(brass, 1.5), 12)
    return finish(img)
