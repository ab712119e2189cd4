"""Evaluation: COCO metrics (pycocotools-exact), AI-TOD tiny-object buckets, centre-distance AP, reports.

    from tinydet.eval import evaluate_detections, small_object_metrics
    result = evaluate_detections(dataset.images("val"), detections, EvalOptions())
    small_object_metrics(result)["APvt"]

See docs/eval.md for the metrics, formulas and conventions.
"""

from tinydet.eval.data import GroundTruth, Predictions
from tinydet.eval.evaluator import DetectionEvaluator, evaluate, evaluate_detections
from tinydet.eval.params import EvalOptions
from tinydet.eval.result import (
    AitodMetrics, CenterMetrics, ClassMetrics, CocoMetrics, EvalDetails, EvalResult, OperatingPoint,
    small_object_metrics,
)

__all__ = [
    "AitodMetrics", "CenterMetrics", "ClassMetrics", "CocoMetrics", "DetectionEvaluator", "EvalDetails", "EvalOptions",
    "EvalResult", "GroundTruth", "OperatingPoint", "Predictions", "evaluate", "evaluate_detections",
    "small_object_metrics",
]
