"""Instrument pictures: the registry of picture sources, their split, and the sprites they give.

Picture sources form a registry (:data:`PICTURE_KINDS`); each kind has a name, a licence, a
split unit (the *group*: what is dealt whole to train, val or test) and a way to make the
instrument's picture (a *sprite*, RGBA). A class with photographs uses only photographs; the
drawn kinds serve the classes no photo shows (cello and erhu in ``shared/datasets``):

* ``photo`` (:class:`PhotoKind`): photographs from ``avsep data build --photos DIR`` (any
  ``<class>/<files>`` tree). A product shot on a white ground is cut out (the white that
  touches the border becomes transparent); any other photo stays a rectangle. Split by file.
* ``openclipart`` (public domain), Debian ``openclipart-svg``,
  ``/usr/share/openclipart/svg/recreation/music``, rendered with ``rsvg-convert``: cello,
  violin, flute, acoustic guitar, saxophone, trumpet, xylophone drawings; the oboe drawing
  stands in for the clarinet. Split by drawing (plain and coloured versions together).
* ``emoji``: Debian ``fonts-noto-color-emoji`` (OFL-1.1) at 109 px: accordion, saxophone,
  trumpet, violin, flute.
* ``procedural``: :mod:`avsep.train.dataset.shapes`, four variants of every instrument (the only
  drawing of erhu and tuba).

The frames of a clip made from these pictures: :mod:`avsep.train.dataset.scene`.
"""

from __future__ import annotations

import io
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from avsep.errors import AvsepError
from avsep.train.dataset import shapes
from avsep.train.dataset.library import PictureFile, file_split
from avsep.train.dataset.pen import colour, tint
from avsep.train.dataset.system import NOTO_EMOJI_SIZE, Toolchain

FRAME_SIZE = 224
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
    # instruments outside the 11 (the oboe drawing stands in for the clarinet above)
    "other": [
        [_MUSIC + "french_horn_ganson.svg"],
        [_MUSIC + "harp1_ganson.svg", _MUSIC + "harp2_ganson.svg", _MUSIC + "harp3_ganson.svg"],
        [_MUSIC + "harp_mo_01.svg"],
        [_MUSIC + "tenor_trombone_ganson.svg"],
        [_MUSIC + "drums_jarno_vasamaa_.svg"],
        [_MUSIC + "electric_guitar_andrea__01r.svg"],
        [_MUSIC + "bass_guitar_a.j._ashton_.svg"],
        [_MUSIC + "piano_geraint_luff_01.svg"],
    ],
}
EMOJI: dict[str, str] = {
    "accordion": "\U0001fa97",  # 🪗
    "saxophone": "\U0001f3b7",  # 🎷
    "trumpet": "\U0001f3ba",  # 🎺
    "violin": "\U0001f3bb",  # 🎻
    "flute": "\U0001fa88",  # 🪈
    "other": "\U0001f3b9",  # 🎹
}
SILHOUETTES = [f"people/silhouette_{g}_{i}.svg" for g in ("male", "female") for i in (1, 2, 3)]


@dataclass(frozen=True)
class PictureSource:
    key: str  # "openclipart:recreation/music/cello_ganson.svg", "emoji:U+1FA97", "photo:kaggle-30/..."
    kind: str  # a name in PICTURE_KINDS
    ref: str  # what the kind needs to find it: an svg path, the emoji, a variant, a file path


@dataclass(frozen=True)
class PictureGroup:
    id: str  # split unit
    sources: tuple[PictureSource, ...]

    @property
    def kind(self) -> str:
        return self.sources[0].kind


class PictureKind:
    """One source of instrument pictures. Subclasses register themselves in
    :data:`PICTURE_KINDS` with :func:`register_picture_kind`."""

    name: str = ""
    licence: str = ""
    split_unit: str = ""
    #: a photograph (counted apart from drawings in the build's statistics)
    photographic: bool = False

    def groups(self, instrument: str, tools: Toolchain, photos: Sequence[PictureFile]) -> list[PictureGroup]:
        """The split units this kind has for ``instrument`` on this machine."""
        raise NotImplementedError

    def sprite(self, src: PictureSource, instrument: str, tools: Toolchain) -> Image.Image:
        """The picture, RGBA, cropped to its visible part."""
        raise NotImplementedError

    def split(self, groups: list[PictureGroup], seed: int, instrument: str) -> dict[str, list[PictureGroup]]:
        return split_groups(groups, seed, instrument)


PICTURE_KINDS: dict[str, PictureKind] = {}


def register_picture_kind(cls: type[PictureKind]) -> type[PictureKind]:
    PICTURE_KINDS[cls.name] = cls()
    return cls


@register_picture_kind
class ClipartKind(PictureKind):
    name = "openclipart"
    licence = "public domain (Open Clip Art Library, Debian package openclipart-svg)"
    split_unit = "drawing (its plain and coloured versions together)"

    def groups(self, instrument, tools, photos):
        out = []
        for files in CLIPART.get(instrument, []):
            srcs = tuple(
                PictureSource(f"openclipart:{f}", self.name, f) for f in files if (tools.openclipart_dir / f).is_file()
            )
            if srcs:
                out.append(PictureGroup(srcs[0].key, srcs))
        return out

    def sprite(self, src, instrument, tools):
        return _svg_sprite(str(tools.openclipart_dir / src.ref), tools.rsvg_convert)


@register_picture_kind
class EmojiKind(PictureKind):
    name = "emoji"
    licence = "SIL Open Font License 1.1 (Noto Color Emoji, Debian package fonts-noto-color-emoji)"
    split_unit = "emoji"

    def groups(self, instrument, tools, photos):
        ch = EMOJI.get(instrument)
        if ch is None or _emoji_sprite(ch, str(tools.emoji_font)) is None:
            return []
        src = PictureSource(f"emoji:U+{ord(ch):X}", self.name, ch)
        return [PictureGroup(src.key, (src,))]

    def sprite(self, src, instrument, tools):
        img = _emoji_sprite(src.ref, str(tools.emoji_font))
        if img is None:
            raise AvsepError(
                f"the emoji font {tools.emoji_font} cannot draw {src.key}; reinstall fonts-noto-color-emoji"
            )
        return img


@register_picture_kind
class ProceduralKind(PictureKind):
    name = "procedural"
    licence = "drawn by avsep.train.dataset.shapes (same licence as avsep)"
    split_unit = "variant"

    def groups(self, instrument, tools, photos):
        if instrument not in shapes.DRAWERS:  # "other" is no one shape: its drawings are clipart
            return []
        out = []
        for v in range(PROCEDURAL_VARIANTS):
            src = PictureSource(f"procedural:{instrument}:{v}", self.name, str(v))
            out.append(PictureGroup(src.key, (src,)))
        return out

    def sprite(self, src, instrument, tools):
        return _procedural_sprite(instrument, int(src.ref))


@register_picture_kind
class PhotoKind(PictureKind):
    name = "photo"
    licence = "per file (the photo folder's MANIFEST.tsv or LICENCE)"
    split_unit = "file"
    photographic = True

    def groups(self, instrument, tools, photos):
        return [
            PictureGroup(f"photo:{p.rel}", (PictureSource(f"photo:{p.rel}", self.name, str(p.path)),)) for p in photos
        ]

    def sprite(self, src, instrument, tools):
        return _photo_sprite(src.ref)

    def split(self, groups, seed, instrument):
        # by a hash of the file, as the audio files: the same photo is held out in every build
        return file_split(groups, key=lambda g: g.id)


#: the drawn kinds, used for a class without photographs
DRAWN = ("openclipart", "emoji", "procedural")
LICENCES = {k.name: k.licence for k in PICTURE_KINDS.values()}


def catalogue(
    instruments: list[str], tools: Toolchain, photos: dict[str, list[PictureFile]] | None = None
) -> dict[str, list[PictureGroup]]:
    """The picture groups of each instrument: its photographs if it has any, else drawings."""
    photos = photos or {}
    out: dict[str, list[PictureGroup]] = {}
    for name in instruments:
        kinds = ["photo"] if len(photos.get(name, [])) >= 3 else list(DRAWN)
        groups = [g for k in kinds for g in PICTURE_KINDS[k].groups(name, tools, photos.get(name, []))]
        if len(groups) < 2:
            raise AvsepError(f"only {len(groups)} picture source for {name}; reinstall openclipart-svg")
        out[name] = groups
    return out


def split_catalogue(groups: list[PictureGroup], seed: int, name: str) -> dict[str, list[PictureGroup]]:
    """Each kind's groups split its own way, then merged per split."""
    out: dict[str, list[PictureGroup]] = {s: [] for s in ("train", "val", "test")}
    for kind in dict.fromkeys(g.kind for g in groups):
        parts = PICTURE_KINDS[kind].split([g for g in groups if g.kind == kind], seed, name)
        for split, gs in parts.items():
            out[split].extend(gs)
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
    return PICTURE_KINDS[src.kind].sprite(src, instrument, tools)


def load_person(rng: np.random.Generator, tools: Toolchain) -> Image.Image:
    """A people-shaped silhouette in clothing colours with a skin/hair-coloured head."""
    choices = [s for s in SILHOUETTES if (tools.openclipart_dir / s).is_file()]
    if choices and rng.random() < 0.5:
        mask = _svg_sprite(str(tools.openclipart_dir / choices[int(rng.integers(len(choices)))]), tools.rsvg_convert)
        alpha = np.asarray(mask.getchannel("A")).astype(np.float32) / 255
        # the drawings are outlines with a light fill: make every pixel inside solid
        h, w = alpha.shape
        rgb = np.empty((h, w, 3), np.float32)
        cloth = colour(rng)
        lower = colour(rng) * 0.6
        head = tint([(235, 200, 170), (200, 150, 110), (150, 100, 70), (95, 60, 40)][int(rng.integers(4))], rng, 10)
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


# ---------------------------------------------------------------------------------------------
# a clip's scene


@lru_cache(maxsize=512)
def _photo_sprite(path: str) -> Image.Image:
    """A photograph as a sprite: a product shot's white ground, where it touches the border,
    becomes transparent; any other photo is an opaque rectangle."""
    try:
        with Image.open(path) as im:
            img = im.convert("RGB")
    except (OSError, ValueError) as e:
        raise AvsepError(f"{path}: cannot read this photo ({e}); remove it from the photo folder") from None
    img.thumbnail((_SPRITE_MAX, _SPRITE_MAX), Image.Resampling.LANCZOS)
    a = np.asarray(img).astype(np.int16)
    white = (a.min(axis=2) > 225) & (np.ptp(a, axis=2) < 30)
    border = np.concatenate([white[0], white[-1], white[:, 0], white[:, -1]])
    if border.mean() < 0.85:
        return img.convert("RGBA")
    from scipy import ndimage

    labels, _ = ndimage.label(white)
    outside = np.setdiff1d(np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]])), [0])
    ground = np.isin(labels, outside)
    alpha = ndimage.binary_opening(~ground, iterations=1)
    if alpha.mean() < 0.05:  # nothing left but white: keep the whole photo
        return img.convert("RGBA")
    soft = ndimage.gaussian_filter(alpha.astype(np.float32), 0.7)
    rgba = np.dstack([np.asarray(img), (np.clip(soft, 0, 1) * 255).astype(np.uint8)])
    return _crop(Image.fromarray(rgba, "RGBA"))
