"""Where the bundled models live and which one is the default.

Bundled models are ``weights/<name>-<first 8 hex of the weights' sha256>.pt`` with a model
card ``weights/<name>.json`` beside them. ``AVSEP_WEIGHTS_DIR`` points elsewhere (tests, or a
user's own collection). Nothing here downloads anything: the tool works offline.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from avsep.errors import ModelError

DEFAULT_MODEL = "avsep-pcn"
#: The hash part is checked against the weights when the file is loaded (serialize.py).
_FILE = re.compile(r"^(?P<name>.+)-[0-9a-f]{8}\.pt$")


def weights_dir() -> Path:
    """The folder searched for bundled models: ``$AVSEP_WEIGHTS_DIR`` or the package's own."""
    env = os.environ.get("AVSEP_WEIGHTS_DIR")
    return Path(env) if env else Path(__file__).resolve().parents[1] / "weights"


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
        m = _FILE.match(path.name)
        if not m:
            continue
        found.append(BundledModel(m["name"], path, _read_card(path.with_name(m["name"] + ".json"))))
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
