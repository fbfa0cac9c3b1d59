"""The user's word about a box: a name that is one of the model's classes guides that box.

A label-trained model (the shipped one) learned with the one-hot of each source's true class;
on a video it is given what the box's frames show instead, which names some players wrong (on
63 real duets the ImageNet classes named erhu 0/21, tuba 0/12, clarinet 0/6; the guide head,
the default since, names more but not all), and a wrong guide spoils the shared mask of every
box. A user who writes ``--names erhu tuba`` knows better: a name that means one of the
classes (:func:`avsep.models.guide.name_class`) becomes that box's guide, the exact input the
model was trained with. A box named ``other`` or with an instrument outside the 11 (piano,
voice, viola) is :data:`~avsep.models.guide.OTHER`, for every label-trained model: its mask
is what the other boxes leave (:meth:`avsep.separation.engine.Engine.model_guides`), not the
mask of a class it is not. A name that is no instrument ("lead") leaves that box's frames in
charge, and the line that reports the video says so. ``guide="frames"`` ignores names. Names
the player finder gives in automatic mode are the frames' own guess and are never passed here.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from avsep.boxes.naming import shared_classes
from avsep.models.guide import LABEL_OTHER, OTHER, is_label, label_guide, name_class
from avsep.options import Wording


class AlikeGuidesWarning(UserWarning):
    """Two or more boxes are guided by one class because of their names: the network gives them
    one mask, so their outputs come out alike (issue 28's class guide names an instrument, not a
    player)."""


@dataclass(frozen=True)
class NamedGuides:
    """Per source: the class its name means (the box is guided by it), or None (by its frames)."""

    names: tuple[str, ...]
    classes: tuple[str | None, ...]
    #: the coordinates of the guides (the separation's guide space: ``label-other`` for a
    #: label-trained model, so that ``other`` has its own)
    kind: str = LABEL_OTHER

    @property
    def all_named(self) -> bool:
        """Every box is guided by its name: the frames are not needed for the guide at all."""
        return all(self.classes)

    def apply(self, pictures: Callable[[], torch.Tensor], batch: int) -> torch.Tensor:
        """The guides ``[batch, S, D]`` of a block of windows: each named box's class, the
        others from ``pictures()`` (called only when some box needs its frames)."""
        rows = [k for k, c in enumerate(self.classes) if c is not None]
        if not rows:
            return pictures()
        named = label_guide([self.classes[k] for k in rows], self.kind)
        if self.all_named:
            return named[None].expand(batch, -1, -1)
        guides = pictures().clone()
        guides[:, rows] = named.to(guides.device, guides.dtype)
        return guides

    def alike(self) -> list[tuple[str, list[str]]]:
        """Each class that guides two or more boxes by their names, with those boxes' names."""
        # boxes named outside the classes take what the others leave: one share, not one instrument
        ours = [None if cls == OTHER else cls for cls in self.classes]
        return list(shared_classes(ours, self.names).items())

    def warn_alike(self, video: Path, say: Wording) -> None:
        """Say, for each :meth:`alike` group, that its outputs will come out alike (a user who
        names two violinists ``violin1 violin2`` expects two players, and gets one mask shared)
        and which option tells players of one instrument apart."""
        for cls, names in self.alike():
            listed = f"{', '.join(names[:-1])} and {names[-1]} are {'both' if len(names) == 2 else 'all'}"
            warnings.warn(
                f"{video}: {listed} guided by {cls} (their names), so they will come out alike; "
                f"{say('same_instrument', 'motion')} splits players of one instrument by who moves when",
                AlikeGuidesWarning,
                stacklevel=3,
            )

    def describe(self) -> str:
        """What guides the boxes, for the line that reports the video."""
        steered = [f"{n} ({c})" if n != c else n for n, c in zip(self.names, self.classes) if c and c != OTHER]
        rest = [n if n == OTHER else f"{n} ({OTHER})" for n, c in zip(self.names, self.classes) if c == OTHER]
        unknown = [n for n, c in zip(self.names, self.classes) if c is None]
        said = ["guided by the names " + ", ".join(steered)] if steered else []
        if rest and len(rest) < len(self.names):
            said.append(f"{', '.join(rest)} take{'s' if len(rest) == 1 else ''} what the other boxes leave")
        elif rest:
            said.append(f"guided as an instrument outside the model's classes: {', '.join(rest)}")
        if unknown:
            said.append(f"by the frames: {', '.join(unknown)} (not one of the model's classes)")
        return "; ".join(said)


def named_guides(names: Sequence[str | None] | None, count: int, guide_space: str) -> NamedGuides | None:
    """The guides the user's ``names`` give ``count`` boxes, in the separation's coordinates
    ``guide_space`` (:attr:`avsep.separation.engine.Engine.guide_space`), or None when names
    cannot steer (no names, not one per box, or a model not trained with class labels)."""
    if not names or len(names) != count or not is_label(guide_space):
        return None
    classes = tuple(name_class(n) for n in names)
    return NamedGuides(tuple(str(n) for n in names), classes, guide_space)
