"""Which torch device a `--device` argument names, with a clear error for one this machine lacks."""

from __future__ import annotations

import torch

from tinydet.errors import TinydetError


def resolve_device(device: str | None) -> torch.device:
    """'cpu', '0', '0,1' (first is used), 'cuda:1', 'mps' or None (first GPU if any, else CPU)."""
    if device is None or device == "":
        return torch.device("cuda:0" if torch.cuda.is_available() else "cpu")
    text = str(device).strip().lower()
    if text.split(",")[0].isdigit():
        text = f"cuda:{text.split(',')[0]}"
    try:
        resolved = torch.device(text)
    except RuntimeError:
        raise TinydetError(f"unknown device '{device}' (use cpu, 0, cuda:0 or mps)") from None
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise TinydetError(f"device '{device}' asked for, but no CUDA GPU is available here (use --device cpu)")
    count = torch.cuda.device_count() if resolved.type == "cuda" else 0
    if resolved.type == "cuda" and resolved.index is not None and resolved.index >= count:
        raise TinydetError(f"device '{device}': this machine has {count} CUDA GPU(s), numbered from 0")
    return resolved
