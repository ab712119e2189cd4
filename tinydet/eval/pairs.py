"""Grouping boxes for matching and listing the (prediction, ground truth) pairs that can match.

A *group* is what pycocotools evaluates separately: one image and one category (or one image for class-agnostic
matching). Within a group, predictions are taken highest score first (ties: file order) and capped; ground truths
keep their file order. Pairs are listed group by group without Python loops over groups or boxes.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def rank_in_groups(group: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Order boxes by (group, -score, row) and rank them within their group.

    Args:
        group: int64 [N] group id of each box.
        score: float64 [N] confidence.

    Returns:
        order: int64 [N] row indices in that order; rank: int64 [N] position of each *ordered* box in its group
        (0 = highest score), so `rank[i]` belongs to row `order[i]`.
    """
    n = len(group)
    order = np.lexsort((np.arange(n), -score, group))
    g = group[order]
    if n == 0:
        return order, np.zeros(0, np.int64)
    first = np.ones(n, bool)
    first[1:] = g[1:] != g[:-1]
    starts = np.flatnonzero(first)
    rank = np.arange(n) - np.repeat(starts, np.diff(np.append(starts, n)))
    return order, rank


def ranges_in_sorted(sorted_keys: np.ndarray, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each query key, the slice [start, start + count) of the ascending array `sorted_keys` holding it."""
    start = np.searchsorted(sorted_keys, queries, side="left")
    stop = np.searchsorted(sorted_keys, queries, side="right")
    return start, stop - start


def expand_ranges(start: np.ndarray, count: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All pairs (i, start[i] + j) for j < count[i], in order of i then j; both int64 [sum(count)]."""
    total = int(count.sum())
    owner = np.repeat(np.arange(len(count)), count)
    offset = np.arange(total) - np.repeat(np.cumsum(count) - count, count)
    return owner, np.repeat(start, count) + offset


Similarity = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]


def candidate_pairs(
    det_xywh: np.ndarray,
    det_group: np.ndarray,
    gt_xywh: np.ndarray,
    gt_group: np.ndarray,
    gt_crowd: np.ndarray,
    similarity: Similarity,
    min_value: float,
    chunk: int = 1 << 21,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every (prediction, ground truth) pair of the same group whose similarity is at least `min_value`.

    Args:
        det_xywh, det_group: [D, 4], [D] predictions (any order).
        gt_xywh, gt_group, gt_crowd: [G, 4], [G], [G] ground truth *sorted by group* (stable).
        similarity: f(det_xywh [P, 4], gt_xywh [P, 4], crowd [P]) -> float64 [P], larger is better.
        min_value: pairs below it can match at no threshold and are dropped.
        chunk: at most about this many pairs are scored at once (bounds memory on dense images).

    Returns:
        (det_index [P], gt_index [P], value [P]) ordered by prediction, then ground truth.
    """
    start, count = ranges_in_sorted(gt_group, det_group)
    bounds = np.cumsum(count)
    parts = []
    lo = 0
    while lo < len(count):
        hi = int(np.searchsorted(bounds, (bounds[lo - 1] if lo else 0) + chunk, side="right"))
        hi = max(hi, lo + 1)
        det, gt = expand_ranges(start[lo:hi], count[lo:hi])
        det += lo
        value = similarity(det_xywh[det], gt_xywh[gt], gt_crowd[gt])
        keep = value >= min_value
        parts.append((det[keep], gt[keep], value[keep]))
        lo = hi
    if not parts:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    return tuple(np.concatenate(p) for p in zip(*parts))  # type: ignore[return-value]
