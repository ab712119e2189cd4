"""Choosing the reader from the path: COCO JSON or YOLO dataset for ground truth, COCO results JSON or a folder
of YOLO txt files for predictions; and writing results."""

from __future__ import annotations

import json
from pathlib import Path

from tinydet.errors import DataError
from tinydet.eval.data import GroundTruth, Predictions
from tinydet.eval.evaluator import evaluate
from tinydet.eval.load_coco import load_coco_ground_truth, load_coco_predictions
from tinydet.eval.params import EvalOptions
from tinydet.eval.result import EvalResult, small_object_metrics
from tinydet.files import write_atomic


def load_ground_truth(path: str | Path, split: str = "val") -> GroundTruth:
    """A COCO ground-truth JSON, or a split of a YOLO dataset given by its data.yaml (or the folder holding it)."""
    p = Path(path)
    if p.suffix.lower() == ".json":
        return load_coco_ground_truth(p)
    if p.suffix.lower() in (".yaml", ".yml") or (p.is_dir() and (p / "data.yaml").is_file()):
        from tinydet.eval.load_yolo import load_yolo_ground_truth  # lazy: the YOLO reader imports cv2

        return load_yolo_ground_truth(p, split)
    if not p.exists():
        raise DataError("ground truth not found", p)
    raise DataError("ground truth must be a COCO JSON file or a YOLO data.yaml", p)


def load_predictions(path: str | Path, gt: GroundTruth, category_offset: int = 0) -> Predictions:
    """A COCO results JSON, or a folder of YOLO txt files `class cx cy w h conf`."""
    p = Path(path)
    if p.suffix.lower() == ".json":
        return load_coco_predictions(p, gt, category_offset)
    if p.is_dir():
        if category_offset:
            raise DataError("--category-offset applies to COCO results JSON, not to YOLO txt predictions", p)
        from tinydet.eval.load_yolo import load_yolo_predictions  # lazy: the YOLO reader imports cv2

        return load_yolo_predictions(p, gt)
    if not p.exists():
        raise DataError("predictions not found", p)
    raise DataError("predictions must be a COCO results JSON file or a folder of YOLO txt files", p)


def evaluate_files(gt_path: str | Path, pred_path: str | Path, split: str = "val",
                   options: EvalOptions = EvalOptions(), category_offset: int = 0) -> EvalResult:
    """Read ground truth and predictions from files (see the loaders) and evaluate them."""
    gt = load_ground_truth(gt_path, split)
    return evaluate(gt, load_predictions(pred_path, gt, category_offset), options)


def result_json(result: EvalResult, **inputs) -> str:
    """The JSON written by `--json`: inputs, flat metrics (small_object_metrics) and the three blocks."""
    payload = {"inputs": {k: str(v) for k, v in inputs.items()}, "metrics": small_object_metrics(result)}
    payload.update(result.to_dict())
    return json.dumps(payload, indent=1)


def write_result_json(path: str | Path, result: EvalResult, **inputs) -> None:
    """Write `result_json` atomically."""
    write_atomic(Path(path), result_json(result, **inputs))
