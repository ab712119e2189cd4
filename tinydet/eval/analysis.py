"""Diagnostics from an evaluation's per-box matches (EvalResult.details): recall against object size, error
breakdown, confusion matrix. All at IoU 0.5 over all sizes, and (where a confidence is given) over the
predictions scoring at least that confidence, normally the best-F1 one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tinydet.eval.matching import greedy_match
from tinydet.eval.pairs import candidate_pairs, rank_in_groups
from tinydet.eval.result import EvalDetails
from tinydet.eval.similarity import iou_pairs

#: Object-size bins (sqrt(area), px) of `recall_by_size`.
SIZE_EDGES = (0, 4, 8, 12, 16, 24, 32, 48, 64, 96, 128, float("inf"))
#: IoU above which a false positive overlaps an object (TIDE's foreground threshold) and below which it is
#: background (TIDE's background threshold).
FOREGROUND_IOU, BACKGROUND_IOU = 0.5, 0.1


@dataclass
class SizeRecall:
    """Recall per object-size bin: edges [B+1] px; n_gt [B]; recall at IoU 0.5 with all predictions, with those
    above the confidence, and with centre matching (tau 0.5; NaN without the centre block). NaN: empty bin."""

    edges: np.ndarray
    n_gt: np.ndarray
    recall: np.ndarray
    recall_at_conf: np.ndarray
    recall_center: np.ndarray


@dataclass
class ErrorBreakdown:
    """Counts of true positives and of each error kind (each false positive gets exactly one kind):

    duplicate: IoU >= 0.5 with an object of its class that a higher-scoring prediction already took;
    localisation: best IoU with an object of its class in [0.1, 0.5);
    classification: no object of its class with IoU >= 0.1, but one of another class;
    background: IoU < 0.1 with every object; missed: objects no prediction found.
    """

    confidence: float
    tp: int
    localisation: int
    classification: int
    duplicate: int
    background: int
    missed: int

    def as_dict(self) -> dict[str, int]:
        return {k: getattr(self, k) for k in ("localisation", "classification", "duplicate", "background", "missed")}


def _regular(d: EvalDetails) -> np.ndarray:
    return ~d.gt.crowd


def _binned_rate(size: np.ndarray, hit: np.ndarray, edges) -> tuple[np.ndarray, np.ndarray]:
    b = np.clip(np.searchsorted(edges, size, side="right") - 1, 0, len(edges) - 2)
    n = np.bincount(b, minlength=len(edges) - 1)
    k = np.bincount(b, weights=hit.astype(float), minlength=len(edges) - 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return n, np.where(n > 0, k / np.maximum(n, 1), np.nan)


def recall_by_size(d: EvalDetails, confidence: float, edges=SIZE_EDGES) -> SizeRecall:
    """Recall of objects (crowd regions left out) binned by sqrt(area)."""
    regular = _regular(d)
    size = np.sqrt(d.gt.area[regular])
    found = d.gt_pred[regular]
    n, recall = _binned_rate(size, found >= 0, edges)
    at_conf = (found >= 0) & (d.preds.score[np.maximum(found, 0)] >= confidence) if len(d.preds) else found >= 0
    _, recall_conf = _binned_rate(size, at_conf, edges)
    if d.gt_pred_center is not None:
        _, recall_center = _binned_rate(size, d.gt_pred_center[regular] >= 0, edges)
    else:
        recall_center = np.full(len(n), np.nan)
    return SizeRecall(np.asarray(edges, float), n, recall, recall_conf, recall_center)


def _image_pairs(d: EvalDetails, keep: np.ndarray, min_iou: float):
    """IoU pairs (prediction row, object row, iou) between kept predictions and all objects of the same image."""
    gt_order = np.argsort(d.gt.image, kind="stable")
    rows = np.flatnonzero(keep)
    p, g, v = candidate_pairs(d.preds.xywh[rows], d.preds.image[rows], d.gt.xywh[gt_order], d.gt.image[gt_order],
                              d.gt.crowd[gt_order], iou_pairs, min_iou)
    return rows[p], gt_order[g], v


def error_breakdown(d: EvalDetails, confidence: float) -> ErrorBreakdown:
    """Classify the false positives scoring >= `confidence` and count the objects they all missed."""
    scored = d.preds.score >= confidence
    fp = scored & (d.pred_state == 0)
    tp = scored & (d.pred_state == 1)
    pred, obj, iou = _image_pairs(d, fp, BACKGROUND_IOU)
    regular = ~d.gt.crowd[obj]
    same = regular & (d.gt.category[obj] == d.preds.category[pred])
    best_same = np.zeros(len(d.preds))
    best_other = np.zeros(len(d.preds))
    np.maximum.at(best_same, pred[same], iou[same])
    other = regular & ~same
    np.maximum.at(best_other, pred[other], iou[other])
    dup = fp & (best_same >= FOREGROUND_IOU)
    loc = fp & ~dup & (best_same >= BACKGROUND_IOU)
    cls = fp & ~dup & ~loc & (best_other >= BACKGROUND_IOU)
    bkg = fp & ~dup & ~loc & ~cls
    found = d.gt_pred >= 0
    found[found] = d.preds.score[d.gt_pred[found]] >= confidence
    missed = int((_regular(d) & ~found).sum())
    return ErrorBreakdown(float(confidence), int(tp.sum()), int(loc.sum()), int(cls.sum()), int(dup.sum()),
                          int(bkg.sum()), missed)


def confusion_matrix(d: EvalDetails, confidence: float, iou: float = FOREGROUND_IOU) -> np.ndarray:
    """int64 [K+1, K+1]: rows true class (last row: background, i.e. unmatched predictions), columns predicted
    class (last column: missed objects). Predictions scoring >= `confidence` are matched to objects of any class
    (highest score first, best IoU >= `iou`); predictions on crowd regions are left out."""
    k = len(d.gt.category_ids)
    keep = d.preds.score >= confidence
    rows = np.flatnonzero(keep)
    order, _ = rank_in_groups(d.preds.image[rows], d.preds.score[rows])
    rows = rows[order]
    gt_order = np.argsort(d.gt.image, kind="stable")
    p, g, v = candidate_pairs(d.preds.xywh[rows], d.preds.image[rows], d.gt.xywh[gt_order], d.gt.image[gt_order],
                              d.gt.crowd[gt_order], iou_pairs, iou)
    crowd = d.gt.crowd[gt_order]
    m = greedy_match(p, g, v, d.preds.image[rows], np.array([iou]), crowd[None, :], crowd)
    cm = np.zeros((k + 1, k + 1), np.int64)
    taken = m.gt_det[0, 0]
    ok = (taken >= 0) & ~crowd
    np.add.at(cm, (d.gt.category[gt_order][ok], d.preds.category[rows[taken[ok]]]), 1)
    unmatched = m.det_state[0, 0] == 0
    np.add.at(cm, (np.full(int(unmatched.sum()), k), d.preds.category[rows[unmatched]]), 1)
    missed = ~ok & ~crowd
    np.add.at(cm, (d.gt.category[gt_order][missed], np.full(int(missed.sum()), k)), 1)
    return cm


def image_errors(d: EvalDetails, confidence: float) -> np.ndarray:
    """int64 [I]: false positives plus missed objects of each image at `confidence`."""
    scored = d.preds.score >= confidence
    fp = np.bincount(d.preds.image[scored & (d.pred_state == 0)], minlength=d.gt.n_images)
    found = d.gt_pred >= 0
    found[found] = d.preds.score[d.gt_pred[found]] >= confidence
    missed = np.bincount(d.gt.image[_regular(d) & ~found], minlength=d.gt.n_images)
    return fp + missed


def worst_images(errors: np.ndarray, n: int) -> list[int]:
    """Indices of the `n` images with the most errors (ties: image order), for sample pictures."""
    order = np.lexsort((np.arange(len(errors)), -errors))
    return [int(i) for i in order[:n]]
