"""What INT8 costs and buys: mAP50 and inference speed of an INT8 OpenVINO export against the FP32 OpenVINO
export of the same checkpoint, on the same images (the `val` split of the calibration dataset).

mAP50 comes from `tinydet.eval.validate` with a full-image predictor over each backend (conf 0.001, NMS IoU
0.7, 300 boxes per image, as for any mAP); speed is the median inference milliseconds per image
(`tinydet.export.bench.time_predictor`), one image per forward pass, on the CPU.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tinydet.eval.validate import ValOptions, validate
from tinydet.export.bench import time_predictor
from tinydet.export.runtime import dataset_images
from tinydet.infer.backends.load import load_backend
from tinydet.infer.sliced import SlicedPredictor, SliceOptions


@dataclass(frozen=True)
class Int8Report:
    """map50_fp32 / map50_int8: COCO mAP at IoU 0.5 (0-1) on the val split; fp32_ms / int8_ms: median inference
    ms per image; images: val images timed."""

    map50_fp32: float
    map50_int8: float
    fp32_ms: float
    int8_ms: float
    images: int

    @property
    def map50_change(self) -> float:
        return self.map50_int8 - self.map50_fp32

    @property
    def speedup(self) -> float:
        return self.fp32_ms / self.int8_ms if self.int8_ms > 0 else float("inf")

    def summary(self) -> str:
        return (f"int8 vs fp32 openvino ({self.images} val images): mAP50 {self.map50_fp32:.4f} -> "
                f"{self.map50_int8:.4f} ({self.map50_change:+.4f}); inference {self.fp32_ms:.2f} -> "
                f"{self.int8_ms:.2f} ms/img ({self.speedup:.2f}x)")


def _map50(backend, data: str | Path, imgsz: int) -> float:
    options = ValOptions(imgsz=imgsz)
    predictor = SlicedPredictor(backend, SliceOptions(slice=None, imgsz=imgsz, conf=options.conf,
                                                      tile_iou=options.iou, max_det=options.max_det, batch=1))
    result = validate(None, data, options, predictor=predictor)
    return float(result.coco.AP50) if result.coco is not None else float("nan")


def int8_report(checkpoint: str | Path, int8_backend, data: str | Path, imgsz: int, runs: int = 5,
                max_images: int = 16) -> Int8Report:
    """Compare `int8_backend` with the FP32 OpenVINO export of `checkpoint` (exported once and cached beside
    it, as `--backend openvino` does) on the val split of `data`."""
    fp32_backend = load_backend(checkpoint, "openvino", "cpu", (imgsz, imgsz))
    map_fp32, map_int8 = _map50(fp32_backend, data, imgsz), _map50(int8_backend, data, imgsz)
    images = dataset_images(data, max_images)
    options = SliceOptions(slice=None, imgsz=imgsz, batch=1)
    fp32 = time_predictor(SlicedPredictor(fp32_backend, options), images, runs, warmup=1)
    int8 = time_predictor(SlicedPredictor(int8_backend, options), images, runs, warmup=1)
    return Int8Report(map_fp32, map_int8, fp32.inference_ms, int8.inference_ms, len(images))
