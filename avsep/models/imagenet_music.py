"""The music-related ImageNet-1k classes, grouped by the instrument name avsep uses.

The shipped visual trunk carries an ImageNet classifier, and ImageNet knows 24 instruments. Two
parts of avsep read that classifier with a vocabulary of instruments: the player finder
(:mod:`avsep.detect`, class activation maps of these classes) and guide variants built from the
class posterior. Both must agree on which index means which instrument, so the table lives
here, once, and ``tests/models/test_imagenet_music.py`` checks every index against ImageNet's
own class names (``timm.data.ImageNetInfo``).

:data:`AVSEP_CLASSES` maps each of avsep's 11 instrument classes (those of the MUSIC dataset and
of ``avsep data build``) to the ImageNet classes that show it. ImageNet has no clarinet, tuba
or erhu, so those use the class the trunk actually gives their photographs (measured on the
kaggle-30 photos in ``../shared/datasets/photos``, 1 in 4 of each class, 36-40 photos):
clarinet photos come out as *oboe* (30 of 36), tuba photos as *cornet* (33 of 40, the index
trumpet owns) or *French horn* (6 of 40), so tuba gets French horn; erhu has no stand-in.
:data:`OTHER_INSTRUMENTS` names the remaining instrument classes (a banjo or a piano is still a
player to find, even if avsep's model was not trained on it). Each index belongs to exactly one
name, so a class activation map's winning index names one instrument.
"""

from __future__ import annotations

#: avsep's instrument classes -> ImageNet-1k class indices (empty: no usable class).
AVSEP_CLASSES: dict[str, tuple[int, ...]] = {
    "accordion": (401,),  # accordion, piano accordion, squeeze box
    "acoustic_guitar": (402,),  # acoustic guitar
    "cello": (486,),  # cello, violoncello
    "clarinet": (683,),  # oboe: what the trunk calls clarinet photos
    "erhu": (),
    "flute": (558,),  # flute, transverse flute
    "saxophone": (776,),  # sax, saxophone
    "trumpet": (513,),  # cornet, horn, trumpet, trump
    "tuba": (566,),  # French horn: the nearest brass class trumpet does not own
    "violin": (889,),  # violin, fiddle
    "xylophone": (642,),  # marimba, xylophone
}

#: Instruments ImageNet knows that are not among avsep's classes.
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

#: Every instrument name -> its ImageNet indices (avsep's classes first).
INSTRUMENTS: dict[str, tuple[int, ...]] = {**AVSEP_CLASSES, **OTHER_INSTRUMENTS}

#: The flat, sorted list of all music-related ImageNet indices.
MUSIC_INDICES: list[int] = sorted(i for ids in INSTRUMENTS.values() for i in ids)

#: ImageNet index -> instrument name.
INSTRUMENT_OF: dict[int, str] = {i: name for name, ids in INSTRUMENTS.items() for i in ids}
