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
_FILE = re.compile(r"^(?P<name>.+)-(?P<hash>[0-9a-f]{8})\.pt$")


def weights_dir() -> Path:
    env = os.environ.get("AVSEP_WEIGHTS_DIR")
    return Path(env) if env else Path(__file__).resolve().parents[1] / "weights"


@dataclass(frozen=True)
class BundledModel:
    name: str
    path: Path
    short_hash: str
    card: dict


def bundled_models(directory: Path | None = None) -> list[BundledModel]:
    """Every ``<name>-<hash>.pt`` in the weights folder, with its card (empty if none)."""
    directory = directory or weights_dir()
    found = []
    for path in sorted(directory.glob("*.pt")) if directory.is_dir() else []:
        m = _FILE.match(path.name)
        if not m:
            continue
        card_path = path.with_name(m["name"] + ".json")
        card = json.loads(card_path.read_text()) if card_path.is_file() else {}
        found.append(BundledModel(m["name"], path, m["hash"], card))
    return found


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
