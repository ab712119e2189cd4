"""k-means anchors with the 1 - IoU distance (YOLOv2, Redmon & Farhadi 2017). Pure functions, no I/O.

Boxes and anchors are compared by shape only, as if they shared a corner: IoU(a, b) = min(w) * min(h) /
(w_a h_a + w_b h_b - min(w) * min(h)). Euclidean k-means on (w, h) would let large boxes dominate; the IoU
distance treats a 4 px box 2 px off as badly as a 400 px box 200 px off. Centres are updated to the median
of their cluster (robust to a few huge boxes), starting from a k-means++ seeding under the same distance.
Only anchor-based detectors use anchors; ultralytics' YOLOv8 / YOLO11 / YOLO26 heads are anchor-free.
"""

from __future__ import annotations

import numpy as np


def wh_iou(wh: np.ndarray, anchors: np.ndarray) -> np.ndarray:
    """IoU of corner-aligned boxes: wh float [N, 2], anchors float [K, 2] (same units) -> float64 [N, K]."""
    wh = np.asarray(wh, np.float64)[:, None, :]
    anchors = np.asarray(anchors, np.float64)[None, :, :]
    inter = np.minimum(wh, anchors).prod(2)
    return inter / (wh.prod(2) + anchors.prod(2) - inter)


def _seed(wh: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """k-means++ under the 1 - IoU distance."""
    centres = [wh[rng.integers(len(wh))]]
    for _ in range(1, k):
        d = 1 - wh_iou(wh, np.array(centres)).max(1)
        total = d.sum()
        centres.append(wh[rng.choice(len(wh), p=d / total)] if total > 0 else wh[rng.integers(len(wh))])
    return np.array(centres)


def kmeans_anchors(wh: np.ndarray, k: int = 9, seed: int = 0, iterations: int = 100) -> tuple[np.ndarray, float]:
    """Cluster box shapes into `k` anchors.

    Args:
        wh: float [N, 2] box widths and heights (pixels at the training size), all > 0.
        k: number of anchors (fewer are returned when there are fewer distinct shapes).
        seed: seed of the k-means++ initialisation (the result is deterministic for a seed).
        iterations: maximum number of update steps.

    Returns:
        (anchors float64 [k', 2] sorted by area, mean over boxes of the best IoU with any anchor, in [0, 1]).
    """
    wh = np.asarray(wh, np.float64).reshape(-1, 2)
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    if len(wh) == 0:
        return np.zeros((0, 2)), 0.0
    if (wh <= 0).any():
        raise ValueError("box widths and heights must be positive")
    k = min(k, len(np.unique(wh, axis=0)))
    rng = np.random.default_rng(seed)
    centres = _seed(wh, k, rng)
    assign = None
    for _ in range(iterations):
        new_assign = wh_iou(wh, centres).argmax(1)
        if assign is not None and (new_assign == assign).all():
            break
        assign = new_assign
        for j in range(k):
            members = wh[assign == j]
            if len(members):
                centres[j] = np.median(members, axis=0)
            else:  # empty cluster: restart it on the worst-fitted box
                centres[j] = wh[wh_iou(wh, centres).max(1).argmin()]
    centres = centres[np.argsort(centres.prod(1))]
    return centres, float(wh_iou(wh, centres).max(1).mean())
