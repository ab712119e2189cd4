"""Entry points of evaluation.

    evaluate(gt, preds, options) -> EvalResult                      columns (see tinydet.eval.data)
    evaluate_detections(images, detections, options) -> EvalResult  internal Dataset split + one Detections each
    DetectionEvaluator().update(images, detections) ... .compute()   the same, fed batch by batch

The pipeline: order and match (tinydet.eval.views), then read the blocks off the matches (tinydet.eval.blocks).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

import numpy as np

from tinydet.data.dataset import ImageLabels
from tinydet.detections import Detections
from tinydet.errors import TinydetError
from tinydet.eval.blocks import (
    aitod_block,
    center_block,
    coco_block,
    match_details,
    per_class_metrics,
)
from tinydet.eval.data import (
    GroundTruth,
    Predictions,
    ground_truth_from_images,
    predictions_from_detections,
)
from tinydet.eval.params import (
    AITOD_RANGES,
    COCO_MAX_DETS,
    COCO_RANGES,
    IOU_THRESHOLDS,
    EvalOptions,
)
from tinydet.eval.result import EvalResult
from tinydet.eval.similarity import center_pairs, iou_pairs
from tinydet.eval.views import IOU_CEILING, Views, match_run, order_boxes


def _check_indices(gt: GroundTruth, preds: Predictions) -> None:
    if len(preds) and (preds.image.min() < 0 or preds.image.max() >= gt.n_images):
        raise TinydetError(f"{preds.source}: image index out of range for {gt.n_images} ground-truth images")
    if len(preds) and (preds.category.min() < 0 or preds.category.max() >= gt.n_categories):
        raise TinydetError(f"{preds.source}: category index out of range for {gt.n_categories} categories")
    if len(preds) and not np.isfinite(preds.score).all():
        raise TinydetError(f"{preds.source}: scores must be finite numbers")


def evaluate(gt: GroundTruth, preds: Predictions, options: EvalOptions = EvalOptions()) -> EvalResult:
    """Evaluate predictions against ground truth: the blocks in `options.blocks` (see EvalOptions)."""
    _check_indices(gt, preds)
    o = order_boxes(gt, preds, options.match_cap)
    cap, center_cap = COCO_MAX_DETS[-1], int(options.max_dets)
    iou_views = center_views = None
    ranges = (COCO_RANGES if "coco" in options.blocks else ()) + (AITOD_RANGES if "aitod" in options.blocks else ())
    if ranges:
        thresholds = np.minimum(IOU_THRESHOLDS, IOU_CEILING)
        iou_views = Views(o, match_run(o, iou_pairs, thresholds, ranges))
    if "center" in options.blocks:
        taus = np.asarray(options.center_thresholds, np.float64)
        similarity = partial(center_pairs, min_size=options.center_min_size)
        center_views = Views(o, match_run(o, similarity, -taus, AITOD_RANGES))
    coco = coco_block(iou_views) if "coco" in options.blocks else None
    aitod = aitod_block(iou_views, int(options.max_dets)) if "aitod" in options.blocks else None
    center = center_block(center_views, center_cap, np.asarray(options.center_thresholds, np.float64)) if center_views else None
    per_class, point, details = [], None, None
    if coco is not None:
        per_class, point = per_class_metrics(gt, preds, iou_views, center_views, cap, center_cap)
    if options.keep_details and iou_views is not None:
        details = match_details(gt, preds, o, iou_views, cap if coco else int(options.max_dets), center_views, options)
    return EvalResult(
        coco=coco, aitod=aitod, center=center, per_class=per_class, best_f1=point, n_images=gt.n_images,
        n_gt=int((~gt.crowd).sum()), n_crowd=int(gt.crowd.sum()), n_pred=len(preds), details=details,
    )


def evaluate_detections(images: Sequence[ImageLabels], detections: Sequence[Detections],
                        options: EvalOptions = EvalOptions(), names: Sequence[str] | None = None) -> EvalResult:
    """Evaluate one `Detections` per image of a split of the internal dataset (same order).

    Class index c of labels and detections is category c; `names` are the class names (Dataset.names), which
    also fix the number of categories (classes never labelled count as categories without ground truth).
    """
    gt = ground_truth_from_images(images, names)
    return evaluate(gt, predictions_from_detections(detections, gt), options)


class DetectionEvaluator:
    """Collects ground truth and predictions batch by batch; `compute()` evaluates everything collected.

        ev = DetectionEvaluator(names=dataset.names)
        for labels, dets in batches:
            ev.update(labels, dets)
        result = ev.compute()
    """

    def __init__(self, names: Sequence[str] | None = None, options: EvalOptions = EvalOptions()):
        self.names, self.options = names, options
        self.images: list[ImageLabels] = []
        self.detections: list[Detections] = []

    def update(self, images: ImageLabels | Sequence[ImageLabels], detections: Detections | Sequence[Detections]) -> DetectionEvaluator:
        images = [images] if isinstance(images, ImageLabels) else list(images)
        detections = [detections] if isinstance(detections, Detections) else list(detections)
        if len(images) != len(detections):
            raise TinydetError(f"update() got {len(images)} images but {len(detections)} Detections")
        self.images.extend(images)
        self.detections.extend(detections)
        return self

    def compute(self) -> EvalResult:
        return evaluate_detections(self.images, self.detections, self.options, self.names)
