"""The music-related classes of ImageNet-1k, and which avsep instrument each one suggests.

The frozen trunk's ImageNet classifier recognises real instrument photos and video frames
(docs/backbones.md: 134 of 140 real frames top-1); its posterior over these classes is a
compact guide that names the instrument, and its class activation maps say where it is.
Indices are 0-based ImageNet-1k class indices (checked against timm's class descriptions in
tests/models/test_imagenet_music.py).
"""

from __future__ import annotations

#: ImageNet index -> short name, every class that shows a musical instrument
MUSIC_CLASSES: dict[int, str] = {
    401: "accordion",
    402: "acoustic guitar",
    420: "banjo",
    432: "bassoon",
    486: "cello",
    494: "chime",
    513: "cornet",
    541: "drum",
    546: "electric guitar",
    558: "flute",
    566: "French horn",
    577: "gong",
    579: "grand piano",
    593: "harmonica",
    594: "harp",
    641: "maraca",
    642: "marimba",
    683: "oboe",
    684: "ocarina",
    687: "pipe organ",
    699: "panpipe",
    776: "sax",
    822: "steel drum",
    875: "trombone",
    881: "upright piano",
    889: "violin",
}

#: the ImageNet indices, in a fixed order: the posterior guide's coordinates
MUSIC_INDICES: tuple[int, ...] = tuple(sorted(MUSIC_CLASSES))

#: avsep instrument -> the ImageNet classes that picture it. ImageNet has no clarinet, tuba or
#: erhu: clarinet photos are classified as oboe, tuba photos mostly as cornet (trumpet's
#: class) or French horn, so tuba gets French horn; erhu gets none (any class given to it would
#: be taken from a real instrument of its own). Each index belongs to at most one instrument.
INSTRUMENT_CLASSES: dict[str, tuple[int, ...]] = {
    "accordion": (401,),
    "acoustic_guitar": (402,),
    "cello": (486,),
    "clarinet": (683,),
    "erhu": (),
    "flute": (558,),
    "saxophone": (776,),
    "trumpet": (513,),
    "tuba": (566,),
    "violin": (889,),
    "xylophone": (642,),
}

#: The player finder's other instruments (:mod:`avsep.boxes.detect`): music classes that are not one
#: of avsep's instruments, by the name the finder reports (a banjo or a piano is still a player
#: to find, even if avsep's model was not trained on it). Ocarina (684) and panpipe (699) are
#: not among them: the finder's thresholds were calibrated without them.
OTHER_INSTRUMENTS: dict[str, tuple[int, ...]] = {
    "banjo": (420,),
    "bassoon": (432,),
    "chimes": (494,),  # chime, bell, gong
    "drum": (541, 822),  # drum; steel drum
    "electric_guitar": (546,),
    "gong": (577,),
    "piano": (579, 881),  # grand piano; upright piano
    "harmonica": (593,),
    "harp": (594,),
    "maraca": (641,),
    "organ": (687,),  # pipe organ
    "trombone": (875,),
}

#: Every instrument name the finder knows -> its ImageNet indices (avsep's classes first). Each
#: index belongs to one name, so a class activation map's winning index names one instrument.
INSTRUMENTS: dict[str, tuple[int, ...]] = {**INSTRUMENT_CLASSES, **OTHER_INSTRUMENTS}
