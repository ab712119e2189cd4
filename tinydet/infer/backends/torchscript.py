"""The TorchScript backend: a `.torchscript` file written by ultralytics' exporter, run with `torch.jit.load`.

Used to check `tinydet export --format torchscript`; the same interface as the other backends (float32
`[B, 3, H, W]` in, the raw head output out).
"""

from __future__ import annotations

from pathlib import Path

import torch

from tinydet.infer.backends import Backend
from tinydet.infer.backends.export import names_from_meta


class TorchScriptBackend(Backend):
    def __init__(self, artifact: Path, meta: dict, device: torch.device = torch.device("cpu")):
        self.names, self.stride, self.end2end = names_from_meta(meta), meta["stride"], meta["end2end"]
        self.input_hw = tuple(meta["input_hw"])
        self.device = device
        self.module = torch.jit.load(str(artifact), map_location=device).eval()

    @torch.inference_mode()
    def __call__(self, batch: torch.Tensor) -> torch.Tensor:
        out = self.module(batch.to(self.device))
        return (out[0] if isinstance(out, (list, tuple)) else out).float()
