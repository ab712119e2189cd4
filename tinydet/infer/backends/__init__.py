"""Inference backends behind one tiny interface: a float32 batch `[B, 3, H, W]` (RGB, 0-1) in, the raw output of
the detection head out, either `[B, 4 + nc (+ extra), anchors]` (boxes as cx, cy, w, h in input pixels, class
scores after sigmoid) or, for end-to-end heads, `[B, max_det, 6 (+ extra)]` (x1, y1, x2, y2, score, class).

A backend has `names` (class index -> name), `stride` (input sizes must be multiples of it), `end2end` (which of
the two layouts it returns) and `input_hw` (the input size it was prepared for; exported backends are built
for it). Anything with these attributes and `__call__` works, e.g. a fake backend in tests.

A backend may also set `takes_uint8 = True`: its `__call__` then also accepts the tiles as they are cut, uint8
`[B, H, W, 3]` (RGB, 0-255), and converts them itself, faster where the conversion can run inside the compiled
model (OpenVINO). The sliced predictor hands such a backend uint8 tiles.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Protocol

import torch

from tinydet.errors import TinydetError

BACKENDS = ("torch", "onnxruntime", "openvino")


class Backend(Protocol):
    names: dict[int, str]
    stride: int
    end2end: bool
    input_hw: tuple[int, int]

    def __call__(self, batch: torch.Tensor) -> torch.Tensor: ...


def round_to_stride(hw: tuple[int, int], stride: int) -> tuple[int, int]:
    """(height, width) rounded up to multiples of `stride`."""
    return tuple(int(math.ceil(v / stride) * stride) for v in hw)  # type: ignore[return-value]


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


def load_backend(model: str | Path, kind: str, device: str | None, want_hw: tuple[int, int], half: bool = False,
                 nms_free: bool = False) -> Backend:
    """Load `model` (a .pt checkpoint) for `kind`, prepared for inputs of `want_hw` (rounded up to the stride).

    `half`: reduced precision where the hardware has it (fp16 for torch on CUDA; OpenVINO's native choice on
    CPU, bf16 with AMX); not available for onnxruntime or torch on CPU. `nms_free`: run a YOLO26-style model's
    end-to-end head (torch only).
    """
    if kind not in BACKENDS:
        raise TinydetError(f"unknown backend '{kind}' (choose from {', '.join(BACKENDS)})")
    path = Path(model)
    if path.suffix != ".pt":
        raise TinydetError(f"{path}: expected a .pt checkpoint (tinydet exports it for {kind} itself)")
    if not path.is_file():
        raise TinydetError(f"model not found: {path}")
    resolved = resolve_device(device)
    if half and (kind == "onnxruntime" or (kind == "torch" and resolved.type != "cuda")):
        raise TinydetError(f"--half is available with --backend openvino, or torch on a CUDA GPU; not {kind} on {resolved}")
    if nms_free and kind != "torch":
        raise TinydetError(f"--nms-free runs with --backend torch; {kind} runs the head the export kept")
    if kind == "torch":
        from tinydet.infer.backends.pytorch import TorchBackend

        return TorchBackend(path, resolved, want_hw, half, nms_free)
    if kind == "onnxruntime":
        from tinydet.infer.backends.ort import OnnxRuntimeBackend

        return OnnxRuntimeBackend(path, resolved, want_hw)
    from tinydet.infer.backends.ov import OpenVinoBackend

    return OpenVinoBackend(path, resolved, want_hw, half)
