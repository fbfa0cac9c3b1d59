"""Checkpoint files: weights plus everything needed to rebuild and trust them.

A checkpoint is a ``torch.save`` dict that loads with ``weights_only=True`` (no pickled code):
the architecture name and its config (so the file rebuilds its own network), the visual trunk it
was trained with, a free-form training summary, the package version, and the sha256 of the
weights (key ``sha256``: a hash of the tensors, which a file cannot carry of itself).

Two hashes, two jobs. The *file* sha256 (what ``sha256sum`` prints) is what users check: a
bundled file's name carries its first 8 hex digits (demucs and torch.hub style) and its model
card the whole digest; both are compared with the bytes before anything is unpickled. The
*weights* sha256 inside the file is checked on every load, so a training checkpoint, which has
no hash in its name, is still refused when its tensors were altered.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import torch
from torch import nn

from avsep._version import __version__
from avsep.errors import ModelError
from avsep.io.atomic import atomic_write
from avsep.models.guide import LABEL_OTHER
from avsep.models.guide_head import GuideHead, HeadConfig
from avsep.models.pcn import PCN, PCNConfig
from avsep.models.sop import SoP, SoPConfig
from avsep.models.weights import bundled_name, guide_head_sha256, name_sha8, recorded_sha256

FORMAT = "avsep-checkpoint"
FORMAT_VERSION = 1


def _registry() -> dict[str, tuple[type[nn.Module], Any]]:
    """Architectures by name; imported lazily so the baseline is only loaded when used."""

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
    """A loaded checkpoint: the network plus its metadata.

    ``sha256`` is the file's digest (as ``sha256sum`` prints it), ``weights_sha256`` the hash of
    the tensors recorded inside it.
    """

    model: nn.Module
    arch: str
    config: dict
    backbone: str
    sha256: str
    weights_sha256: str
    training: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)
    #: the kind of visual guide the network was trained with (avsep.models.guide)
    guide: str = "features"
    #: what the separation multiplies the guides by where several boxes compete for the
    #: mixture (avsep.train.guide_gain; 1: as trained)
    guide_gain: float = 1.0

    @property
    def parameters(self) -> int:
        """The network's parameter count (the trunk is not in the file, so not counted)."""
        return sum(p.numel() for p in self.model.parameters())


def widened_to_other(ck: Checkpoint) -> Checkpoint:
    """A ``label`` network as a ``label-other`` one (:data:`avsep.models.guide.LABEL_KINDS`):
    its guide projection ``visual`` gains the ``other`` column, started as the mean of the 11
    (an average instrument), so the widened network separates the 11 exactly as before and
    starts "other" from what is common to them. The one widening ``--init`` and ``average``
    accept; anything else must match."""
    if ck.guide != "label":
        raise ValueError(f"only a label model widens to label-other, not a {ck.guide} one")
    state = ck.model.state_dict()
    w = state["visual.weight"]
    state["visual.weight"] = torch.cat([w, w.mean(dim=1, keepdim=True)], dim=1)
    config = {**ck.config, "visual_dim": ck.config["visual_dim"] + 1}
    model = build_model(ck.arch, config)
    model.load_state_dict(state)
    return replace(ck, model=model, config=config, guide=LABEL_OTHER)


def save_checkpoint(
    path: str | Path,
    model: nn.Module,
    *,
    backbone: str,
    guide: str = "features",
    training: dict | None = None,
    extra: dict | None = None,
    guide_gain: float = 1.0,
) -> str:
    """Write ``model`` atomically to ``path``; returns the sha256 of the file written.

    The file digest is what a bundled file's name and card carry (see the module docstring);
    it is taken from the very bytes written, so it matches ``sha256sum path``.
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
        "guide_gain": float(guide_gain),
        "training": training or {},
        "sha256": digest,
        "state_dict": state,
        "extra": extra or {},
    }
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    data = buffer.getvalue()
    atomic_write(path, lambda f: f.write(data))
    return hashlib.sha256(data).hexdigest()


def save_like(
    path: str | Path, ck: Checkpoint, *, training: dict | None = None, guide_gain: float | None = None
) -> str:
    """Write ``ck``'s network with all of its metadata but the resumable state to ``path``,
    ``training`` and ``guide_gain`` replacing its own where given; returns the file's sha256.
    Why: a file made from another (an average, a bundle, a gained model) must keep every field
    of its parent, and a field added to the format is then carried in one place."""
    return save_checkpoint(
        path,
        ck.model,
        backbone=ck.backbone,
        guide=ck.guide,
        training=ck.training if training is None else training,
        guide_gain=ck.guide_gain if guide_gain is None else guide_gain,
    )


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> Checkpoint:
    """Load and verify a checkpoint; every failure is a one-line :class:`ModelError`."""
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"{path}: model file not found; pass --model PATH or reinstall avsep")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ModelError(f"{path}: cannot read the model file ({exc.strerror}); check its permissions") from None
    file_digest = hashlib.sha256(data).hexdigest()
    _check_file_digest(path, file_digest, data)
    payload = _unpickle(path, data, map_location)
    state = payload["state_dict"]
    digest = weights_sha256(state)
    if digest != payload.get("sha256"):
        raise ModelError(
            f"{path}: sha256 of the weights does not match the recorded hash "
            f"(file corrupt or modified); re-download or retrain it"
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
        sha256=file_digest,
        weights_sha256=digest,
        training=payload.get("training", {}),
        extra=payload.get("extra", {}),
        guide_gain=float(payload.get("guide_gain", 1.0)),  # files from before the gain existed
    )


def _unpickle(path: Path, data: bytes, map_location: str | torch.device) -> dict:
    """The checkpoint dict in ``data``, or a :class:`ModelError` saying what the file is not."""
    try:
        payload = torch.load(io.BytesIO(data), map_location=map_location, weights_only=True)
    except Exception as exc:  # torch raises many types for corrupt or foreign files
        raise ModelError(f"{path}: not a readable avsep checkpoint ({type(exc).__name__})") from exc
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ModelError(f"{path}: not an avsep checkpoint (no '{FORMAT}' header)")
    if payload.get("format_version", 0) > FORMAT_VERSION:
        raise ModelError(f"{path}: written by a newer avsep; upgrade avsep to load it")
    return payload


def _check_file_digest(path: Path, digest: str, data: bytes) -> None:
    """The file's sha256 against its name's 8 hex digits and its model card's full digest.

    Checked on the bytes before they are unpickled. A name that carries the hash of the
    *tensors* (how avsep named bundled files before the name became the file's hash) is told
    apart from a damaged file, because the fix differs: rename or re-bundle, not re-download.
    """
    prefix = name_sha8(path)
    if prefix is not None and not digest.startswith(prefix):
        try:
            old_style = weights_sha256(_unpickle(path, data, "cpu")["state_dict"]).startswith(prefix)
        except (ModelError, KeyError, TypeError, RuntimeError):
            old_style = False
        if old_style:
            raise ModelError(
                f"{path}: its name carries the hash of the weights (older avsep), not of the file; "
                f"rename it to {bundled_name(path)}-{digest[:8]}.pt or bundle it again "
                f"with 'avsep bundle'"
            )
        raise ModelError(
            f"{path}: file name says sha256 {prefix}… but the file's sha256 is {digest[:8]}… "
            f"(as sha256sum prints it); the file was replaced or corrupted: reinstall avsep or "
            f"re-download it"
        )
    recorded = recorded_sha256(path)
    if recorded is not None and recorded != digest:
        raise ModelError(
            f"{path}: its model card records sha256 {recorded[:8]}… but the file's sha256 is "
            f"{digest[:8]}…; the file or its card was replaced: reinstall avsep or re-download both"
        )


def load_guide_head(path: str | Path) -> GuideHead:
    """Load and verify a guide head file (:func:`avsep.train.guide_head.save_head`): its sha256
    against its name's 8 hex digits and its card; every failure is a one-line ModelError."""

    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ModelError(f"{path}: cannot read the guide head ({exc.strerror}); reinstall avsep") from None
    digest = hashlib.sha256(data).hexdigest()
    recorded = guide_head_sha256(path)
    if not path.stem.endswith(digest[:8]) or (recorded is not None and recorded != digest):
        raise ModelError(f"{path}: the guide head's sha256 does not match its name or card (file damaged); reinstall")
    try:
        payload = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
        if payload.get("format") != "avsep-guide-head/1":
            raise ValueError("no avsep-guide-head/1 header")
        config = dict(payload["config"])
        head = GuideHead(HeadConfig(**{**config, "classes": tuple(config["classes"])}))
        head.load_state_dict(payload["state_dict"])
    except Exception as exc:  # a foreign or damaged file: torch raises many types
        raise ModelError(f"{path}: not an avsep guide head ({type(exc).__name__}: {exc}); reinstall avsep") from None
    return head.eval().requires_grad_(False)  # read, not trained: no autograd for its stage either
