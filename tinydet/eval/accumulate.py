"""Precision and recall from matched predictions: COCO's 101-point interpolated precision, all classes at once.

For each threshold t and category k, predictions of k are taken in decreasing score order (ties: image order,
then file order); tp and fp are running counts, precision = tp / (tp + fp), recall = tp / n_gt. Precision is
made monotone (p(r) = max precision at any recall >= r) and read at the 101 recall points; a point beyond the
highest recall reached gets 0. A category without regular ground truth gets -1 (left out of means).
This is pycocotools' `accumulate`, done with cumulative sums, one `searchsorted` and one `maximum.reduceat`
over every (threshold, category) segment instead of a Python loop per segment.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Curves:
    """precision float64 [T, R, K] (-1: no ground truth of k); recall float64 [T, K] (-1 likewise)."""

    precision: np.ndarray
    recall: np.ndarray


def smallest_counts_reaching(n_gt: np.ndarray, recall_points: np.ndarray) -> np.ndarray:
    """j[k, r] = the smallest integer j with j / n_gt[k] >= recall_points[r], computed with the same float64
    division as pycocotools' `tp / npig`, so comparisons on counts give the same answer as on recalls.
    Entries for n_gt == 0 are 0."""
    n = np.asarray(n_gt, np.float64)[:, None]
    r = np.asarray(recall_points, np.float64)[None, :]
    safe = np.where(n > 0, n, 1.0)
    j = np.ceil(r * safe)
    for _ in range(2):  # ceil(r * n) can be off by one either way after rounding
        j = np.where(j / safe < r, j + 1, j)
        j = np.where((j >= 1) & ((j - 1) / safe >= r), j - 1, j)
    return np.where(n > 0, j, 0).astype(np.int64)


def precision_recall(category: np.ndarray, tp: np.ndarray, fp: np.ndarray, n_gt: np.ndarray,
                     recall_points: np.ndarray) -> Curves:
    """Interpolated precision and final recall per threshold and category.

    Args:
        category: int64 [N] category index of each prediction, ascending, with predictions of one category in
            evaluation order (score descending, then image, then file order).
        tp, fp: bool [T, N] true / false positive at each threshold (both False: ignored prediction).
        n_gt: int64 [K] regular (not ignored) ground truths per category.
        recall_points: float64 [R].

    Returns:
        Curves(precision [T, R, K], recall [T, K]).
    """
    n_t, n = tp.shape
    n_k, n_r = len(n_gt), len(recall_points)
    counts = np.bincount(category, minlength=n_k)
    ends = np.cumsum(counts)
    starts = ends - counts
    tp_cum = np.cumsum(tp, axis=1, dtype=np.int64)
    fp_cum = np.cumsum(fp, axis=1, dtype=np.int64)
    zero = np.zeros((n_t, 1), np.int64)
    tp_base = np.concatenate([zero, tp_cum], axis=1)[:, starts]  # [T, K] counts before each category
    fp_base = np.concatenate([zero, fp_cum], axis=1)[:, starts]
    tp_seg = tp_cum - tp_base[:, category]
    fp_seg = fp_cum - fp_base[:, category]
    precision_at = tp_seg / ((tp_seg + fp_seg) + np.spacing(1))  # [T, N]

    tp_total = np.concatenate([zero, tp_cum], axis=1)[:, ends] - tp_base  # [T, K]
    has_gt = n_gt > 0
    recall = np.where(has_gt, tp_total / np.where(has_gt, n_gt, 1), -1.0)

    # Position of the first prediction of each (t, k) whose running tp reaches j[k, r]: one searchsorted on keys
    # (t, k, tp) packed into int64, which are ascending along the flattened [T, N] array.
    big = n + 2
    j = np.minimum(smallest_counts_reaching(n_gt, recall_points), n + 1)  # [K, R]; > n is unreachable anyway
    segment = np.arange(n_t)[:, None] * n_k + category[None, :]  # [T, N]
    keys = (segment * big + tp_seg).ravel()
    seg_ids = np.arange(n_t)[:, None] * n_k + np.arange(n_k)[None, :]  # [T, K]
    queries = seg_ids[:, :, None] * big + j[None, :, :]  # [T, K, R]
    first = np.searchsorted(keys, queries.ravel(), side="left").reshape(n_t, n_k, n_r)
    seg_end = (np.arange(n_t)[:, None] * n + ends[None, :])[:, :, None]  # [T, K, 1]
    reached = first < seg_end

    # max precision over [first_r, first_{r+1}) for each r (the last up to the segment end), then a running max
    # from the highest recall point down gives max precision over [first_r, end).
    bounds = np.concatenate([first, seg_end], axis=2).ravel()
    flat = np.append(precision_at.ravel(), 0.0)
    piece_max = np.maximum.reduceat(flat, bounds).reshape(n_t, n_k, n_r + 1)[:, :, :n_r]
    q = np.where(reached, piece_max, 0.0)
    q = np.maximum.accumulate(q[:, :, ::-1], axis=2)[:, :, ::-1]
    precision = np.where(has_gt[None, :, None], q, -1.0).transpose(0, 2, 1)
    return Curves(np.ascontiguousarray(precision), recall)
