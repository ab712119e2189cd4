"""`export_model`: export a checkpoint, check the export against PyTorch, and (INT8) measure what it cost.

    report = export_model("best.pt", ExportSpec(format="onnx", imgsz=640))
    print(report.parity.summary())
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import torch

from tinydet.export import parity as P
from tinydet.export.artifact import Artifact, ExportSpec, check_spec, export_checkpoint
from tinydet.export.int8 import Int8Report, int8_report
from tinydet.export.parity import ParityResult
from tinydet.export.runtime import dataset_images, open_artifact, synthetic_images
from tinydet.infer.backends.pytorch import TorchBackend
from tinydet.integrations.ultralytics.runtime import quiet_logs


@dataclass(frozen=True)
class ExportReport:
    """artifact: what was written; parity: None when not run (TensorRT); int8: None unless --int8."""

    artifact: Artifact
    parity: ParityResult | None
    int8: Int8Report | None


def export_model(checkpoint: str | Path, spec: ExportSpec, out: str | Path | None = None, check: bool = True,
                 parity_images: int = 4, conf: float = 0.25) -> ExportReport:
    """Export, then compare the export with the checkpoint on `parity_images` images (the val split of
    `spec.data`, else synthetic ones) and raise TinydetError when parity fails and `check` is set; the failed
    export is deleted then. conf: confidence threshold of the final boxes compared."""
    checkpoint = Path(checkpoint)
    check_spec(checkpoint, spec)
    if spec.format != "engine":  # a bad --data stops before anything is written
        images = dataset_images(spec.data, parity_images) if spec.data else synthetic_images(parity_images, spec.imgsz)
    with quiet_logs():
        artifact = export_checkpoint(checkpoint, spec, out)
    if spec.format == "engine":
        return ExportReport(artifact, None, None)
    try:  # a failed command leaves no export behind
        with quiet_logs():
            exported = open_artifact(artifact)
            reference = TorchBackend(checkpoint, torch.device("cpu"), (spec.imgsz, spec.imgsz))
        result = P.compare(reference, exported, images, spec.imgsz, spec.precision, conf=conf)
        if check and result.failures:
            P.check(result, str(artifact.path))
        report_int8 = None
        if spec.int8:
            with quiet_logs():  # the FP32 baseline is exported here too
                report_int8 = int8_report(checkpoint, exported, spec.data, spec.imgsz)
    except BaseException:
        _remove(artifact.path)
        raise
    return ExportReport(artifact, result, report_int8)


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
