"""Export and deployment checks: ONNX / OpenVINO / TorchScript (/ TensorRT on a GPU) exports through
ultralytics' exporter, a parity check against PyTorch, INT8 post-training quantization (OpenVINO + NNCF) with
its mAP and speed cost, and a latency benchmark over the inference backends.

    from tinydet.export import ExportSpec, export_model, bench
"""

from tinydet.export.api import ExportReport, export_model
from tinydet.export.artifact import FORMATS, Artifact, ExportSpec, export_checkpoint
from tinydet.export.bench import BenchRow, Latency, bench, format_table
from tinydet.export.parity import TOLERANCES, ParityResult, Tolerance

__all__ = ["FORMATS", "TOLERANCES", "Artifact", "BenchRow", "ExportReport", "ExportSpec", "Latency", "ParityResult",
           "Tolerance", "bench", "export_checkpoint", "export_model", "format_table"]
