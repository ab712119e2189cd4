"""Predicting a training run's split with its checkpoint, for `evaluate_run` when no valid cache exists (torch)."""

from __future__ import annotations

from pathlib import Path

from tinydet.eval.params import ValOptions
from tinydet.eval.validate import SplitPredictions, full_image_predictor, predict_split
from tinydet.infer.backends.pytorch import load_yolo
from tinydet.integrations.ultralytics.checkpoints import model_size


def predict_run(checkpoint: Path, data: Path, val: ValOptions) -> tuple[SplitPredictions, int, float | None]:
    """(predictions of `val.split` by whole-image prediction, parameters, GFLOPs at val.imgsz) of a checkpoint."""
    params, gflops = model_size(load_yolo(checkpoint), val.imgsz)
    split = predict_split(None, data, val, predictor=full_image_predictor(checkpoint, val), progress=True)
    return split, params, gflops
