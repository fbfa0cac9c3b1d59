"""``avsep remix``'s balance: ``--gain NAME=DB``, ``--solo NAME``, ``--mute NAME``, parsed and
turned into one linear gain per source.

Apart from :mod:`avsep.remix.mixer` so that the command line checks these options before torch, PyAV
or numpy load; the names are checked against the video's sources once they are known.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from avsep.errors import InputError

if TYPE_CHECKING:
    import numpy as np


@dataclass
class Balance:
    """What to do to each source: gains in dB by name, soloed names, muted names."""

    gains: dict[str, float]
    solo: list[str]
    mute: list[str]

    @classmethod
    def parse(cls, gains: Iterable[str] = (), solo: Iterable[str] = (), mute: Iterable[str] = ()) -> Balance:
        """From the command line's ``NAME=DB`` strings (checked against the names later, once
        the video's sources are known)."""
        parsed: dict[str, float] = {}
        for item in gains:
            name, sep, value = item.rpartition("=")
            try:
                db = float(value)
            except ValueError:
                db = float("nan")
            if not sep or not name or not math.isfinite(db):
                raise InputError(f"--gain {item!r}: write NAME=DB, e.g. --gain flute=+6 or --gain violin=-3.5")
            parsed[name] = db
        both = sorted(set(solo) & set(mute))
        if both:
            raise InputError(f"--solo and --mute both name {both[0]!r}; pick one")
        return cls(parsed, list(solo), list(mute))

    @property
    def empty(self) -> bool:
        return not (self.gains or self.solo or self.mute)

    def factors(self, names: list[str]) -> np.ndarray:
        """Linear gain per source (in ``names`` order), then 1 for the residual."""
        unknown = [n for n in [*self.gains, *self.solo, *self.mute] if n not in names]
        if unknown:
            raise InputError(
                f"no source is named {unknown[0]!r}; this video's sources are {', '.join(names)} "
                "(name them with --names)"
            )
        import numpy as np  # deferred: the options are checked without numpy

        out = []
        for name in names:
            if name in self.mute or (self.solo and name not in self.solo):
                out.append(0.0)
            else:
                out.append(10 ** (self.gains.get(name, 0.0) / 20))
        return np.array([*out, 1.0], np.float32)
