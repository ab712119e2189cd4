"""`tinydet export`: export a checkpoint (ONNX, OpenVINO, TorchScript, TensorRT) and check it against PyTorch."""

from __future__ import annotations

from tinydet.export.spec import FORMATS

DESCRIPTION = """\
Export a checkpoint with ultralytics' exporter (ONNX simplified), then run the export and the PyTorch model on
the same images (the val split of --data, else synthetic images) and print their parity: the largest difference
of raw outputs and the fraction of PyTorch's boxes the export finds again (IoU >= 0.9, same class). Beyond the
tolerance (fp32: raw diff <= 0.05 and >= 95% of boxes; --half: 80% of boxes; --int8: 50% of boxes) the export is
deleted and the command fails. With --int8 (OpenVINO, NNCF calibrated on --data's val images) it also reports
the mAP50 change and the speed-up against the FP32 OpenVINO export. TensorRT (engine) needs a CUDA GPU.

examples:
  tinydet export --model best.pt --format onnx --imgsz 640
  tinydet export --model best.pt --format openvino --int8 --data data.yaml
  tinydet export --model best.pt --format torchscript --out deploy/model.torchscript
"""


def register(sub, formatter) -> None:
    p = sub.add_parser("export", help="export a checkpoint and check it against PyTorch", description=DESCRIPTION,
                       formatter_class=formatter)
    p.add_argument("--model", required=True, help="checkpoint (.pt)")
    p.add_argument("--format", default="onnx", choices=list(FORMATS), help="export format (engine = TensorRT)")
    p.add_argument("--imgsz", type=int, default=640, help="square input size in pixels (rounded up to the stride)")
    p.add_argument("--half", action="store_true", help="FP16 weights")
    p.add_argument("--int8", action="store_true", help="INT8 post-training quantization (openvino; needs --data)")
    p.add_argument("--data", default=None, help="data.yaml: INT8 calibration and parity images (val split)")
    p.add_argument("--dynamic", action="store_true", help="leave batch and image size free in the graph")
    p.add_argument("--out", default=None,
                   help="where to write (default: beside the checkpoint, e.g. best.onnx, best_openvino_model/)")
    p.add_argument("--images", type=int, default=4, help="images the parity check runs on")
    p.add_argument("--conf", type=float, default=0.25, help="confidence threshold of the boxes parity compares")
    p.add_argument("--no-check", action="store_true", help="keep the export even when parity fails")
