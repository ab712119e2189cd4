"""The ONNX Runtime backend (CPU, or CUDA when asked for and available)."""

from __future__ import annotations

from pathlib import Path

import torch

from tinydet.errors import TinydetError
from tinydet.infer.backends import BACKENDS, Backend
from tinydet.infer.backends.export import exported, names_from_meta


@BACKENDS.register("onnxruntime")
class OnnxRuntimeBackend(Backend):
    def __init__(self, path: Path, device: torch.device, want_hw: tuple[int, int]):
        try:
            import onnxruntime  # noqa: F401  (a clear error before exporting)
        except ImportError:
            raise TinydetError("--backend onnxruntime needs the onnxruntime package (pip install 'tinydet[export]')") from None
        artifact, meta = exported(path, "onnx", want_hw)
        self._open(artifact, meta, device)

    @classmethod
    def load(cls, path: Path, device: torch.device, want_hw: tuple[int, int], half: bool, nms_free: bool) -> OnnxRuntimeBackend:
        """The registry's way in (`load_backend`, which has checked `half` and `nms_free` already)."""
        return cls(path, device, want_hw)

    @classmethod
    def from_artifact(cls, artifact: Path, meta: dict, device: torch.device = torch.device("cpu")) -> OnnxRuntimeBackend:
        """A backend for an ONNX file exported elsewhere (`tinydet export`); `meta` as `exported()` returns it."""
        self = cls.__new__(cls)
        self._open(Path(artifact), meta, device)
        return self

    def _open(self, artifact: Path, meta: dict, device: torch.device) -> None:
        import onnxruntime as ort  # optional: tinydet[export]

        self.names, self.stride, self.end2end = names_from_meta(meta), meta["stride"], meta["end2end"]
        self.input_hw = tuple(meta["input_hw"])
        options = ort.SessionOptions()
        options.intra_op_num_threads = torch.get_num_threads()  # the same budget as torch
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        providers = ["CPUExecutionProvider"]
        if device.type == "cuda":
            if "CUDAExecutionProvider" not in ort.get_available_providers():
                raise TinydetError("this onnxruntime has no CUDA support; use --device cpu or --backend torch")
            providers.insert(0, ("CUDAExecutionProvider", {"device_id": device.index or 0}))
        self.session = ort.InferenceSession(str(artifact), options, providers=providers)
        self.input_name = self.session.get_inputs()[0].name

    def __call__(self, batch: torch.Tensor) -> torch.Tensor:
        (out, *_) = self.session.run(None, {self.input_name: batch.cpu().contiguous().numpy()})
        return torch.from_numpy(out)
