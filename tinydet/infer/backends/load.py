"""Loading a backend by name (`--backend`): importing this module registers every implementation."""

from __future__ import annotations

from pathlib import Path

from tinydet.errors import TinydetError
from tinydet.infer.backends import BACKENDS, Backend
from tinydet.infer.backends import ort, ov, pytorch  # noqa: F401  (each registers its backend)
from tinydet.infer.device import resolve_device


def load_backend(model: str | Path, kind: str, device: str | None, want_hw: tuple[int, int], half: bool = False,
                 nms_free: bool = False) -> Backend:
    """Load `model` (a .pt checkpoint) for `kind`, prepared for inputs of `want_hw` (rounded up to the stride).

    `half`: reduced precision where the hardware has it (fp16 for torch on CUDA; OpenVINO's native choice on
    CPU, bf16 with AMX); not available for onnxruntime or torch on CPU. `nms_free`: run a YOLO26-style model's
    end-to-end head (torch only).
    """
    BACKENDS.check(kind)
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
    return BACKENDS[kind].load(path, resolved, want_hw, half, nms_free)
