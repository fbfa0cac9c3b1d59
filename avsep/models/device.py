"""Choosing the torch device from a ``--device`` string, with one-line errors."""

from __future__ import annotations

import torch

from avsep.errors import InputError


def select_device(device: str) -> torch.device:
    """``auto`` picks CUDA when present; ``cuda`` without a GPU is a clear error."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise InputError(f"--device {device}: no CUDA GPU is available; use --device cpu")
    try:
        chosen = torch.device(device)
    except RuntimeError as exc:
        raise InputError(f"--device {device!r} is not a device (use auto, cpu or cuda[:N])") from exc
    if chosen.type == "cuda" and chosen.index is not None and chosen.index >= torch.cuda.device_count():
        raise InputError(f"--device {device}: there are {torch.cuda.device_count()} CUDA GPU(s), numbered from 0")
    return chosen
