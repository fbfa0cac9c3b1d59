"""The ``train`` extra: what training and evaluation need beyond a separating install.

``pip install avsep`` brings only what separation needs; the training commands also need the
packages of ``pip install 'avsep[train]'`` (and, to build data, the Debian packages that
``bash install.sh --train`` adds). Without them a command would stop wherever the first
import happens (after minutes of work, or inside a data-loader worker, where the error is
wrapped). :func:`training_extra` checks up front instead and says in one line what to
install; an import that still fails while the command runs gets the same line.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from contextlib import contextmanager

from avsep.errors import AvsepError

#: Import names of the ``train`` extra in pyproject.toml (tests/test_packaging.py compares them).
TRAINING_MODULES = ("scipy", "soundfile", "mir_eval", "music21", "mido", "pyroomacoustics")

INSTALL_HINT = (
    "pip install 'avsep[train]' (from a checkout: bash install.sh --train, which also adds the Debian packages)"
)


def missing_training_modules() -> list[str]:
    """The extra's modules that cannot be imported here (none when the extra is installed)."""
    return [name for name in TRAINING_MODULES if importlib.util.find_spec(name) is None]


def extra_missing(command: str, modules: list[str]) -> AvsepError:
    """The one-line error for ``command`` run without the extra (``modules``: what is absent)."""
    return AvsepError(
        f"{command} needs the training extra, which is not installed (no {', '.join(modules)}): {INSTALL_HINT}"
    )


@contextmanager
def training_extra(command: str) -> Iterator[None]:
    """Around a training command's body: refuse at once, in one line, without the extra.

    ``command`` is how the user typed it (``"avsep train"``). A module that is missing although
    the check passed (a dependency added to the extra but not to :data:`TRAINING_MODULES`, or
    one of the extra's own dependencies) is reported the same way when its import fails.
    """
    missing = missing_training_modules()
    if missing:
        raise extra_missing(command, missing)
    try:
        yield
    except ModuleNotFoundError as exc:
        if not exc.name or exc.name.split(".")[0] == "avsep":
            raise
        raise extra_missing(command, [exc.name.split(".")[0]]) from exc
