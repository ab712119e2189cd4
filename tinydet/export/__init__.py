"""Export and deployment checks: ONNX / OpenVINO / TorchScript (/ TensorRT on a GPU) exports through
ultralytics' exporter, a parity check against PyTorch, INT8 post-training quantization (OpenVINO + NNCF) with
its mAP and speed cost, and a latency benchmark over the inference backends.

    from tinydet.export import ExportSpec, export_model, bench

`FORMATS` and `ExportSpec` are light; the other names load torch, so they are imported on first use (the
command line reads FORMATS without loading torch).
"""

from __future__ import annotations

from tinydet.export.spec import FORMATS, ExportSpec

__all__ = ["FORMATS", "TOLERANCES", "Artifact", "BenchRow", "ExportReport", "ExportSpec", "Latency", "ParityResult",
           "Tolerance", "bench", "export_checkpoint", "export_model", "format_table"]


def __getattr__(name: str):
    """The heavy names of `__all__`, imported when first used (PEP 562)."""
    if name in ("ExportReport", "export_model"):
        from tinydet.export import api as module  # lazy: loads torch and ultralytics
    elif name in ("Artifact", "export_checkpoint"):
        from tinydet.export import artifact as module  # lazy: loads torch and ultralytics
    elif name in ("BenchRow", "Latency", "bench", "format_table"):
        from tinydet.export import bench as module  # lazy: loads torch
    elif name in ("TOLERANCES", "ParityResult", "Tolerance"):
        from tinydet.export import parity as module  # lazy: loads torch
    else:
        raise AttributeError(f"module 'tinydet.export' has no attribute '{name}'")
    return getattr(module, name)
