"""Instrument pictures and the frames of a clip: a player-shaped silhouette holding a picture of
the instrument, on a random background, moving a little from frame to frame.

Picture sources, per instrument (a *group* is the unit split between train and val/test: the
plain and coloured versions of one clipart drawing are one group):

* Debian ``openclipart-svg`` (public domain), ``/usr/share/openclipart/svg/recreation/music``,
  rendered with ``rsvg-convert``: cello, violin, flute, acoustic guitar, saxophone, trumpet,
  xylophone drawings; the oboe drawing stands in for the clarinet (they look alike). The
  electric guitars, trumpet mutes and drums are not used.
* Debian ``fonts-noto-color-emoji`` (OFL-1.1), rendered with PIL at 109 px (the font's only
  size): accordion, saxophone, trumpet, violin, flute. The guitar emoji is an electric guitar
  and is not used for acoustic_guitar.
* :mod:`avsep.train.build.shapes`: four procedural variants of every instrument (the only
  source for erhu and tuba).

Distractors: the six ``people/silhouette_*`` figures of openclipart and procedural people,
filled with clothing and skin colours; a scene also gets wall/floor clutter (frames, music
stands) so the instrument is not the only object in view.
"""

from __future__ import annotations

import io
import math
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont

from avsep.errors import AvsepError
from avsep.train.build import shapes
from avsep.train.build.instruments import InstrumentSpec
from avsep.train.build.system import NOTO_EMOJI_SIZE, Toolchain

FRAME_SIZE = 224
_MARGIN = 8  # the scene is drawn larger; the camera shake picks the 224 x 224 window
_SPRITE_MAX = 360
PROCEDURAL_VARIANTS = 4

_MUSIC = "recreation/music/"
#: instrument -> groups of openclipart files (paths under the openclipart svg dir)
CLIPART: dict[str, list[list[str]]] = {
    "acoustic_guitar": [
        [_MUSIC + "guitar_ganson.svg"],
        [_MUSIC + "guitar_jarno_vasamaa1.svg"],
        [_MUSIC + "guitar_profile_philippe__01.svg"],
    ],
    "cello": [[_MUSIC + "cello_ganson.svg"], [_MUSIC + "cello_mo_01.svg", _MUSIC + "cello_mo_02.svg"]],
    "clarinet": [[_MUSIC + "oboe_ganson.svg"]],  # an oboe: the nearest drawing to a clarinet
    "flute": [[_MUSIC + "flute_ganson.svg"]],
    "saxophone": [[_MUSIC + "saxophone_jarno_vasamaa_.svg"]],
    "trumpet": [
        [_MUSIC + "trumpet_b_flat__ganson.svg", _MUSIC + "trumpet_b_flat_colour_ganso.svg"],
        [_MUSIC + "trumpet_pocket__ganson.svg", _MUSIC + "trumpet_pocket_colour_ganso.svg"],
        [_MUSIC + "trumpet_herald__ganson.svg"],
    ],
    "violin": [
        [_MUSIC + "violin_ganson.svg", _MUSIC + "violin_colour_ganson.svg"],
        [_MUSIC + "violin_mo_01.svg"],
    ],
    "xylophone": [[_MUSIC + "xylophone_ganson.svg"]],
}
EMOJI: dict[str, str] = {
    "accordion": "\U0001fa97",  # 🪗
    "saxophone": "\U0001f3b7",  # 🎷
    "trumpet": "\U0001f3ba",  # 🎺
    "violin": "\U0001f3bb",  # 🎻
    "flute": "\U0001fa88",  # 🪈
}
SILHOUETTES = [f"people/silhouette_{g}_{i}.svg" for g in ("male", "female") for i in (1, 2, 3)]

LICENCES = {
    "openclipart": "public domain (Open Clip Art Library, Debian package openclipart-svg)",
    "emoji": "SIL Open Font License 1.1 (Noto Color Emoji, Debian package fonts-noto-color-emoji)",
    "procedural": "drawn by avsep.train.build.shapes (same licence as avsep)",
}


@dataclass(frozen=True)
class PictureSource:
    key: str  # "openclipart:recreation/music/cello_ganson.svg", "emoji:U+1FA97", "procedural:erhu:2"
    kind: str  # openclipart | emoji | procedural
    ref: str  # svg path relative to the clipart dir | the emoji | the variant number


@dataclass(frozen=True)
class PictureGroup:
    id: str  # split unit
    sources: tuple[PictureSource, ...]

    @property
    def kind(self) -> str:
        return self.sources[0].kind


def catalogue(instruments: list[str], tools: Toolchain) -> dict[str, list[PictureGroup]]:
    """The picture groups available for each instrument on this machine."""
    out: dict[str, list[PictureGroup]] = {}
    for name in instruments:
        groups: list[PictureGroup] = []
        for files in CLIPART.get(name, []):
            srcs = tuple(
                PictureSource(f"openclipart:{f}", "openclipart", f) for f in files if (tools.openclipart_dir / f).is_file()
            )
            if srcs:
                groups.append(PictureGroup(srcs[0].key, srcs))
        if name in EMOJI and _emoji_sprite(EMOJI[name], str(tools.emoji_font)) is not None:
            ch = EMOJI[name]
            src = PictureSource(f"emoji:U+{ord(ch):X}", "emoji", ch)
            groups.append(PictureGroup(src.key, (src,)))
        for v in range(PROCEDURAL_VARIANTS):
            src = PictureSource(f"procedural:{name}:{v}", "procedural", str(v))
            groups.append(PictureGroup(src.key, (src,)))
        if len(groups) < 2:
            raise AvsepError(f"only {len(groups)} picture source for {name}; reinstall openclipart-svg")
        out[name] = groups
    return out


def split_groups(groups: list[PictureGroup], seed: int, name: str) -> dict[str, list[PictureGroup]]:
    """About a quarter of the groups (at least one) held out; val and test each get their own
    when two or more are held out, else they share the one. Train never sees a held-out group."""
    rng = np.random.default_rng([seed, 0x706963, sum(map(ord, name))])
    order = [groups[int(i)] for i in rng.permutation(len(groups))]
    held = max(1, int(round(0.25 * len(groups))))
    out_groups, train = order[:held], order[held:]
    if held >= 2:
        half = (held + 1) // 2
        return {"train": train, "val": out_groups[:half], "test": out_groups[half:]}
    return {"train": train, "val": out_groups, "test": out_groups}


# ---------------------------------------------------------------------------------------------
# sprites


def _crop(img: Image.Image) -> Image.Image:
    alpha = img.getchannel("A").point(lambda a: 255 if a > 8 else 0)
    box = alpha.getbbox()
    if box is None:
        raise AvsepError("a picture rendered empty; reinstall openclipart-svg / librsvg2-bin")
    img = img.crop(box)
    img.thumbnail((_SPRITE_MAX, _SPRITE_MAX), Image.Resampling.LANCZOS)
    return img


@lru_cache(maxsize=256)
def _svg_sprite(path: str, rsvg: str) -> Image.Image:
    try:
        res = subprocess.run(
            [rsvg, "-w", "1024", "-h", "1024", "-a", "-f", "png", path],
            capture_output=True,
            timeout=120,
        )
    except (OSError, subprocess.SubprocessError) as e:
        raise AvsepError(f"rsvg-convert failed on {path}: {e}; reinstall librsvg2-bin") from e
    if res.returncode != 0:
        raise AvsepError(f"rsvg-convert failed on {path}: {res.stderr.decode(errors='replace').strip()[:200]}")
    return _crop(Image.open(io.BytesIO(res.stdout)).convert("RGBA"))


@lru_cache(maxsize=64)
def _emoji_sprite(ch: str, font_path: str) -> Image.Image | None:
    try:
        font = ImageFont.truetype(font_path, NOTO_EMOJI_SIZE)
    except OSError:
        return None
    img = Image.new("RGBA", (200, 200), (0, 0, 0, 0))
    ImageDraw.Draw(img).text((20, 20), ch, font=font, embedded_color=True)
    a = np.asarray(img)
    if a[..., 3].max() == 0 or a[..., :3][a[..., 3] > 0].std() < 10:
        return None  # the font lacks the glyph (tofu or nothing)
    return _crop(img)


@lru_cache(maxsize=256)
def _procedural_sprite(name: str, variant: int) -> Image.Image:
    return _crop(shapes.draw(name, variant))


def load_sprite(src: PictureSource, instrument: str, tools: Toolchain) -> Image.Image:
    if src.kind == "openclipart":
        return _svg_sprite(str(tools.openclipart_dir / src.ref), tools.rsvg_convert)
    if src.kind == "emoji":
        img = _emoji_sprite(src.ref, str(tools.emoji_font))
        if img is None:
            raise AvsepError(f"the emoji font {tools.emoji_font} cannot draw {src.key}; reinstall fonts-noto-color-emoji")
        return img
    return _procedural_sprite(instrument, int(src.ref))


def load_person(rng: np.random.Generator, tools: Toolchain) -> Image.Image:
    """A people-shaped silhouette in clothing colours with a skin/hair-coloured head."""
    choices = [s for s in SILHOUETTES if (tools.openclipart_dir / s).is_file()]
    if choices and rng.random() < 0.5:
        mask = _svg_sprite(str(tools.openclipart_dir / choices[int(rng.integers(len(choices)))]), tools.rsvg_convert)
        alpha = np.asarray(mask.getchannel("A")).astype(np.float32) / 255
        # the drawings are outlines with a light fill: make every pixel inside solid
        h, w = alpha.shape
        rgb = np.empty((h, w, 3), np.float32)
        cloth = shapes.colour(rng)
        lower = shapes.colour(rng) * 0.6
        head = shapes._c([(235, 200, 170), (200, 150, 110), (150, 100, 70), (95, 60, 40)][int(rng.integers(4))], rng, 10)
        ys = np.arange(h)[:, None] / h
        rgb[ys[:, 0] < 0.52] = cloth
        rgb[ys[:, 0] >= 0.52] = lower
        rgb[ys[:, 0] < 0.13] = head
        shade = (0.85 + 0.3 * (np.arange(w)[None, :] / w))[..., None]
        rgb = np.clip(rgb * shade, 0, 255)
        img = Image.fromarray(np.dstack([rgb, np.where(alpha > 0.05, 255, 0)]).astype(np.uint8), "RGBA")
        return img
    return shapes.draw_person(rng)


# ---------------------------------------------------------------------------------------------
# backgrounds


def _lowfreq(rng: np.random.Generator, size: int, cells: int) -> np.ndarray:
    small = rng.uniform(0, 255, (cells, cells, 3)).astype(np.uint8)
    return np.asarray(Image.fromarray(small).resize((size, size), Image.Resampling.BICUBIC), np.float32)


def background(rng: np.random.Generator, size: int) -> tuple[Image.Image, str]:
    kind = ["gradient", "radial", "noise", "room", "field"][int(rng.integers(5))]
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    c0 = shapes.colour(rng)
    c1 = shapes.colour(rng)
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
        col = tuple(int(v) for v in shapes.colour(rng))
        x, y = rng.uniform(-0.1, 0.9, 2) * size
        if what < 0.45:  # a picture frame / window / poster
            w, h = rng.uniform(0.1, 0.35, 2) * size
            edge = tuple(int(v) for v in shapes.colour(rng))
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


# ---------------------------------------------------------------------------------------------
# a clip's scene


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


class Scene:
    """The fixed composition of one clip; :meth:`frame` adds per-frame motion and noise."""

    def __init__(
        self,
        sprite: Image.Image,
        spec: InstrumentSpec,
        rng: np.random.Generator,
        tools: Toolchain,
    ) -> None:
        self.rng = rng
        size = FRAME_SIZE + 2 * _MARGIN
        self.size = size
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
        # the instrument: size relative to the player, on its anchor point
        long_side = float(np.clip(spec.relative_size * ph * rng.uniform(0.8, 1.25), 55, 215))
        inst = _jitter_colours(sprite, rng)
        if rng.random() < 0.5:
            inst = inst.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        self.inst = _scaled(inst, long_side)
        self.angle = rng.uniform(-30, 30)
        if player:
            ax, ay = spec.anchor
            cx = px + (ax * ph if rng.random() < 0.5 else -ax * ph) + rng.normal(0, 0.05) * ph
            cy = py + ay * ph + rng.normal(0, 0.05) * ph
        else:
            cx, cy = rng.uniform(0.35, 0.65, 2) * size
        self.inst_centre = (
            float(np.clip(cx, 0.22 * size, 0.78 * size)),
            float(np.clip(cy, 0.22 * size, 0.8 * size)),
        )
        self.inst_motion = self._motion(3.0)
        self.rot_amp = rng.uniform(0, 3.0)
        self.rot_f = rng.uniform(0.1, 0.6)
        self.rot_ph = rng.uniform(0, 2 * math.pi)
        self.shake = rng.uniform(0, 2.5)
        self.brightness = rng.uniform(0.8, 1.2)
        self.contrast = rng.uniform(0.85, 1.15)
        self.blur = rng.uniform(0.3, 1.2) if rng.random() < 0.3 else 0.0
        self.grain = rng.uniform(0, 6)
        self.quality = int(rng.integers(70, 96))
        self.recipe = {
            "background": self.bg_kind,
            "player": bool(player),
            "bystander": len(self.people) - int(player) > 0,
            "instrument_px": round(long_side),
            "jpeg_quality": self.quality,
        }

    def _motion(self, amp: float) -> tuple[float, float, float]:
        return (self.rng.uniform(0, amp), self.rng.uniform(0.08, 0.5), self.rng.uniform(0, 2 * math.pi))

    def frame(self, t: float) -> Image.Image:
        """The frame at ``t`` seconds (the frame's randomness comes from the scene's rng)."""
        rng = self.rng
        img = self.bg.copy()

        def off(m: tuple[float, float, float], phase: float = 0.0) -> tuple[float, float]:
            a, f, ph = m
            return a * math.sin(2 * math.pi * f * t + ph), 0.5 * a * math.sin(2 * math.pi * f * t + ph + phase)

        for im, (x, y), m in self.people:
            dx, dy = off(m, 1.3)
            img.paste(im, (int(round(x + dx)), int(round(y + dy))), im)
        ang = self.angle + self.rot_amp * math.sin(2 * math.pi * self.rot_f * t + self.rot_ph)
        inst = self.inst.rotate(ang, resample=Image.Resampling.BICUBIC, expand=True)
        dx, dy = off(self.inst_motion, 0.7)
        cx, cy = self.inst_centre
        img.paste(inst, (int(round(cx + dx - inst.width / 2)), int(round(cy + dy - inst.height / 2))), inst)
        sx, sy = (rng.uniform(-1, 1, 2) * self.shake).round().astype(int)
        img = img.crop((_MARGIN + sx, _MARGIN + sy, _MARGIN + sx + FRAME_SIZE, _MARGIN + sy + FRAME_SIZE))
        if self.blur:
            img = img.filter(ImageFilter.GaussianBlur(self.blur))
        img = ImageEnhance.Brightness(img).enhance(self.brightness * rng.uniform(0.98, 1.02))
        img = ImageEnhance.Contrast(img).enhance(self.contrast)
        if self.grain > 0.5:
            a = np.asarray(img).astype(np.float32) + rng.normal(0, self.grain, (FRAME_SIZE, FRAME_SIZE, 1))
            img = Image.fromarray(np.clip(a, 0, 255).astype(np.uint8), "RGB")
        return img


def write_frames(scene: Scene, folder: Path, n_frames: int, fps: int) -> None:
    """``000001.jpg`` .. : frame ``i`` (1-based) covers ``[(i - 1) / fps, i / fps)`` and is drawn
    at its centre, the Sound of Pixels convention the index reader uses."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n_frames):
        scene.frame((i + 0.5) / fps).save(folder / f"{i + 1:06d}.jpg", "JPEG", quality=scene.quality)
