"""The PyTorch backend: the checkpoint's own nn.Module, fused, in eval mode."""

from __future__ import annotations

from copy import deepcopy
from pathlib import Path

import torch

from tinydet.infer.backends import BACKENDS, Backend, round_to_stride
from tinydet.integrations.ultralytics.builder import select_nms_free_head
from tinydet.integrations.ultralytics.checkpoints import load_detect_yolo
from tinydet.models.zoo import resolve_model


def load_yolo(path: str | Path):
    """An ultralytics YOLO for a detection (or pose) checkpoint, with a clear error for anything else."""
    return load_detect_yolo(Path(resolve_model(path)))


def head_info(yolo) -> tuple[dict[int, str], int, bool]:
    """(names, stride, end2end) of a loaded YOLO."""
    return module_head_info(yolo.model, dict(yolo.names))


def module_head_info(module: torch.nn.Module, names: dict) -> tuple[dict[int, str], int, bool]:
    """(names, stride, end2end) of an ultralytics model module whose class names are `names`."""
    names = {int(k): str(v) for k, v in dict(names).items()}
    stride = int(max(module.stride.tolist())) if hasattr(module, "stride") else 32
    end2end = bool(getattr(module.model[-1], "end2end", False))
    return names, stride, end2end


@BACKENDS.register("torch")
class TorchBackend(Backend):
    """A detection (or pose) model in eval mode, fused; `__call__`: float32 `[B, 3, H, W]` -> raw head output.
    `nms_free`: a YOLO26-style head's end-to-end branch (`[B, K, 6]` top-k boxes) instead of the one-to-many."""

    def __init__(self, path: Path, device: torch.device, want_hw: tuple[int, int], half: bool = False,
                 nms_free: bool = False):
        yolo = load_yolo(path)
        if nms_free:
            select_nms_free_head(yolo.model, path)  # before fusing, which drops the other branch
        yolo.fuse()
        self._setup(yolo.model, head_info(yolo), device, want_hw, half)

    @classmethod
    def load(cls, path: Path, device: torch.device, want_hw: tuple[int, int], half: bool, nms_free: bool) -> TorchBackend:
        """The registry's way in (`load_backend`)."""
        return cls(path, device, want_hw, half, nms_free)

    @classmethod
    def from_module(cls, module: torch.nn.Module, device: torch.device, want_hw: tuple[int, int]) -> "TorchBackend":
        """A backend for a model in memory (ultralytics DetectionModel / PoseModel, e.g. a trainer's EMA), run as
        its checkpoint would be: a copy with fp16-rounded weights (checkpoints store fp16), fused. `module` is
        not changed."""
        copy = deepcopy(module).half().float()
        if hasattr(copy, "criterion"):
            copy.criterion = None  # training-only state, not needed to predict
        copy.fuse(verbose=False)
        backend = cls.__new__(cls)
        backend._setup(copy, module_head_info(copy, copy.names), device, want_hw)
        return backend

    def _setup(self, model: torch.nn.Module, info: tuple[dict[int, str], int, bool], device: torch.device,
               want_hw: tuple[int, int], half: bool = False) -> None:
        self.names, self.stride, self.end2end = info
        self.input_hw = round_to_stride(want_hw, self.stride)
        self.device = device
        self.dtype = torch.float16 if half else torch.float32
        self.model = model.to(device, self.dtype).eval()

    @torch.inference_mode()
    def __call__(self, batch: torch.Tensor) -> torch.Tensor:
        out = self.model(batch.to(self.device, self.dtype, non_blocking=True))
        return (out[0] if isinstance(out, (list, tuple)) else out).float()
