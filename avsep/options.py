"""Choices that several commands offer, defined once so they cannot drift apart."""

from __future__ import annotations

from enum import Enum


class Mask(str, Enum):
    """How the boxes' predicted masks become the share of each mixture bin given to each box.

    ``binary`` thresholds each mask at 0.5 (the method); ``soft`` keeps each mask's value; both
    decide each box alone, so two boxes can claim one bin, or none. ``ratio`` divides each box's
    soft mask by their sum over the boxes, so the boxes share every bin and their outputs add
    up to the mixture: right when the boxes hold every instrument that plays. ``capped`` divides
    only where the sum exceeds 1, leaving room for sound outside the boxes.
    """

    binary = "binary"
    soft = "soft"
    ratio = "ratio"
    capped = "capped"


#: the --mask help of every command that separates
MASK_HELP = (
    "How the boxes share the sound: binary (each mask at 0.5), soft (each mask's value), ratio (each bin "
    "divided between the boxes: the outputs add up to the mixture), capped (divided only where the boxes "
    "claim more than the bin)."
)

#: the values :class:`Mask` allows, for checks and messages
MASK_MODES = tuple(m.value for m in Mask)

#: The default for ``separate``, ``Separator`` and the evaluations: on the real clips the boxes
#: sharing each bin (ratio) beat each box deciding alone (soft, binary) and the capped share
#: (docs/results.md section 0); the method's binary masks stay one option away.
DEFAULT_MASK = Mask.ratio


class SameInstrument(str, Enum):
    """What to do when boxes' guides name the same instrument, so the network gives them one mask.

    ``off`` leaves the mask shared (each box gets the same part of every bin); ``motion``
    splits it by who moves when (:mod:`avsep.separation.same_instrument`): it needs the video's frames
    between the guide frames, so it reads the window's frames at up to 30 a second.
    """

    off = "off"
    motion = "motion"


#: the --same-instrument help of every command that separates
SAME_INSTRUMENT_HELP = (
    "Boxes whose pictures name the same instrument get the same mask: off (share it), motion (split it by "
    "which box moves when its sound plays; reads more frames)."
)

#: the values :class:`SameInstrument` allows, for checks and messages
SAME_INSTRUMENT_MODES = tuple(m.value for m in SameInstrument)

#: The default for ``separate``, ``Separator`` and the evaluations: off. On the real clips the
#: motion split left the different-instrument duets identical but gained only +0.2 dB on the one
#: video with 30 fps motion and lost 0.7 dB where the frames were 1 a second (docs/results.md
#: section 0).
DEFAULT_SAME_INSTRUMENT = SameInstrument.off

#: the sets of ``avsep evaluate-real``: FCSN mixtures, CLIPSep demos, music-solo duets of
#: different instruments and of one instrument twice (reported apart: a class guide alone
#: cannot tell two players of one instrument apart), and two times of one music-solo video side
#: by side (one instrument twice, with the video's motion: what ``--same-instrument motion`` reads)
REAL_SETS = ("fcsn", "clipsep", "duets", "duets-same", "duets-video")

#: the file names a batch takes for videos (in folders; and what ends a list after --names),
#: here so that the command line reads them without loading the pipeline
VIDEO_EXTENSIONS = {".mp4", ".mkv", ".webm", ".mov", ".avi", ".m4v", ".mpg", ".mpeg", ".flv", ".ts", ".wmv"}
