"""The music-class table: every index is the ImageNet class it claims, and none is missing.

The names come from timm's own copy of the ImageNet-1k synsets (``timm.data.ImageNetInfo``,
saved in ``tests/models/reference/``),
so a wrong index (an off-by-one, a typo) fails here rather than silently steering the player
finder or a posterior guide to another object. (tests/models/test_guide.py pins the order of
``MUSIC_INDICES``, the posterior guide's coordinates.)
"""

from __future__ import annotations

import pytest

from avsep.models.imagenet_music import INSTRUMENT_CLASSES, INSTRUMENTS, MUSIC_CLASSES, MUSIC_INDICES, OTHER_INSTRUMENTS
from tests.models.trunk_reference import imagenet_descriptions

#: The first ImageNet name each index must carry.
EXPECTED = {
    401: "accordion", 402: "acoustic guitar", 420: "banjo", 432: "bassoon", 486: "cello",
    494: "chime", 513: "cornet", 541: "drum", 546: "electric guitar", 558: "flute",
    566: "French horn", 577: "gong", 579: "grand piano", 593: "harmonica", 594: "harp",
    641: "maraca", 642: "marimba", 683: "oboe", 684: "ocarina", 687: "organ", 699: "panpipe",
    776: "sax", 822: "steel drum", 875: "trombone", 881: "upright", 889: "violin",
}  # fmt: skip

#: Words that name an instrument in an ImageNet description, and the descriptions that
#: contain one without being an instrument (a fiddler crab, a horned viper ...).
INSTRUMENT_WORDS = ("accordion", "guitar", "banjo", "bassoon", "cello", "violin", "flute", "cornet",
                    "trumpet", "horn", "harmonica", "harp", "marimba", "xylophone", "oboe", "sax",
                    "trombone", "drum", "piano", "organ", "gong", "chime", "maraca", "ocarina",
                    "panpipe")  # fmt: skip
NOT_INSTRUMENTS = {
    66,
    68,
    93,
    120,
    149,
    303,
    349,
    542,
    710,
    994,
}  # vipers, hornbill, fiddler crab, dugong, beetle, bighorn, drumstick, pencil sharpener, stinkhorn


@pytest.fixture(scope="module")
def imagenet() -> list[str]:
    return imagenet_descriptions()


def test_every_index_is_the_class_it_claims(imagenet):
    assert tuple(sorted(EXPECTED)) == MUSIC_INDICES == tuple(sorted(MUSIC_CLASSES))
    for index, name in EXPECTED.items():
        assert imagenet[index].split(",")[0] == name


def test_no_instrument_class_is_left_out(imagenet):
    found = {i for i in range(1000) if any(w in imagenet[i].lower() for w in INSTRUMENT_WORDS)}
    assert found - NOT_INSTRUMENTS == set(MUSIC_INDICES)


def test_each_index_names_one_instrument_of_the_finder():
    flat = [i for ids in INSTRUMENTS.values() for i in ids]
    assert len(flat) == len(set(flat))
    assert set(INSTRUMENT_CLASSES).isdisjoint(OTHER_INSTRUMENTS)
    # The finder knows every music class but the two it was not calibrated with.
    assert set(MUSIC_INDICES) - set(flat) == {684, 699} and set(flat) <= set(MUSIC_INDICES)
    assert sorted(INSTRUMENT_CLASSES) == [
        "accordion", "acoustic_guitar", "cello", "clarinet", "erhu", "flute", "saxophone",
        "trumpet", "tuba", "violin", "xylophone",
    ]  # fmt: skip
