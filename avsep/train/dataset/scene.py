"""The frames of a clip, made to look like the frames of a real video.

A clip's frames (:class:`Scene`) are either a *tight crop* of a photo (a real box is tight
around a player; the camera pans and zooms a little) or a *composite*: the sprite
(:mod:`avsep.train.dataset.pictures`) held by a player-shaped silhouette on a random background
with bystanders and clutter. Every frame then goes through what a video does to a picture
(:class:`Degradation`): focus and motion blur, low resolution, colour casts and chroma fringes,
stage light, and JPEG or H.264-like block compression."""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from avsep.train.dataset.instruments import InstrumentSpec
from avsep.train.dataset.pen import colour
from avsep.train.dataset.pictures import FRAME_SIZE, load_person
from avsep.train.dataset.system import Toolchain

_MARGIN = 8  # the scene is drawn larger; the camera shake picks the 224 x 224 window


def _lowfreq(rng: np.random.Generator, size: int, cells: int) -> np.ndarray:
    small = rng.uniform(0, 255, (cells, cells, 3)).astype(np.uint8)
    return np.asarray(Image.fromarray(small).resize((size, size), Image.Resampling.BICUBIC), np.float32)


def background(rng: np.random.Generator, size: int) -> tuple[Image.Image, str]:
    kind = ["gradient", "radial", "noise", "room", "field"][int(rng.integers(5))]
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    c0 = colour(rng)
    c1 = colour(rng)
    if kind == "gradient":
        a = rng.uniform(0, 2 * math.pi)
        t = (xx - 0.5) * math.cos(a) + (yy - 0.5) * math.sin(a) + 0.5
        img = c0 * (1 - t[..., None]) + c1 * t[..., None]
    elif kind == "radial":
        cx, cy = rng.uniform(0.2, 0.8, 2)
        r = np.sqrt((xx - cx) ** 2 + (yy - cy) ** 2) / rng.uniform(0.3, 0.8)
        dark = c0 * rng.uniform(0.05, 0.35)
        img = dark + (c1 - dark) * np.clip(1 - r, 0, 1)[..., None] ** 1.5
    elif kind == "noise":
        img = rng.uniform(0.2, 0.6) * _lowfreq(rng, size, int(rng.integers(3, 9))) + 0.6 * c0
    elif kind == "room":
        horizon = rng.uniform(0.55, 0.85)
        wall = c0 * (0.85 + 0.3 * yy[..., None])
        floor = c1 * (0.6 + 0.5 * (yy[..., None] - horizon))
        img = np.where(yy[..., None] < horizon, wall, floor)
        if rng.random() < 0.5:  # floorboards
            boards = (np.floor(xx * rng.uniform(6, 16)) % 2)[..., None] * 18
            img = np.where(yy[..., None] < horizon, img, img - boards)
    else:
        img = np.broadcast_to(c0, (size, size, 3)).astype(np.float32)
    img = img + rng.normal(0, rng.uniform(0, 8), (size, size, 1))
    pil = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8), "RGB")
    _clutter(pil, rng)
    return pil, kind


def _clutter(img: Image.Image, rng: np.random.Generator) -> None:
    d = ImageDraw.Draw(img)
    size = img.width
    for _ in range(int(rng.integers(0, 4))):
        what = rng.random()
        col = tuple(int(v) for v in colour(rng))
        x, y = rng.uniform(-0.1, 0.9, 2) * size
        if what < 0.45:  # a picture frame / window / poster
            w, h = rng.uniform(0.1, 0.35, 2) * size
            edge = tuple(int(v) for v in colour(rng))
            d.rectangle([x, y, x + w, y + h], fill=col, outline=edge, width=int(rng.integers(1, 5)))
        elif what < 0.7:  # a music stand
            h = rng.uniform(0.3, 0.6) * size
            d.line([(x, y), (x, y + h)], fill=(40, 40, 40), width=3)
            d.polygon([(x - 25, y - 5), (x + 25, y - 12), (x + 28, y + 22), (x - 22, y + 28)], fill=col)
        elif what < 0.85:  # a lamp / blob of light
            r = rng.uniform(0.03, 0.12) * size
            d.ellipse([x - r, y - r, x + r, y + r], fill=col)
        else:  # a chair back
            w = rng.uniform(0.1, 0.2) * size
            d.rectangle([x, y, x + w, y + w * 1.6], outline=col, width=int(rng.integers(3, 7)))


def _jitter_colours(img: Image.Image, rng: np.random.Generator) -> Image.Image:
    a = np.asarray(img).astype(np.float32)
    rgb, alpha = a[..., :3], a[..., 3:]
    hsv = np.asarray(Image.fromarray(rgb.astype(np.uint8), "RGB").convert("HSV")).astype(np.float32)
    hsv[..., 0] = (hsv[..., 0] + rng.uniform(-10, 10)) % 256
    hsv[..., 1] = np.clip(hsv[..., 1] * rng.uniform(0.7, 1.3), 0, 255)
    hsv[..., 2] = np.clip(hsv[..., 2] * rng.uniform(0.75, 1.15), 0, 255)
    out = np.asarray(Image.fromarray(hsv.astype(np.uint8), "HSV").convert("RGB")).astype(np.float32)
    out = (out - 128) * rng.uniform(0.85, 1.2) + 128
    return Image.fromarray(np.dstack([np.clip(out, 0, 255), alpha]).astype(np.uint8), "RGBA")


def _scaled(img: Image.Image, long_side: float) -> Image.Image:
    k = long_side / max(img.size)
    return img.resize((max(1, round(img.width * k)), max(1, round(img.height * k))), Image.Resampling.LANCZOS)


class Degradation:
    """What a video camera and codec do to a picture, drawn once per clip (``rng``) and varied
    a little per frame: focus or motion blur, a low capture resolution, a colour cast, chroma
    fringes, stage light (a coloured spot and vignette), sensor grain, and block compression
    (JPEG, or an H.264-like 4:2:0 chroma subsampling plus blocky quantisation)."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.blur = rng.uniform(0.3, 1.6) if rng.random() < 0.4 else 0.0
        self.motion = int(rng.integers(3, 9)) if rng.random() < 0.15 else 0
        self.low_res = int(rng.integers(56, 160)) if rng.random() < 0.35 else 0
        self.cast = rng.uniform(0.8, 1.2, 3) if rng.random() < 0.6 else np.ones(3)
        self.fringe = int(rng.integers(1, 3)) if rng.random() < 0.25 else 0
        self.stage = (
            (rng.uniform(0.2, 0.8, 2), rng.uniform(0.3, 0.7), colour(rng) / 255.0) if rng.random() < 0.3 else None
        )
        self.brightness = rng.uniform(0.7, 1.25)
        self.contrast = rng.uniform(0.8, 1.25)
        self.grain = rng.uniform(0, 7)
        self.quality = int(rng.integers(25, 92))
        self.subsample = rng.random() < 0.5
        self.recipe = {
            "blur": round(self.blur, 2),
            "motion_blur_px": self.motion,
            "low_res_px": self.low_res,
            "colour_cast": [round(float(c), 3) for c in self.cast],
            "chroma_fringe_px": self.fringe,
            "stage_light": self.stage is not None,
            "jpeg_quality": self.quality,
            "chroma_subsampling": self.subsample,
        }

    def __call__(self, img: Image.Image, rng: np.random.Generator) -> Image.Image:
        size = img.size
        if self.low_res:
            img = img.resize((self.low_res, self.low_res), Image.Resampling.BILINEAR).resize(
                size, Image.Resampling.BICUBIC
            )
        if self.blur:
            img = img.filter(ImageFilter.GaussianBlur(self.blur * rng.uniform(0.8, 1.2)))
        a = np.asarray(img).astype(np.float32)
        if self.motion:
            k = self.motion
            a = sum(np.roll(a, i - k // 2, axis=1) for i in range(k)) / k
        a = a * self.cast * self.brightness * rng.uniform(0.97, 1.03)
        a = (a - a.mean()) * self.contrast + a.mean()
        if self.stage is not None:
            (cx, cy), radius, colour = self.stage
            yy, xx = np.mgrid[0 : size[1], 0 : size[0]] / np.array(size[::-1]).reshape(2, 1, 1)[::-1]
            r = np.sqrt((xx - cx) ** 2 + (yy - cy) ** 2) / radius
            light = np.clip(1.25 - r, 0.25, 1.25)[..., None]
            a = a * light * (0.6 + 0.6 * colour)
        if self.fringe:
            a[..., 0] = np.roll(a[..., 0], self.fringe, axis=1)
            a[..., 2] = np.roll(a[..., 2], -self.fringe, axis=1)
        if self.grain > 0.5:
            a = a + rng.normal(0, self.grain, (size[1], size[0], 1))
        img = Image.fromarray(np.clip(a, 0, 255).astype(np.uint8), "RGB")
        if self.subsample:  # the 4:2:0 chroma of a video stream
            ycc = img.convert("YCbCr")
            y, cb, cr = ycc.split()
            half = (size[0] // 2, size[1] // 2)
            cb, cr = (
                c.resize(half, Image.Resampling.BILINEAR).resize(size, Image.Resampling.BILINEAR) for c in (cb, cr)
            )
            img = Image.merge("YCbCr", (y, cb, cr)).convert("RGB")
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=self.quality)
        buf.seek(0)
        return Image.open(buf).convert("RGB")


class Scene:
    """The fixed composition of one clip; :meth:`frame` adds per-frame motion and noise.

    ``photo`` (a photograph's file) may make the clip a *tight crop*: the frame is the photo
    itself, zoomed and panned a little (a real box is tight around its player); otherwise the
    sprite is composited with a player, bystanders and clutter.
    """

    def __init__(
        self,
        sprite: Image.Image,
        spec: InstrumentSpec,
        rng: np.random.Generator,
        tools: Toolchain,
        photo: str | None = None,
        tight_share: float = 0.5,
    ) -> None:
        self.rng = rng
        size = FRAME_SIZE + 2 * _MARGIN
        self.size = size
        self.tight: Image.Image | None = None
        self.degrade = Degradation(rng)
        self.quality = 95  # the degradation compresses; the file keeps what it left
        if photo is not None and rng.random() < tight_share:
            self._tight(photo, rng)
            return
        self.bg, self.bg_kind = background(rng, size)
        self.people: list[tuple[Image.Image, tuple[float, float], tuple[float, float, float]]] = []
        player = rng.random() < 0.88
        ph = rng.uniform(0.7, 1.4) * FRAME_SIZE
        px = rng.uniform(0.3, 0.7) * size
        py = rng.uniform(-0.05, 0.2) * size  # top of the head
        if rng.random() < 0.3:  # a bystander, further back
            other = load_person(rng, tools)
            oh = rng.uniform(0.5, 0.9) * ph
            other = _scaled(other, oh)
            ox = (rng.uniform(0.0, 0.2) if px > size / 2 else rng.uniform(0.65, 0.85)) * size
            self.people.append((other, (ox - other.width / 2, py + rng.uniform(0, 0.2) * size), self._motion(1.5)))
        if player:
            body = _scaled(load_person(rng, tools), ph)
            self.people.append((body, (px - body.width / 2, py), self._motion(2.0)))
        # the instrument: size relative to the player, on its anchor point; a photo (an
        # opaque rectangle, or a cut-out product shot) is shown larger, as a close-up
        scale = (1.6, 2.6) if photo is not None else (0.8, 1.25)
        long_side = float(np.clip(spec.relative_size * ph * rng.uniform(*scale), 55, 215))
        inst = _jitter_colours(sprite, rng)
        if rng.random() < 0.5:
            inst = inst.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        self.inst = _scaled(inst, long_side)
        self.angle = rng.uniform(-30, 30) if photo is None else rng.uniform(-10, 10)
        if player:
            ax, ay = spec.anchor
            cx = px + (ax * ph if rng.random() < 0.5 else -ax * ph) + rng.normal(0, 0.05) * ph
            cy = py + ay * ph + rng.normal(0, 0.05) * ph
        else:
            cx, cy = rng.uniform(0.35, 0.65, 2) * size
        self.inst_centre = (float(np.clip(cx, 0.22 * size, 0.78 * size)), float(np.clip(cy, 0.22 * size, 0.8 * size)))
        self.inst_motion = self._motion(3.0)
        self.rot_amp = rng.uniform(0, 3.0)
        self.rot_f = rng.uniform(0.1, 0.6)
        self.rot_ph = rng.uniform(0, 2 * math.pi)
        self.shake = rng.uniform(0, 2.5)
        self.recipe = {
            "mode": "composite",
            "background": self.bg_kind,
            "player": bool(player),
            "bystander": len(self.people) - int(player) > 0,
            "instrument_px": round(long_side),
            "video": self.degrade.recipe,
        }

    def _tight(self, photo: str, rng: np.random.Generator) -> None:
        with Image.open(photo) as im:
            img = _jitter_colours(im.convert("RGBA"), rng).convert("RGB")
        if rng.random() < 0.5:
            img = img.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        self.tight = img
        self.zoom = rng.uniform(0.7, 1.0)  # the share of the photo's short side in view
        self.pan = self._motion(0.04)
        self.zoom_motion = self._motion(0.03)
        self.recipe = {"mode": "tight", "zoom": round(self.zoom, 3), "video": self.degrade.recipe}

    def _motion(self, amp: float) -> tuple[float, float, float]:
        return (self.rng.uniform(0, amp), self.rng.uniform(0.08, 0.5), self.rng.uniform(0, 2 * math.pi))

    def frame(self, t: float) -> Image.Image:
        """The frame at ``t`` seconds (the frame's randomness comes from the scene's rng)."""
        img = self._tight_frame(t) if self.tight is not None else self._composite_frame(t)
        return self.degrade(img, self.rng)

    @staticmethod
    def _off(m: tuple[float, float, float], t: float, phase: float = 0.0) -> tuple[float, float]:
        a, f, ph = m
        return a * math.sin(2 * math.pi * f * t + ph), 0.5 * a * math.sin(2 * math.pi * f * t + ph + phase)

    def _tight_frame(self, t: float) -> Image.Image:
        assert self.tight is not None
        w, h = self.tight.size
        side = min(w, h) * min(1.0, self.zoom + self._off(self.zoom_motion, t)[0])
        dx, dy = self._off(self.pan, t, 0.9)
        cx = float(np.clip(w / 2 + dx * w, side / 2, w - side / 2))
        cy = float(np.clip(h / 2 + dy * h, side / 2, h - side / 2))
        box = (cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2)
        return self.tight.resize((FRAME_SIZE, FRAME_SIZE), Image.Resampling.LANCZOS, box=box)

    def _composite_frame(self, t: float) -> Image.Image:
        rng = self.rng
        img = self.bg.copy()
        for im, (x, y), m in self.people:
            dx, dy = self._off(m, t, 1.3)
            img.paste(im, (int(round(x + dx)), int(round(y + dy))), im)
        ang = self.angle + self.rot_amp * math.sin(2 * math.pi * self.rot_f * t + self.rot_ph)
        inst = self.inst.rotate(ang, resample=Image.Resampling.BICUBIC, expand=True)
        dx, dy = self._off(self.inst_motion, t, 0.7)
        cx, cy = self.inst_centre
        img.paste(inst, (int(round(cx + dx - inst.width / 2)), int(round(cy + dy - inst.height / 2))), inst)
        sx, sy = (rng.uniform(-1, 1, 2) * self.shake).round().astype(int)
        return img.crop((_MARGIN + sx, _MARGIN + sy, _MARGIN + sx + FRAME_SIZE, _MARGIN + sy + FRAME_SIZE))


def write_frames(scene: Scene, folder: Path, n_frames: int, fps: int) -> None:
    """``000001.jpg`` .. : frame ``i`` (1-based) covers ``[(i - 1) / fps, i / fps)`` and is drawn
    at its centre, the Sound of Pixels convention the index reader uses."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n_frames):
        scene.frame((i + 0.5) / fps).save(folder / f"{i + 1:06d}.jpg", "JPEG", quality=scene.quality)
