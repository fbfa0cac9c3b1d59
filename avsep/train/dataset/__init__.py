"""``avsep data build``: a synthetic solo-instrument training set in the MUSIC index layout.

Melodies from the music21 corpus are played on General MIDI instruments by fluidsynth through
two or more Debian soundfonts and roughened (room, EQ, level, noise); each clip gets frames of
a player-shaped silhouette holding a picture of the instrument (Debian clipart, Noto emoji or a
procedural drawing) on a random background. See ``docs/data.md``.

Public API: :func:`build_dataset` and :data:`INSTRUMENTS`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from avsep.train.dataset.build import build_dataset
    from avsep.train.dataset.instruments import INSTRUMENTS

__all__ = ["INSTRUMENTS", "build_dataset"]


def __getattr__(name: str) -> Any:
    """Deferred: mounting ``avsep data build`` in the CLI must not import scipy and music21."""
    if name == "build_dataset":
        from avsep.train.dataset.build import build_dataset

        return build_dataset
    if name == "INSTRUMENTS":
        from avsep.train.dataset.instruments import INSTRUMENTS

        return INSTRUMENTS
    raise AttributeError(f"module 'avsep.train.dataset' has no attribute {name!r}")
