"""How well a prediction fits a ground-truth box, for a list of (prediction, ground truth) pairs.

Each function takes the two boxes of every pair as xywh float64 [P, 4] (pixels) and the ground truth's crowd flag
bool [P], and returns float64 [P] where *larger is better*; a pair matches at threshold t when value >= t.
"""

from __future__ import annotations

import numpy as np


def iou_pairs(det: np.ndarray, gt: np.ndarray, crowd: np.ndarray) -> np.ndarray:
    """Box IoU of each pair, in [0, 1]; for a crowd ground truth, intersection over the prediction's area.

    The arithmetic follows pycocotools' `bbIou` operation by operation (float64), so values are bit-identical:
    w = min(xd + wd, xg + wg) - max(xd, xg) (same for h); no overlap when w <= 0 or h <= 0;
    IoU = w*h / (area_d + area_g - w*h), or w*h / area_d for a crowd region.
    """
    w = np.minimum(det[:, 2] + det[:, 0], gt[:, 2] + gt[:, 0]) - np.maximum(det[:, 0], gt[:, 0])
    h = np.minimum(det[:, 3] + det[:, 1], gt[:, 3] + gt[:, 1]) - np.maximum(det[:, 1], gt[:, 1])
    overlap = (w > 0) & (h > 0)
    inter = w * h
    det_area = det[:, 2] * det[:, 3]
    union = np.where(crowd, det_area, det_area + gt[:, 2] * gt[:, 3] - inter)
    out = np.zeros(len(det))
    np.divide(inter, union, out=out, where=overlap & (union > 0))
    return out


def center_pairs(det: np.ndarray, gt: np.ndarray, crowd: np.ndarray, min_size: float = 1.0) -> np.ndarray:
    """Minus the centre distance relative to the ground truth's size: -||c_d - c_g|| / max(sqrt(w_g h_g), min_size).

    A prediction matches at tolerance tau when this is >= -tau, i.e. when its centre lies within tau object sizes
    of the ground truth's centre; the prediction's own width and height play no part. For a crowd region the value
    is 0 (always matched) when the prediction's centre lies inside the region (edges included), else -inf.
    """
    dx = (det[:, 0] + det[:, 2] / 2) - (gt[:, 0] + gt[:, 2] / 2)
    dy = (det[:, 1] + det[:, 3] / 2) - (gt[:, 1] + gt[:, 3] / 2)
    size = np.maximum(np.sqrt(gt[:, 2] * gt[:, 3]), min_size)
    value = -np.hypot(dx, dy) / size
    inside = (np.abs(dx) <= gt[:, 2] / 2) & (np.abs(dy) <= gt[:, 3] / 2)
    return np.where(crowd, np.where(inside, 0.0, -np.inf), value)
