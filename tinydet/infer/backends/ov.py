"""The OpenVINO backend (Intel CPUs and GPUs): compiled once per batch size and input kind, for a fixed input size.

Besides the float32 batch of the backend contract it takes the uint8 tiles themselves (`takes_uint8`): the
conversion to float and the layout change then run inside the compiled graph, which in bf16 (`half`, CPUs
with AMX) is faster than converting first (BENCHMARKS.md, "Sliced inference against SAHI").
"""

from __future__ import annotations

from pathlib import Path

import torch

from tinydet.errors import TinydetError
from tinydet.infer.backends import BACKENDS, Backend
from tinydet.infer.backends.export import exported, names_from_meta


@BACKENDS.register("openvino")
class OpenVinoBackend(Backend):
    takes_uint8 = True  # __call__ also takes uint8 [B, H, W, 3] RGB (see tinydet.infer.backends)

    def __init__(self, path: Path, device: torch.device, want_hw: tuple[int, int], half: bool = False):
        try:
            import openvino  # noqa: F401  (a clear error before exporting)
        except ImportError:
            raise TinydetError("--backend openvino needs the openvino package (pip install 'tinydet[export]')") from None
        if device.type not in ("cpu",):
            raise TinydetError(f"--backend openvino runs on the CPU here; got --device {device}")
        artifact, meta = exported(path, "openvino", want_hw)
        self._open(artifact, meta, half)

    @classmethod
    def load(cls, path: Path, device: torch.device, want_hw: tuple[int, int], half: bool, nms_free: bool) -> OpenVinoBackend:
        """The registry's way in (`load_backend`, which has checked `half` and `nms_free` already)."""
        return cls(path, device, want_hw, half)

    @classmethod
    def from_artifact(cls, artifact: Path, meta: dict, half: bool = False) -> OpenVinoBackend:
        """A backend for an OpenVINO model.xml exported elsewhere (`tinydet export`), on the CPU."""
        self = cls.__new__(cls)
        self._open(Path(artifact), meta, half)
        return self

    def _open(self, artifact: Path, meta: dict, half: bool) -> None:
        import openvino as ov  # optional: tinydet[export]

        self.names, self.stride, self.end2end = names_from_meta(meta), meta["stride"], meta["end2end"]
        self.input_hw = tuple(meta["input_hw"])
        self._core = ov.Core()
        self._xml = artifact
        self._compiled: dict[tuple[int, bool], object] = {}  # (batch size, uint8 input) -> compiled model
        self._half = half
        # torch's thread count now, when the backend is made: models compile lazily, per batch size, and by then
        # other code (ultralytics' predictor setup) may have changed torch's count
        self.threads = torch.get_num_threads()

    def _for_batch(self, n: int, uint8: bool):
        compiled = self._compiled.get((n, uint8))
        if compiled is None:
            import openvino as ov  # optional: tinydet[export]

            model = self._core.read_model(str(self._xml))
            model.reshape({model.inputs[0].any_name: [n, 3, *self.input_hw]})
            if uint8:
                from openvino.preprocess import PrePostProcessor  # optional: tinydet[export]

                ppp = PrePostProcessor(model)
                ppp.input().tensor().set_element_type(ov.Type.u8).set_layout(ov.Layout("NHWC"))
                ppp.input().preprocess().convert_element_type(ov.Type.f32).scale(255.0)
                ppp.input().model().set_layout(ov.Layout("NCHW"))
                model = ppp.build()
            # torch's thread budget when the backend was made; f32 unless half: on CPUs with AMX, OpenVINO would
            # otherwise run in bf16 (boxes off by up to a pixel)
            config = {"PERFORMANCE_HINT": "LATENCY", "INFERENCE_NUM_THREADS": self.threads}
            if not self._half:
                config["INFERENCE_PRECISION_HINT"] = "f32"
            compiled = self._core.compile_model(model, "CPU", config)
            self._compiled[(n, uint8)] = compiled
        return compiled

    def __call__(self, batch: torch.Tensor) -> torch.Tensor:
        """float32 [B, 3, H, W] RGB in 0-1, or uint8 [B, H, W, 3] RGB in 0-255 -> raw head output."""
        uint8 = batch.dtype == torch.uint8
        if uint8 and (batch.ndim != 4 or batch.shape[-1] != 3):
            raise ValueError(f"uint8 input must be [B, H, W, 3], got {list(batch.shape)}")
        compiled = self._for_batch(batch.shape[0], uint8)
        out = compiled(batch.cpu().contiguous().numpy())[compiled.output(0)]
        return torch.from_numpy(out.copy())
