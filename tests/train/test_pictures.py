"""Picture sources (a registry), photos as sprites and tight crops, video-like degradation."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from avsep.train.dataset import pictures
from avsep.train.dataset.instruments import INSTRUMENTS, SPECS
from avsep.train.dataset.library import scan
from avsep.train.dataset.scene import Degradation, Scene
from tests.train.real_material import write_photos

needs_toolchain = pytest.mark.skipif(shutil.which("rsvg-convert") is None, reason="needs librsvg2-bin")


@pytest.fixture(scope="module")
def photos(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("photos")
    write_photos(root / "violin", 12)
    write_photos(root / "flute", 12, white=False, seed=3)
    write_photos(root / "tuba", 2)  # too few: drawings instead
    return root


def test_every_kind_is_registered_with_a_licence_and_split_unit():
    assert set(pictures.PICTURE_KINDS) == {"openclipart", "emoji", "procedural", "photo"}
    for kind in pictures.PICTURE_KINDS.values():
        assert kind.licence and kind.split_unit
    assert [k for k, v in pictures.PICTURE_KINDS.items() if v.photographic] == ["photo"]


def test_a_white_ground_product_shot_is_cut_out(photos: Path):
    sprite = pictures._photo_sprite(str(sorted((photos / "violin").iterdir())[0]))
    alpha = np.asarray(sprite.getchannel("A"))
    assert sprite.mode == "RGBA" and alpha.min() == 0 and alpha.max() == 255
    busy = pictures._photo_sprite(str(sorted((photos / "flute").iterdir())[0]))
    assert np.asarray(busy.getchannel("A")).min() == 255  # a photo on a busy ground stays whole


@needs_toolchain
def test_photos_replace_drawings_only_where_there_are_enough(photos: Path):
    from avsep.train.dataset.system import check_toolchain

    lib = scan([], [photos], INSTRUMENTS)
    cat = pictures.catalogue(["violin", "flute", "tuba"], check_toolchain(), lib.pictures)
    assert {g.kind for g in cat["violin"]} == {"photo"} and len(cat["violin"]) == 12
    assert {g.kind for g in cat["tuba"]} == {"procedural"}
    split = pictures.split_catalogue(cat["violin"], 0, "violin")
    ids = {s: {g.id for g in gs} for s, gs in split.items()}
    assert ids["val"] and ids["test"] and not ids["train"] & (ids["val"] | ids["test"])
    assert pictures.split_catalogue(cat["violin"], 99, "violin") == split  # by file, not by seed


@needs_toolchain
def test_scenes_from_photos_tight_and_composite(photos: Path):
    from avsep.train.dataset.system import check_toolchain

    tools = check_toolchain()
    path = str(sorted((photos / "violin").iterdir())[0])
    modes = set()
    for seed in range(6):
        scene = Scene(pictures._photo_sprite(path), SPECS["violin"], np.random.default_rng(seed), tools, photo=path)
        a, b = scene.frame(0.5), scene.frame(1.5)
        assert a.size == b.size == (224, 224) and a.mode == "RGB"
        assert np.abs(np.asarray(a, np.float32) - np.asarray(b, np.float32)).mean() < 60
        modes.add(scene.recipe["mode"])
        assert "jpeg_quality" in scene.recipe["video"]
    assert modes == {"tight", "composite"}


def test_degradation_is_deterministic_and_changes_the_picture():
    img = Image.fromarray(np.random.default_rng(0).integers(0, 255, (224, 224, 3), dtype=np.uint8))
    for seed in range(5):
        d = Degradation(np.random.default_rng(seed))
        a = d(img, np.random.default_rng(1))
        b = d(img, np.random.default_rng(1))
        assert a.size == (224, 224) and np.array_equal(np.asarray(a), np.asarray(b))
        assert not np.array_equal(np.asarray(a), np.asarray(img))
