"""What to export: the formats by name and the export settings (light: the command line reads them)."""

from __future__ import annotations

from dataclasses import dataclass

FORMATS = ("onnx", "openvino", "torchscript", "engine")


@dataclass(frozen=True)
class ExportSpec:
    """format: onnx, openvino, torchscript or engine (TensorRT); imgsz: square input side in pixels (rounded up to
    the stride by ultralytics); half: FP16; int8: INT8 (openvino, needs `data`); data: data.yaml for INT8
    calibration and parity images; dynamic: batch and image size left free in the graph (onnx, openvino)."""

    format: str = "onnx"
    imgsz: int = 640
    half: bool = False
    int8: bool = False
    data: str | None = None
    dynamic: bool = False

    @property
    def precision(self) -> str:
        """'int8', 'fp16' or 'fp32'."""
        return "int8" if self.int8 else "fp16" if self.half else "fp32"
