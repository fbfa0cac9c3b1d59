"""``--start`` / ``--end``: the part of a video a command works on, parsed before anything loads.

A user separates the solo at 1:20 to 2:05 of a concert rather than the whole hour, so times are
read as a player shows them (``80``, ``80.5``, ``1:20``, ``1:02:03.5``). The range is checked
against the video once it is probed (:func:`avsep.io.media.clip`), where the readers take it as
their time 0: the outputs cover the range, and a boxes file's times stay in the video's clock
(:attr:`avsep.boxes.plan.BoxPlan.clock`). On the ground (standard library and
:mod:`avsep.errors` only): io/ reads the range, and the command line parses it before torch and
PyAV load.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from avsep.errors import InputError

_NO_VALUE = object()


def _flag(field: str, value: object = _NO_VALUE, *, quoted: bool = False) -> str:
    """How a message names ``--start``/``--end`` by default (the command line's words)."""
    flag = f"--{field}"
    return flag if value is _NO_VALUE else f"{flag} {value!r}" if quoted else f"{flag} {value}"


def parse_time(text: str | float | None, flag: str) -> float | None:
    """Seconds from ``SECONDS``, ``M:SS`` or ``H:MM:SS`` (each part may have decimals); None
    stays None. ``flag`` names the option in a message."""
    if text is None or isinstance(text, (int, float)):
        seconds = None if text is None else float(text)
    else:
        parts = str(text).strip().split(":")
        try:
            values = [float(p) for p in parts]
        except ValueError:
            values = []
        if not 1 <= len(values) <= 3 or any(v < 0 for v in values) or any(v >= 60 for v in values[1:]):
            raise InputError(f"{flag} {text!r}: give seconds (90, 90.5) or minutes:seconds (1:30, 1:02:03)")
        seconds = sum(v * 60**i for i, v in enumerate(reversed(values)))
    if seconds is not None and not (math.isfinite(seconds) and seconds >= 0):
        raise InputError(f"{flag} {text!r}: give a time of 0 or more seconds")
    return seconds


@dataclass(frozen=True)
class TimeRange:
    """Seconds of the video from ``start`` to ``end`` (None: to its end)."""

    start: float = 0.0
    end: float | None = None

    @classmethod
    def parse(cls, start: str | float | None, end: str | float | None, say: Callable[..., str] = _flag) -> TimeRange:
        """The range of ``--start`` and ``--end`` (either may be missing); ``end`` must be after
        ``start``. ``say`` names the options as the caller wrote them (an
        :class:`avsep.options.Wording`: flags or keywords)."""
        first = parse_time(start, say("start")) or 0.0
        last = parse_time(end, say("end"))
        if last is not None and last <= first:
            raise InputError(
                f"{say('end', end)}: it is not after {say('start', start or 0)}; give an end later than the start"
            )
        return cls(first, last)

    @property
    def whole(self) -> bool:
        """Whether this is the whole video (no range asked for)."""
        return self.start == 0 and self.end is None

    def fields(self) -> dict[str, float | None]:
        """The range as :class:`avsep.options.BatchOptions` takes it (``start``, ``end``)."""
        return {"start": self.start, "end": self.end}

    def to_json(self) -> dict[str, float] | None:
        """The range as a provenance record names it (None: the whole video)."""
        return None if self.whole else {"start": self.start, **({"end": self.end} if self.end is not None else {})}
