"""Summary numbers from precision/recall curves: block metrics, per-class AP, the best-F1 operating point."""

from __future__ import annotations

import numpy as np

from tinydet.eval.accumulate import Curves


def mean_defined(values: np.ndarray) -> float:
    """Mean of the entries > -1 (pycocotools' `np.mean(s[s > -1])`), or -1 when there are none."""
    defined = values[values > -1]
    return float(np.mean(defined)) if defined.size else -1.0


def mean_ap(curves: Curves, threshold_index: int | None = None) -> float:
    """AP averaged over thresholds (or at one), recall points and categories with ground truth."""
    p = curves.precision if threshold_index is None else curves.precision[threshold_index : threshold_index + 1]
    return mean_defined(p)


def mean_ar(curves: Curves) -> float:
    """Recall averaged over thresholds and categories with ground truth."""
    return mean_defined(curves.recall)


def threshold_index(thresholds: np.ndarray, value: float) -> int | None:
    """Index of `value` in `thresholds` (exact float equality, as pycocotools' summarize), None if absent."""
    hits = np.flatnonzero(np.asarray(thresholds) == value)
    return int(hits[0]) if len(hits) else None


def per_class_ap(curves: Curves, threshold_index: int | None = None) -> np.ndarray:
    """float64 [K]: AP of each category (mean over thresholds or at one, and recall points), -1 without ground truth."""
    p = curves.precision if threshold_index is None else curves.precision[threshold_index : threshold_index + 1]
    has_gt = p[0, 0] > -1
    return np.where(has_gt, p.mean(axis=(0, 1)), -1.0)


def best_f1(score: np.ndarray, tp: np.ndarray, fp: np.ndarray, n_gt: int) -> tuple[float, int, int]:
    """The confidence that maximises F1 over all predictions pooled, and tp, fp at it.

    Args:
        score: float64 [N]; tp, fp: bool [N] (both False: ignored); n_gt: regular ground truths.

    Returns:
        (confidence, tp, fp): predictions with score >= confidence are kept; ties in F1 go to the higher
        confidence. (0, 0, 0) when nothing is ever a true positive.
    """
    counted = tp | fp
    s, t = score[counted], tp[counted]
    if not t.any() or n_gt == 0:
        return 0.0, 0, 0
    order = np.argsort(-s, kind="stable")
    s, t = s[order], t[order]
    tp_cum = np.cumsum(t)
    n_cum = np.arange(1, len(t) + 1)
    last_of_score = np.append(s[1:] != s[:-1], True)  # a threshold keeps every prediction of equal score
    f1 = np.where(last_of_score, 2 * tp_cum / (n_cum + n_gt), -1.0)  # 2PR/(P+R) = 2tp/(n_pred + n_gt)
    i = int(np.argmax(f1))
    return float(s[i]), int(tp_cum[i]), int(n_cum[i] - tp_cum[i])


def prf(tp: int | np.ndarray, fp: int | np.ndarray, n_gt: int | np.ndarray):
    """precision, recall, F1 from counts (0 where undefined); works on scalars and arrays."""
    tp, fp, n_gt = (np.asarray(x, np.float64) for x in (tp, fp, n_gt))
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(tp + fp > 0, tp / (tp + fp), 0.0)
        r = np.where(n_gt > 0, tp / n_gt, 0.0)
        f = np.where(p + r > 0, 2 * p * r / (p + r), 0.0)
    return p, r, f
