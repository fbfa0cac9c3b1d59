"""The pictures the guide head learns from: instrument photos made to look like video frames.

Sources (``avsep train-guide --photos DIR``, a ``<source>/<class>/<file>`` tree such as
``../shared/datasets/photos``): every class folder is one of avsep's instruments
(:data:`PHOTO_CLASSES`: ``guitar_mixed`` is the acoustic guitar) or a *negative*, an
instrument that is not one of ours (banjo, drums, harp, piano, trombone, harmonica, sitar,
tabla ...): the head's "not one of ours". No photo shows an erhu or a cello: erhu gets the
procedural drawings of :mod:`avsep.train.dataset.shapes` (:data:`ERHU_DRAWINGS` of them, split
by drawing), cello none (the head leaves it to ImageNet's own class,
:mod:`avsep.models.guide_head`).

Split by file, per source and class (:func:`split_pictures`, a stable hash of the path): no
photo is in two splits. Each picture is seen in :data:`VARIANTS` fixed, seeded variants
(one for a negative; :func:`render_variant`), each a frame a video could give of it: a tight
box around the photo, the photo held by a player in a composed scene, or a wide shot where it is
small, all through
:class:`~avsep.train.dataset.scene.Degradation` (blur, low resolution, colour casts, stage
light, JPEG), some of them grey or partly cropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from avsep.errors import InputError
from avsep.models.guide_head import HEAD_CLASSES, OTHER
from avsep.train.dataset.instruments import SPECS, InstrumentSpec
from avsep.train.dataset.library import file_split
from avsep.train.dataset.melodies import stable_hash
from avsep.train.dataset.pictures import _photo_sprite, _procedural_sprite
from avsep.train.dataset.scene import Scene, background
from avsep.train.dataset.system import Toolchain

#: a photo folder's name -> avsep's class (the same name, but for the guitar folder)
PHOTO_CLASSES = {"guitar_mixed": "acoustic_guitar"}
#: procedural erhu drawings rendered for training (the only erhu pictures there are)
ERHU_DRAWINGS = 160
#: fixed degraded variants of each picture of ours, in the feature cache (a negative has one:
#: the trunk's time goes to the classes the head must name)
VARIANTS = 2
#: share of the files per source and class held out for validation, and as much for test
HELD_OUT = 0.15
_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp"}
#: the scene layout of a negative (not one of ours): a mid-sized instrument held in front
_NEGATIVE_SPEC = InstrumentSpec("other", (), relative_size=0.45, anchor=(0.0, 0.45))


@dataclass(frozen=True)
class GuidePicture:
    """One picture: a photo file, or (``path`` None) procedural drawing ``drawing`` of erhu."""

    key: str  # stable name: the photo's path under the photo folder, or ``erhu/drawing-N``
    target: str  # one of HEAD_CLASSES (``other`` for a negative)
    folder: str  # the class folder it came from (``guitar_mixed``, ``banjo``, ``erhu``)
    path: Path | None = None
    drawing: int = -1


def list_pictures(photos: str | Path, erhu_drawings: int = ERHU_DRAWINGS) -> list[GuidePicture]:
    """Every photo under ``photos/<source>/<class>/`` plus the erhu drawings."""
    root = Path(photos)
    if not root.is_dir():
        raise InputError(f"{root}: photo folder not found; pass --photos DIR (a <source>/<class>/<file> tree)")
    out = []
    for folder in sorted(p for p in root.glob("*/*") if p.is_dir()):
        target = PHOTO_CLASSES.get(folder.name, folder.name)
        target = target if target in HEAD_CLASSES else OTHER
        for f in sorted(folder.iterdir()):
            if f.suffix.lower() in _SUFFIXES:
                out.append(GuidePicture(str(f.relative_to(root)), target, folder.name, path=f))
    if not out:
        raise InputError(f"{root}: no photos in <source>/<class>/ folders; point --photos at the photo tree")
    out += [GuidePicture(f"erhu/drawing-{k}", "erhu", "erhu", drawing=k) for k in range(erhu_drawings)]
    return out


def split_pictures(pictures: Sequence[GuidePicture]) -> dict[str, str]:
    """key -> ``train``/``val``/``test``: :func:`file_split` within each source and class folder
    (stratified: every class is held out in the same proportion)."""
    groups: dict[str, list[GuidePicture]] = {}
    for p in pictures:
        groups.setdefault(p.key.rsplit("/", 1)[0], []).append(p)
    split = {}
    for members in groups.values():
        for name, part in file_split(members, key=lambda p: p.key, held_out=HELD_OUT).items():
            split.update({p.key: name for p in part})
    return split


def variants(picture: GuidePicture) -> range:
    """The variant numbers a picture has in the cache."""
    return range(1 if picture.target == OTHER else VARIANTS)


def render_variant(picture: GuidePicture, variant: int, tools: Toolchain, seed: int = 0) -> np.ndarray:
    """Variant ``variant`` of a picture as a 224 x 224 video frame (uint8 ``[224, 224, 3]``).

    Its style is one of: a tight box around the photo (an erhu drawing: a player holding it);
    the photo held by a player in a composed scene, close up; the same scene with the
    instrument smaller, half of the time shrunk again into a wide shot. Variant 0 of ours is
    the tight box, variant 1 one of the scenes; a negative's one variant any of the three.
    Then, at random: grey (1 in 8) or a partial crop (1 in 4). Seeded by the picture's key, the
    variant and ``seed``.
    """

    rng = np.random.default_rng([seed, stable_hash("guide", picture.key), variant])
    style = int(rng.integers(3)) if picture.target == OTHER else (0 if variant == 0 else 1 + int(rng.integers(2)))
    spec = SPECS.get(picture.target, _NEGATIVE_SPEC)
    if picture.path is None:
        sprite, photo = _procedural_sprite("erhu", picture.drawing), None
    else:
        sprite, photo = _photo_sprite(str(picture.path)), str(picture.path)
    tight = 1.0 if style == 0 else 0.0
    scene = Scene(sprite, spec, rng, tools, photo=photo if style < 2 else None, tight_share=tight)
    img = scene.frame(float(rng.uniform(0, 10)))
    if style == 2 and rng.random() < 0.5:  # a wide shot: the whole scene small in a bigger one
        canvas, _ = background(rng, 224)
        side = int(rng.integers(90, 170))
        x, y = rng.integers(0, 224 - side, 2)
        canvas.paste(img.resize((side, side), Image.Resampling.LANCZOS), (int(x), int(y)))
        img = canvas
    if rng.random() < 0.125:
        img = img.convert("L").convert("RGB")
    elif rng.random() < 0.25:
        side = rng.uniform(0.55, 0.85) * 224
        x, y = rng.uniform(0, 224 - side, 2)
        img = img.resize((224, 224), Image.Resampling.BILINEAR, box=(x, y, x + side, y + side))
    return np.asarray(img.convert("RGB"), dtype=np.uint8).copy()
