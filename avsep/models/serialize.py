"""Checkpoint files: weights plus everything needed to rebuild and trust them.

A checkpoint is a ``torch.save`` dict that loads with ``weights_only=True`` (no pickled code):
the architecture name and its config (so the file rebuilds its own network), the visual trunk it
was trained with, a free-form training summary, the package version, and the sha256 of the
weights. Loading recomputes the hash and refuses a file whose weights were altered or truncated;
a bundled file's name also carries the first 8 hex digits of that hash (demucs style), which is
checked too.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from avsep._version import __version__
from avsep.atomic import atomic_write
from avsep.errors import ModelError
from avsep.models.pcn import PCN, PCNConfig

FORMAT = "avsep-checkpoint"
FORMAT_VERSION = 1
_NAME_HASH = re.compile(r"-([0-9a-f]{8})\.pt$")


def _registry() -> dict[str, tuple[type[nn.Module], Any]]:
    """Architectures by name; imported lazily so the baseline is only loaded when used."""
    from avsep.models.sop import SoP, SoPConfig

    return {"pcn": (PCN, PCNConfig), "sop": (SoP, SoPConfig)}


def build_model(arch: str, config: dict) -> nn.Module:
    """A fresh network of architecture ``arch`` from its config dict."""
    registry = _registry()
    if arch not in registry:
        raise ModelError(f"unknown architecture {arch!r}; expected one of {sorted(registry)}")
    cls, cfg_cls = registry[arch]
    return cls(cfg_cls.from_dict(config))


def weights_sha256(state_dict: dict[str, torch.Tensor]) -> str:
    """Hash of the weights alone (names, dtypes, shapes, bytes), independent of pickling."""
    h = hashlib.sha256()
    for name in sorted(state_dict):
        t = state_dict[name].detach().to("cpu").contiguous()
        h.update(name.encode())
        h.update(str(t.dtype).encode())
        h.update(str(tuple(t.shape)).encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return h.hexdigest()


@dataclass
class Checkpoint:
    """A loaded checkpoint: the network plus its metadata."""

    model: nn.Module
    arch: str
    config: dict
    backbone: str
    sha256: str
    training: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)
    #: the kind of visual guide the network was trained with (avsep.models.guide)
    guide: str = "features"


def save_checkpoint(
    path: str | Path,
    model: nn.Module,
    *,
    backbone: str,
    guide: str = "features",
    training: dict | None = None,
    extra: dict | None = None,
) -> str:
    """Write ``model`` atomically to ``path``; returns the weights' sha256.

    ``extra`` carries resumable state (optimizer, scheduler, step) for training checkpoints;
    shipped models leave it empty to stay small.
    """
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    digest = weights_sha256(state)
    payload = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "avsep_version": __version__,
        "arch": model.arch,
        "config": model.config.to_dict(),
        "backbone": backbone,
        "guide": guide,
        "training": training or {},
        "sha256": digest,
        "state_dict": state,
        "extra": extra or {},
    }
    atomic_write(path, lambda f: torch.save(payload, f))
    return digest


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> Checkpoint:
    """Load and verify a checkpoint; every failure is a one-line :class:`ModelError`."""
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"{path}: model file not found; pass --model PATH or reinstall avsep")
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # torch raises many types for corrupt or foreign files
        raise ModelError(f"{path}: not a readable avsep checkpoint ({type(exc).__name__})") from exc
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ModelError(f"{path}: not an avsep checkpoint (no '{FORMAT}' header)")
    if payload.get("format_version", 0) > FORMAT_VERSION:
        raise ModelError(f"{path}: written by a newer avsep; upgrade avsep to load it")
    state = payload["state_dict"]
    digest = weights_sha256(state)
    if digest != payload.get("sha256"):
        raise ModelError(
            f"{path}: sha256 of the weights does not match the recorded hash "
            f"(file corrupt or modified); re-download or retrain it"
        )
    named = _NAME_HASH.search(path.name)
    if named and not digest.startswith(named.group(1)):
        raise ModelError(
            f"{path}: file name says sha256 {named.group(1)}… but the weights hash to "
            f"{digest[:8]}…; the file was replaced or corrupted"
        )
    try:
        model = build_model(payload["arch"], payload["config"])
        model.load_state_dict(state)
    except (TypeError, ValueError, RuntimeError) as exc:
        raise ModelError(
            f"{path}: its weights do not fit the {payload['arch']} network it describes "
            f"({type(exc).__name__}); it was written by an incompatible avsep version"
        ) from None
    model.eval()
    return Checkpoint(
        model=model,
        arch=payload["arch"],
        config=payload["config"],
        backbone=payload["backbone"],
        guide=payload.get("guide", "features"),  # files from before guide kinds existed
        sha256=digest,
        training=payload.get("training", {}),
        extra=payload.get("extra", {}),
    )
