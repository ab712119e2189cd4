"""The metric blocks (coco, aitod, center), per-class metrics, the best-F1 point and per-box details, read off
matched views (see tinydet.eval.views)."""

from __future__ import annotations

import numpy as np

from tinydet.eval.data import GroundTruth, Predictions
from tinydet.eval.matching import MATCHED, MATCHED_IGNORED
from tinydet.eval.params import AITOD_RANGES, COCO_MAX_DETS, COCO_RANGES, IOU_THRESHOLDS
from tinydet.eval.result import (
    AitodMetrics,
    CenterMetrics,
    ClassMetrics,
    CocoMetrics,
    EvalDetails,
    OperatingPoint,
)
from tinydet.eval.summary import (
    best_f1,
    mean_ap,
    mean_ar,
    per_class_ap,
    prf,
    threshold_index,
)
from tinydet.eval.views import Ordered, Views


def coco_block(views: Views) -> CocoMetrics:
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


def aitod_block(views: Views, cap: int) -> AitodMetrics:
    all_, vt, t, s, m, l = (views.curves(r, cap) for r in AITOD_RANGES)
    return AitodMetrics(
        AP=mean_ap(all_),
        AP50=mean_ap(all_, threshold_index(IOU_THRESHOLDS, 0.5)),
        AP75=mean_ap(all_, threshold_index(IOU_THRESHOLDS, 0.75)),
        APvt=mean_ap(vt), APt=mean_ap(t), APs=mean_ap(s), APm=mean_ap(m), APl=mean_ap(l),
        AR=mean_ar(all_), ARvt=mean_ar(vt), ARt=mean_ar(t), ARs=mean_ar(s), ARm=mean_ar(m), ARl=mean_ar(l),
        max_dets=cap,
    )


def center_block(views: Views, cap: int, taus: np.ndarray) -> CenterMetrics:
    all_, vt, t, s, m, l = (views.curves(r, cap) for r in AITOD_RANGES)

    def at(tau: float) -> float:
        i = threshold_index(taus, tau)
        return -1.0 if i is None else mean_ap(all_, i)

    return CenterMetrics(
        AP=mean_ap(all_), AP50=at(0.5), AP25=at(0.25), AP10=at(0.1),
        APvt=mean_ap(vt), APt=mean_ap(t), APs=mean_ap(s), APm=mean_ap(m), APl=mean_ap(l), AR=mean_ar(all_),
        thresholds=tuple(float(x) for x in taus), max_dets=cap,
    )


def per_class_metrics(gt: GroundTruth, preds: Predictions, views: Views, center: Views | None, cap: int, center_cap: int):
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


def match_details(gt, preds, o: Ordered, views: Views, cap: int, center: Views | None, options) -> EvalDetails:
    a = views.run.index(COCO_RANGES[0])
    t50 = threshold_index(IOU_THRESHOLDS, 0.5)

    def gt_to_pred(run_views: Views, t: int, limit: int) -> np.ndarray:
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
