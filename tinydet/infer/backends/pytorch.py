"""The PyTorch backend: the checkpoint's own nn.Module, fused, in eval mode."""

from __future__ import annotations

from pathlib import Path

import torch

from tinydet.errors import TinydetError
from tinydet.infer.backends import round_to_stride


def load_yolo(path: Path):
    """An ultralytics YOLO for a detection (or pose) checkpoint, with a clear error for anything else."""
    from tinydet.infer.full import load_model

    try:
        yolo = load_model(path)
    except TinydetError:
        raise
    except Exception as e:  # a corrupt or foreign file fails deep inside torch.load / ultralytics
        raise TinydetError(f"{path}: cannot load as an ultralytics checkpoint ({type(e).__name__}: {e})") from None
    if yolo.task not in ("detect", "pose"):
        raise TinydetError(f"{path}: a '{yolo.task}' model; sliced prediction needs a detection (or pose) model")
    return yolo


def head_info(yolo) -> tuple[dict[int, str], int, bool]:
    """(names, stride, end2end) of a loaded YOLO."""
    module = yolo.model
    names = {int(k): str(v) for k, v in dict(yolo.names).items()}
    stride = int(max(module.stride.tolist())) if hasattr(module, "stride") else 32
    end2end = bool(getattr(module.model[-1], "end2end", False))
    return names, stride, end2end


class TorchBackend:
    def __init__(self, path: Path, device: torch.device, want_hw: tuple[int, int], half: bool = False):
        yolo = load_yolo(path)
        yolo.fuse()
        self.names, self.stride, self.end2end = head_info(yolo)
        self.input_hw = round_to_stride(want_hw, self.stride)
        self.device = device
        self.dtype = torch.float16 if half else torch.float32
        self.model = yolo.model.to(device, self.dtype).eval()

    @torch.inference_mode()
    def __call__(self, batch: torch.Tensor) -> torch.Tensor:
        out = self.model(batch.to(self.device, self.dtype, non_blocking=True))
        return (out[0] if isinstance(out, (list, tuple)) else out).float()
