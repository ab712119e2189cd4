"""Inference backends behind one tiny interface: a float32 batch `[B, 3, H, W]` (RGB, 0-1) in, the raw output of
the detection head out, either `[B, 4 + nc (+ extra), anchors]` (boxes as cx, cy, w, h in input pixels, class
scores after sigmoid) or, for end-to-end heads, `[B, max_det, 6 (+ extra)]` (x1, y1, x2, y2, score, class).

A backend has `names` (class index -> name), `stride` (input sizes must be multiples of it), `end2end` (which of
the two layouts it returns) and `input_hw` (the input size it was prepared for; exported backends are built
for it). The backends subclass `Backend`; anything with these attributes and `__call__` works, e.g. a fake
backend in tests. `BACKENDS` declares the names (light: the command line lists them without loading torch);
each implementation registers itself, and `tinydet.infer.backends.load.load_backend` loads one by name.

A backend may also set `takes_uint8 = True`: its `__call__` then also accepts the tiles as they are cut, uint8
`[B, H, W, 3]` (RGB, 0-255), and converts them itself, faster where the conversion can run inside the compiled
model (OpenVINO). The sliced predictor hands such a backend uint8 tiles.
"""

from __future__ import annotations

import math

from tinydet.registry import Registry

BACKENDS = Registry("backend", declared={
    "torch": "PyTorch: the checkpoint's own module, fused (CPU, CUDA, MPS)",
    "onnxruntime": "ONNX Runtime: the checkpoint exported to ONNX once, cached beside it",
    "openvino": "OpenVINO: the checkpoint exported once, compiled per batch size (Intel CPUs)",
})


class Backend:
    """What every backend provides: class names, stride, output layout, prepared input size, and the call
    float32 `[B, 3, H, W]` (RGB, 0-1) -> raw head output (see the module docstring)."""

    names: dict[int, str]
    stride: int
    end2end: bool
    input_hw: tuple[int, int]
    takes_uint8 = False  # True: __call__ also takes uint8 [B, H, W, 3] RGB tiles and converts them itself

    def __call__(self, batch):  # pragma: no cover - the interface
        raise NotImplementedError


def round_to_stride(hw: tuple[int, int], stride: int) -> tuple[int, int]:
    """(height, width) rounded up to multiples of `stride`."""
    return tuple(int(math.ceil(v / stride) * stride) for v in hw)  # type: ignore[return-value]
