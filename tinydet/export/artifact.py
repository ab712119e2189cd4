"""Exporting a checkpoint with ultralytics' public `YOLO.export()` and placing the result where the user asked.

The checkpoint is copied into a fresh folder beside the destination and exported there, so ultralytics never
writes next to the user's file; the finished file or folder is then renamed onto the destination in one step,
so an interrupted export leaves no half-written model behind. ONNX exports are simplified (onnxslim).

Precision: `half` is ultralytics' `quantize=16` (FP16 weights; on CPU, ONNX keeps float32 inputs and outputs
and OpenVINO compresses weights); `int8` is `quantize=8` for OpenVINO, post-training quantization by NNCF
calibrated on the `val` split of `data`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import torch

from tinydet.errors import TinydetError
from tinydet.export.spec import FORMATS, ExportSpec
from tinydet.infer.backends import round_to_stride
from tinydet.infer.backends.export import exported_end2end
from tinydet.infer.backends.pytorch import head_info, load_yolo
from tinydet.logs import warnings_only


@dataclass(frozen=True)
class Artifact:
    """An exported model: `path` (the file or folder written), `runnable` (the file a runtime opens: the .onnx,
    the OpenVINO .xml, the .torchscript or the .engine) and `meta` (names, stride, end2end, input_hw, format,
    precision), the metadata the backends take."""

    path: Path
    runnable: Path
    meta: dict


def check_spec(checkpoint: Path, spec: ExportSpec) -> None:
    """Reject impossible combinations before anything is loaded; every message names what to change."""
    if spec.format not in FORMATS:
        raise TinydetError(f"unknown export format '{spec.format}' (choose from {', '.join(FORMATS)})")
    if checkpoint.suffix != ".pt":
        raise TinydetError(f"{checkpoint}: expected a .pt checkpoint")
    if not checkpoint.is_file():
        raise TinydetError(f"checkpoint not found: {checkpoint}")
    if spec.imgsz < 32:
        raise TinydetError(f"--imgsz must be at least 32, got {spec.imgsz}")
    if spec.format == "engine" and not torch.cuda.is_available():
        raise TinydetError(
            "TensorRT (--format engine) needs an NVIDIA GPU with CUDA and the tensorrt package; no CUDA GPU is "
            "available here. Export --format onnx and build the engine on the target machine (e.g. with trtexec)"
        )
    if spec.half and spec.int8:
        raise TinydetError("--half and --int8 exclude each other: choose one precision")
    if spec.int8:
        if spec.format != "openvino":
            raise TinydetError(f"--int8 is supported for --format openvino (NNCF), not {spec.format}")
        if not spec.data:
            raise TinydetError("--int8 needs --data: the data.yaml whose val images calibrate the quantization")
    if spec.data and not Path(spec.data).is_file():
        raise TinydetError(f"dataset not found: {spec.data}")
    if spec.half and spec.format == "torchscript" and not torch.cuda.is_available():
        raise TinydetError("--half with --format torchscript needs a CUDA GPU (ultralytics traces it in FP16 there)")


def default_out(checkpoint: Path, spec: ExportSpec) -> Path:
    """Where an export goes when --out is not given: beside the checkpoint, named like ultralytics names it
    (`best.onnx`, `best_openvino_model/`, `best_int8_openvino_model/`, `best.torchscript`, `best.engine`)."""
    stem = checkpoint.stem
    if spec.format == "openvino":
        return checkpoint.with_name(f"{stem}_{'int8_' if spec.int8 else ''}openvino_model")
    return checkpoint.with_name(f"{stem}.{spec.format}")


def _runnable(path: Path, fmt: str) -> Path:
    if fmt == "openvino":
        found = sorted(path.glob("*.xml"))
        if not found:
            raise TinydetError(f"{path}: the OpenVINO export holds no .xml model")
        return found[0]
    return path


def export_checkpoint(checkpoint: str | Path, spec: ExportSpec, out: str | Path | None = None) -> Artifact:
    """Export `checkpoint` as `spec` says to `out` (default: `default_out`), replacing what is there."""
    checkpoint = Path(checkpoint)
    check_spec(checkpoint, spec)
    out = Path(out) if out is not None else default_out(checkpoint, spec)
    if out.resolve() == checkpoint.resolve():
        raise TinydetError(f"{out}: --out is the checkpoint itself; choose another path")
    if spec.format == "openvino" and out.exists() and not out.is_dir():
        raise TinydetError(f"{out}: an OpenVINO export is a folder, but a file of that name exists")
    if spec.format != "openvino" and out.is_dir():
        raise TinydetError(f"{out}: a folder exists where the {spec.format} file should go")
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        shutil.copyfile(checkpoint, work / "model.pt")
        try:
            yolo = load_yolo(work / "model.pt")
        except TinydetError as e:  # it names the copy; the user knows their file
            raise TinydetError(str(e).replace(str(work / "model.pt"), str(checkpoint))) from None
        names, stride, end2end = head_info(yolo)
        kwargs = dict(format=spec.format, imgsz=spec.imgsz, dynamic=spec.dynamic, batch=1, verbose=False,
                      device="0" if spec.format == "engine" else "cpu")
        if spec.format == "onnx":
            kwargs["simplify"] = True
        if spec.int8 or spec.half:
            kwargs["quantize"] = 8 if spec.int8 else 16
        if spec.int8:  # calibration images; other formats refuse `data` (it only picks tinydet's parity images)
            kwargs["data"] = str(Path(spec.data).resolve())
        try:
            with _quiet_nncf() if spec.int8 else contextlib.nullcontext():
                produced = Path(yolo.export(**kwargs))
        except Exception as e:  # ultralytics raises many kinds; the user needs the one line
            detail = str(e).replace(str(work / "model.pt"), str(checkpoint)).replace(str(work), str(out.parent))
            raise TinydetError(f"{checkpoint}: export to {spec.format} failed ({type(e).__name__}: {detail})") from None
        if not produced.exists():
            raise TinydetError(f"{checkpoint}: the {spec.format} export wrote nothing at {produced}")
        end2end = exported_end2end(_runnable(produced, spec.format), spec.format, end2end) \
            if spec.format in ("onnx", "openvino") else end2end
        _replace(produced, out)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    input_hw = list(round_to_stride((spec.imgsz, spec.imgsz), stride))
    meta = {"names": names, "stride": stride, "end2end": end2end, "input_hw": input_hw, "format": spec.format,
            "precision": spec.precision}
    return Artifact(out, _runnable(out, spec.format), meta)


@contextlib.contextmanager
def _quiet_nncf():
    """NNCF logs one INFO line per operation it leaves unquantized; keep its warnings only."""
    with contextlib.suppress(ImportError):
        import nncf  # noqa: F401  (it sets its logger's level when imported)

    with warnings_only(logging.getLogger("nncf")):
        yield


def _replace(produced: Path, out: Path) -> None:
    """Move `produced` onto `out` in one rename (a folder that exists is moved aside first, then deleted)."""
    if out.is_dir():
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old.", dir=out.parent))
        os.replace(out, old / out.name)
        try:
            os.replace(produced, out)
        except BaseException:
            os.replace(old / out.name, out)
            raise
        finally:
            shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(produced, out)
