"""The evaluation pipeline: group and rank, list candidate pairs, match, accumulate, summarise.

    evaluate(gt, preds, options) -> EvalResult                      columns (see tinydet.eval.data)
    evaluate_detections(images, detections, options) -> EvalResult  internal Dataset split + one Detections each
    DetectionEvaluator().update(images, detections) ... .compute()   the same, fed batch by batch

Matching runs once per similarity (IoU, centre distance) for every size bucket and threshold together, over the
highest-scoring `options.match_cap` predictions of each image and class; smaller caps (COCO's 1/10/100) are
prefixes of that order, so their matches are read off the same run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

import numpy as np

from tinydet.data.dataset import ImageLabels
from tinydet.detections import Detections
from tinydet.errors import TinydetError
from tinydet.eval.accumulate import Curves, precision_recall
from tinydet.eval.data import GroundTruth, Predictions, ground_truth_from_images, predictions_from_detections
from tinydet.eval.matching import MATCHED, MATCHED_IGNORED, UNMATCHED, Matches, greedy_match
from tinydet.eval.pairs import candidate_pairs, rank_in_groups
from tinydet.eval.params import (
    AITOD_RANGES, COCO_MAX_DETS, COCO_RANGES, IOU_THRESHOLDS, RECALL_THRESHOLDS, AreaRange, EvalOptions,
)
from tinydet.eval.result import (
    AitodMetrics, CenterMetrics, ClassMetrics, CocoMetrics, EvalDetails, EvalResult, OperatingPoint,
)
from tinydet.eval.similarity import center_pairs, iou_pairs
from tinydet.eval.summary import best_f1, mean_ap, mean_ar, per_class_ap, prf, threshold_index

#: pycocotools never matches above this IoU threshold (`min(t, 1 - 1e-10)`).
_IOU_CEILING = 1 - 1e-10


@dataclass
class _Ordered:
    """Predictions in processing order (image-category group, then score) and ground truth sorted by group."""

    n_categories: int
    det_row: np.ndarray
    det_group: np.ndarray
    det_rank: np.ndarray
    det_xywh: np.ndarray
    det_category: np.ndarray
    eval_order: np.ndarray  # positions in processing order, sorted by (category, -score, image, row)
    gt_row: np.ndarray
    gt_group: np.ndarray
    gt_xywh: np.ndarray
    gt_area: np.ndarray
    gt_crowd: np.ndarray
    gt_category: np.ndarray


def _order(gt: GroundTruth, preds: Predictions, cap: int) -> _Ordered:
    k = max(gt.n_categories, 1)
    order, rank = rank_in_groups(preds.image * k + preds.category, preds.score)
    keep = rank < cap
    order, rank = order[keep], rank[keep]
    eval_order = np.lexsort((order, preds.image[order], -preds.score[order], preds.category[order]))
    gt_group = gt.image * k + gt.category
    gt_row = np.argsort(gt_group, kind="stable")
    return _Ordered(
        n_categories=gt.n_categories,
        det_row=order,
        det_group=(preds.image * k + preds.category)[order],
        det_rank=rank,
        det_xywh=preds.xywh[order],
        det_category=preds.category[order],
        eval_order=eval_order,
        gt_row=gt_row,
        gt_group=gt_group[gt_row],
        gt_xywh=gt.xywh[gt_row],
        gt_area=gt.area[gt_row],
        gt_crowd=gt.crowd[gt_row],
        gt_category=gt.category[gt_row],
    )


@dataclass
class _Run:
    """One similarity matched for several size buckets: matches plus who is ignored / outside each bucket."""

    ranges: tuple[AreaRange, ...]
    thresholds: np.ndarray
    matches: Matches
    gt_ignore: np.ndarray  # bool [A, G]
    det_outside: np.ndarray  # bool [A, D]

    def index(self, r: AreaRange) -> int:
        return next(i for i, x in enumerate(self.ranges) if (x.lo, x.hi) == (r.lo, r.hi))


def _run(o: _Ordered, similarity, thresholds: np.ndarray, ranges: Sequence[AreaRange]) -> _Run:
    unique: list[AreaRange] = []
    for r in ranges:
        if all((u.lo, u.hi) != (r.lo, r.hi) for u in unique):
            unique.append(r)
    lo = np.array([r.lo for r in unique])[:, None]
    hi = np.array([r.hi for r in unique])[:, None]
    gt_ignore = o.gt_crowd[None, :] | (o.gt_area[None, :] < lo) | (o.gt_area[None, :] > hi)
    det_area = o.det_xywh[:, 2] * o.det_xywh[:, 3]
    det_outside = (det_area[None, :] < lo) | (det_area[None, :] > hi)
    pair_det, pair_gt, value = candidate_pairs(
        o.det_xywh, o.det_group, o.gt_xywh, o.gt_group, o.gt_crowd, similarity, float(np.min(thresholds))
    )
    matches = greedy_match(pair_det, pair_gt, value, o.det_group, thresholds, gt_ignore, o.gt_crowd)
    return _Run(tuple(unique), thresholds, matches, gt_ignore, det_outside)


class _Views:
    """Curves of (bucket, cap) views of a run, computed once each."""

    def __init__(self, o: _Ordered, run: _Run):
        self.o, self.run, self._cache = o, run, {}

    def curves(self, r: AreaRange, cap: int) -> Curves:
        key = (r.lo, r.hi, cap)
        if key not in self._cache:
            self._cache[key] = self._compute(self.run.index(r), cap)
        return self._cache[key]

    def tp_fp(self, a: int, cap: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Positions (evaluation order) of the predictions within `cap`, and their tp, fp [T, n] in bucket a."""
        sel = self.o.eval_order[self.o.det_rank[self.o.eval_order] < cap]
        state = self.run.matches.det_state[a][:, sel]
        tp = state == MATCHED
        fp = (state == UNMATCHED) & ~self.run.det_outside[a, sel][None, :]
        return sel, tp, fp

    def n_gt(self, a: int) -> np.ndarray:
        regular = ~self.run.gt_ignore[a]
        return np.bincount(self.o.gt_category[regular], minlength=self.o.n_categories)

    def _compute(self, a: int, cap: int) -> Curves:
        sel, tp, fp = self.tp_fp(a, cap)
        counted = (tp | fp).any(axis=0)  # a prediction ignored at every threshold changes no curve
        return precision_recall(self.o.det_category[sel[counted]], tp[:, counted], fp[:, counted], self.n_gt(a),
                                RECALL_THRESHOLDS)


def _coco(views: _Views) -> CocoMetrics:
    all_, small, medium, large = COCO_RANGES
    cap = COCO_MAX_DETS[-1]
    c = views.curves(all_, cap)
    return CocoMetrics(
        AP=mean_ap(c),
        AP50=mean_ap(c, threshold_index(IOU_THRESHOLDS, 0.5)),
        AP75=mean_ap(c, threshold_index(IOU_THRESHOLDS, 0.75)),
        APs=mean_ap(views.curves(small, cap)),
        APm=mean_ap(views.curves(medium, cap)),
        APl=mean_ap(views.curves(large, cap)),
        AR1=mean_ar(views.curves(all_, COCO_MAX_DETS[0])),
        AR10=mean_ar(views.curves(all_, COCO_MAX_DETS[1])),
        AR100=mean_ar(c),
        ARs=mean_ar(views.curves(small, cap)),
        ARm=mean_ar(views.curves(medium, cap)),
        ARl=mean_ar(views.curves(large, cap)),
    )


def _aitod(views: _Views, cap: int) -> AitodMetrics:
    all_, vt, t, s, m, l = (views.curves(r, cap) for r in AITOD_RANGES)
    return AitodMetrics(
        AP=mean_ap(all_),
        AP50=mean_ap(all_, threshold_index(IOU_THRESHOLDS, 0.5)),
        AP75=mean_ap(all_, threshold_index(IOU_THRESHOLDS, 0.75)),
        APvt=mean_ap(vt), APt=mean_ap(t), APs=mean_ap(s), APm=mean_ap(m), APl=mean_ap(l),
        AR=mean_ar(all_), ARvt=mean_ar(vt), ARt=mean_ar(t), ARs=mean_ar(s), ARm=mean_ar(m), ARl=mean_ar(l),
        max_dets=cap,
    )


def _center(views: _Views, cap: int, taus: np.ndarray) -> CenterMetrics:
    all_, vt, t, s, m, l = (views.curves(r, cap) for r in AITOD_RANGES)

    def at(tau: float) -> float:
        i = threshold_index(taus, tau)
        return -1.0 if i is None else mean_ap(all_, i)

    return CenterMetrics(
        AP=mean_ap(all_), AP50=at(0.5), AP25=at(0.25), AP10=at(0.1),
        APvt=mean_ap(vt), APt=mean_ap(t), APs=mean_ap(s), APm=mean_ap(m), APl=mean_ap(l), AR=mean_ar(all_),
        thresholds=tuple(float(x) for x in taus), max_dets=cap,
    )


def _per_class(gt: GroundTruth, preds: Predictions, views: _Views, center: _Views | None, cap: int, center_cap: int):
    """Per-class metrics and the pooled best-F1 operating point (IoU 0.5, all sizes)."""
    all_ = COCO_RANGES[0]
    a = views.run.index(all_)
    curves = views.curves(all_, cap)
    ap = per_class_ap(curves)
    ap50 = per_class_ap(curves, threshold_index(IOU_THRESHOLDS, 0.5))
    ap_center = per_class_ap(center.curves(all_, center_cap)) if center is not None else np.full(gt.n_categories, -1.0)
    n_gt = views.n_gt(a)
    sel, tp, fp = views.tp_fp(a, cap)
    t50 = threshold_index(IOU_THRESHOLDS, 0.5)
    score = preds.score[views.o.det_row[sel]]
    conf, n_tp, n_fp = best_f1(score, tp[t50], fp[t50], int(n_gt.sum()))
    p, r, f = prf(n_tp, n_fp, int(n_gt.sum()))
    point = OperatingPoint(conf, float(p), float(r), float(f), n_tp, n_fp, int(n_gt.sum()))
    kept = score >= conf if n_tp else np.zeros(len(score), bool)
    cats = views.o.det_category[sel]
    k = gt.n_categories
    tp_k = np.bincount(cats[kept & tp[t50]], minlength=k)
    fp_k = np.bincount(cats[kept & fp[t50]], minlength=k)
    pk, rk, fk = prf(tp_k, fp_k, n_gt)
    n_pred = np.bincount(preds.category, minlength=k)
    classes = [
        ClassMetrics(gt.category_names[i], int(gt.category_ids[i]), int(n_gt[i]), int(n_pred[i]), float(ap[i]),
                     float(ap50[i]), float(ap_center[i]), float(pk[i]), float(rk[i]), float(fk[i]))
        for i in range(k)
    ]
    return classes, point


def _details(gt, preds, o: _Ordered, views: _Views, cap: int, center: _Views | None, options) -> EvalDetails:
    a = views.run.index(COCO_RANGES[0])
    t50 = threshold_index(IOU_THRESHOLDS, 0.5)

    def gt_to_pred(run_views: _Views, t: int, limit: int) -> np.ndarray:
        det = run_views.run.matches.gt_det[run_views.run.index(COCO_RANGES[0]), t]
        ok = det >= 0
        ok[ok] = o.det_rank[det[ok]] < limit
        out = np.full(len(gt), -1, np.int64)
        out[o.gt_row[ok]] = o.det_row[det[ok]]
        return out

    state = np.full(len(preds), 3, np.int8)
    within = o.det_rank < cap
    s = views.run.matches.det_state[a, t50]
    state[o.det_row[within]] = np.select([s == MATCHED, s == MATCHED_IGNORED], [1, 2], 0)[within]
    gt_pred = gt_to_pred(views, t50, cap)
    pred_gt = np.full(len(preds), -1, np.int64)
    matched = gt_pred >= 0
    pred_gt[gt_pred[matched]] = np.flatnonzero(matched)
    gt_pred_center = None
    curves = {}
    if "coco" in options.blocks:
        curves.update({f"coco:{r.name}": views.curves(r, COCO_MAX_DETS[-1]) for r in COCO_RANGES})
    if "aitod" in options.blocks:
        curves.update({f"aitod:{r.name}": views.curves(r, int(options.max_dets)) for r in AITOD_RANGES})
    thresholds = {"coco": IOU_THRESHOLDS, "aitod": IOU_THRESHOLDS}
    if center is not None:
        taus = np.asarray(options.center_thresholds)
        i = threshold_index(taus, 0.5)
        if i is not None:
            gt_pred_center = gt_to_pred(center, i, options.max_dets)
        curves.update({f"center:{r.name}": center.curves(r, options.max_dets) for r in AITOD_RANGES})
        thresholds["center"] = taus
    return EvalDetails(gt, preds, state, pred_gt, gt_pred, gt_pred_center, curves, thresholds)


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
    o = _order(gt, preds, options.match_cap)
    cap, center_cap = COCO_MAX_DETS[-1], int(options.max_dets)
    iou_views = center_views = None
    ranges = (COCO_RANGES if "coco" in options.blocks else ()) + (AITOD_RANGES if "aitod" in options.blocks else ())
    if ranges:
        thresholds = np.minimum(IOU_THRESHOLDS, _IOU_CEILING)
        iou_views = _Views(o, _run(o, iou_pairs, thresholds, ranges))
    if "center" in options.blocks:
        taus = np.asarray(options.center_thresholds, np.float64)
        similarity = partial(center_pairs, min_size=options.center_min_size)
        center_views = _Views(o, _run(o, similarity, -taus, AITOD_RANGES))
    coco = _coco(iou_views) if "coco" in options.blocks else None
    aitod = _aitod(iou_views, int(options.max_dets)) if "aitod" in options.blocks else None
    center = _center(center_views, center_cap, np.asarray(options.center_thresholds, np.float64)) if center_views else None
    per_class, point, details = [], None, None
    if coco is not None:
        per_class, point = _per_class(gt, preds, iou_views, center_views, cap, center_cap)
    if options.keep_details and iou_views is not None:
        details = _details(gt, preds, o, iou_views, cap if coco else int(options.max_dets), center_views, options)
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
