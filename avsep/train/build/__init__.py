"""``avsep data build``: a synthetic solo-instrument training set in the MUSIC index layout.

Melodies from the music21 corpus are played on General MIDI instruments by fluidsynth through
two or more Debian soundfonts and roughened (room, EQ, level, noise); each clip gets frames of
a player-shaped silhouette holding a picture of the instrument (Debian clipart, Noto emoji or a
procedural drawing) on a random background. See ``docs/data.md``.

Public API: :func:`build_dataset` and :data:`INSTRUMENTS`.
"""

from __future__ import annotations

from avsep.train.build.dataset import build_dataset
from avsep.train.build.instruments import INSTRUMENTS

__all__ = ["INSTRUMENTS", "build_dataset"]
