"""Where the bundled models live and which one is the default.

Bundled models are ``weights/<name>-<first 8 hex of the file's sha256>.pt`` with a model card
``weights/<name>.json`` beside them; the card's ``sha256`` is the whole digest of the file's
bytes, so ``sha256sum`` checks a copy the usual way. ``AVSEP_WEIGHTS_DIR`` points elsewhere
(tests, or a user's own collection). Nothing here downloads anything: the tool works offline.

The folder is the repository's top-level ``weights/``; a wheel or sdist install carries the same
files as package data of ``avsep._weights`` (pyproject.toml maps that package onto ``weights/``),
so the lookup tries the installed copy first and the checkout's folder second.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from avsep.errors import ModelError

DEFAULT_MODEL = "avsep-pcn"
#: the guide head's file is ``<GUIDE_HEAD>-<sha8>.pth`` (not ``.pt``: it is no model of its
#: own, and ``avsep models`` does not list it), its card ``<GUIDE_HEAD>.json``
GUIDE_HEAD = "avsep-guide-head"
#: The hash part is checked against the file's bytes when the file is loaded (serialize.py).
_FILE = re.compile(r"^(?P<name>.+)-(?P<sha8>[0-9a-f]{8})\.pt$")


def weights_dir() -> Path:
    """The folder searched for bundled models.

    ``$AVSEP_WEIGHTS_DIR`` if set; else the package data a wheel or sdist install carries
    (``avsep/_weights``); else, when the package sits in its source tree (``pyproject.toml``
    beside it: a checkout, an editable install), that tree's ``weights/``. An install that lost
    its weights is thus told so about ``avsep/_weights``, not about a ``site-packages/weights``
    folder that was never part of it.
    """
    env = os.environ.get("AVSEP_WEIGHTS_DIR")
    if env:
        return Path(env)
    package = Path(__file__).resolve().parents[1]  # avsep/, above models/
    installed = package / "_weights"
    checkout = package.parent / "weights"
    if installed.is_dir() or not (package.parent / "pyproject.toml").is_file():
        return installed
    return checkout


def bundled_name(model_file: Path) -> str | None:
    """``<name>`` of a file named ``<name>-<sha8>.pt``; None for any other name."""
    m = _FILE.match(model_file.name)
    return m["name"] if m else None


def name_sha8(model_file: Path) -> str | None:
    """``<sha8>`` of a file named ``<name>-<sha8>.pt``: the file's own sha256 should start so."""
    m = _FILE.match(model_file.name)
    return m["sha8"] if m else None


def card_path(model_file: Path) -> Path | None:
    """The card beside a bundled ``<name>-<sha8>.pt`` (``<name>.json``); None for other names."""
    name = bundled_name(model_file)
    return model_file.with_name(name + ".json") if name else None


def recorded_sha256(model_file: Path) -> str | None:
    """The sha256 the model card records for this file, or None when no card describes it.

    A card describes only the file it names (``"file"``): a card left over from an older file
    of the same name must not condemn a new one; that file's name hash still guards it.
    """
    path = card_path(model_file)
    card = _read_card(path) if path is not None else {}
    digest = card.get("sha256")
    return digest if card.get("file") == model_file.name and isinstance(digest, str) else None


@dataclass(frozen=True)
class BundledModel:
    """A model file found in the weights folder; ``card`` is its JSON model card."""

    name: str
    path: Path
    card: dict


def bundled_models(directory: Path | None = None) -> list[BundledModel]:
    """Every ``<name>-<hash>.pt`` in the weights folder, with its card (empty if none)."""
    directory = directory or weights_dir()
    found = []
    for path in sorted(directory.glob("*.pt")) if directory.is_dir() else []:
        name, card = bundled_name(path), card_path(path)
        if name and card:
            found.append(BundledModel(name, path, _read_card(card)))
    return found


def _read_card(path: Path) -> dict:
    """A model card, or a one-entry card saying why it is unusable: listing models must not
    fail because one card is damaged (the weights are verified separately, on load)."""
    if not path.is_file():
        return {}
    try:
        card = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return {"error": f"unreadable model card {path.name} ({type(exc).__name__})"}
    return card if isinstance(card, dict) else {"error": f"model card {path.name} is not a JSON object"}


def resolve_model(model: str | Path | None) -> Path:
    """A checkpoint path from a bundled name, a path, or ``None`` (the default model)."""
    if model is not None and (Path(model).suffix == ".pt" or os.sep in str(model)):
        return Path(model)
    name = str(model) if model is not None else DEFAULT_MODEL
    matches = [m for m in bundled_models() if m.name == name]
    if not matches:
        raise ModelError(
            f"no bundled model {name!r} in {weights_dir()}: the trained weights are missing "
            f"(reinstall avsep, or pass --model PATH to a checkpoint from 'avsep train')"
        )
    return matches[-1].path


def guide_head_file(directory: Path | None = None) -> Path | None:
    """The bundled guide head (:mod:`avsep.models.guide_head`), or None when none ships."""
    directory = directory or weights_dir()
    found = sorted(directory.glob(f"{GUIDE_HEAD}-*.pth")) if directory.is_dir() else []
    return found[-1] if found else None


def guide_head_sha256(head_file: Path) -> str | None:
    """The sha256 the guide head's card records for this file (None: no card names it)."""
    card = _read_card(head_file.with_name(GUIDE_HEAD + ".json"))
    digest = card.get("sha256")
    return digest if card.get("file") == head_file.name and isinstance(digest, str) else None
