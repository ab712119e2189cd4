"""Geometry shared by the training augmentations: exact rescaling of an image with its labels, object sizes,
the size floor that keeps small objects from shrinking away, and the pixels a box covers.

Images are uint8 [H, W] or [H, W, C]; boxes float [N, 4] x1, y1, x2, y2 in pixels of that image; keypoints
float [N, K, 2 or 3] (x px, y px[, visibility]) or None.
"""

from __future__ import annotations

import cv2
import numpy as np

ROUND_OFF = 1e-3  # px: 9.99999 counts as 10 when deciding which pixels a box covers


def resize_sample(
    img: np.ndarray, boxes: np.ndarray, keypoints: np.ndarray | None, width: int, height: int,
    interpolation: int = cv2.INTER_LINEAR,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Resize to `width` x `height` px; boxes and keypoints scale by exactly width / W and height / H.

    Returns new (image, boxes float32 [N, 4], keypoints); the inputs are not modified.
    """
    h, w = img.shape[:2]
    sx, sy = width / w, height / h
    out = img if (width, height) == (w, h) else cv2.resize(img, (width, height), interpolation=interpolation)
    if out.ndim == 2 and img.ndim == 3:
        out = out[..., None]  # cv2 drops a single channel
    boxes = np.asarray(boxes, np.float32).reshape(-1, 4) * np.array([sx, sy, sx, sy], np.float32)
    if keypoints is not None:
        keypoints = np.array(keypoints, np.float32)
        keypoints[..., 0] *= sx
        keypoints[..., 1] *= sy
    return out, boxes, keypoints


def shift_sample(
    boxes: np.ndarray, keypoints: np.ndarray | None, dx: float, dy: float
) -> tuple[np.ndarray, np.ndarray | None]:
    """Boxes [N, 4] and keypoints moved by (dx, dy) px (new arrays)."""
    boxes = np.asarray(boxes, np.float32).reshape(-1, 4) + np.array([dx, dy, dx, dy], np.float32)
    if keypoints is not None:
        keypoints = np.array(keypoints, np.float32)
        keypoints[..., 0] += dx
        keypoints[..., 1] += dy
    return boxes, keypoints


def object_sizes(boxes: np.ndarray) -> np.ndarray:
    """sqrt(w * h) of each box, px, float64 [N] (the AI-TOD size used throughout tinydet)."""
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    return np.sqrt(np.clip(boxes[:, 2] - boxes[:, 0], 0, None) * np.clip(boxes[:, 3] - boxes[:, 1], 0, None))


def shrink_floor(boxes: np.ndarray, min_size: float) -> float:
    """The smallest scale factor that keeps every object at least `min_size` px, capped at 1.

    With m the smallest object size (sqrt(w * h)): min(1, min_size / m). So no object is scaled below
    `min_size`, and an image whose smallest object is already below `min_size` is never shrunk (factor 1),
    though not enlarged either. No boxes, or `min_size` <= 0: 0 (no limit).
    """
    sizes = object_sizes(boxes)
    if min_size <= 0 or len(sizes) == 0:
        return 0.0
    smallest = float(sizes.min())
    return 1.0 if smallest <= 0 else min(1.0, min_size / smallest)


def pixel_rect(box: np.ndarray, width: int, height: int) -> tuple[int, int, int, int]:
    """The integer pixel rectangle (xa, ya, xb, yb), end-exclusive, of the pixels `box` touches, clipped to the image."""
    x1, y1, x2, y2 = (float(v) for v in box)
    xa, ya = int(np.floor(max(x1, 0) + ROUND_OFF)), int(np.floor(max(y1, 0) + ROUND_OFF))
    xb, yb = int(np.ceil(min(x2, width) - ROUND_OFF)), int(np.ceil(min(y2, height) - ROUND_OFF))
    return xa, ya, xb, yb


def box_iou_one(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """IoU of one box [4] with each of `boxes` [N, 4] (xyxy, any units) -> float64 [N]."""
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    box = np.asarray(box, np.float64)
    lt = np.maximum(box[:2], boxes[:, :2])
    rb = np.minimum(box[2:], boxes[:, 2:])
    inter = np.prod(np.clip(rb - lt, 0, None), axis=1)
    area = lambda b: np.clip(b[..., 2] - b[..., 0], 0, None) * np.clip(b[..., 3] - b[..., 1], 0, None)  # noqa: E731
    union = area(box) + area(boxes) - inter
    return np.divide(inter, union, out=np.zeros(len(boxes)), where=union > 0)


def hide_outside(keypoints: np.ndarray | None, width: int, height: int) -> np.ndarray | None:
    """Keypoints outside [0, width] x [0, height] get visibility 0 (when they have one) and are clipped inside."""
    if keypoints is None:
        return None
    keypoints = np.array(keypoints, np.float32)
    x, y = keypoints[..., 0], keypoints[..., 1]
    outside = (x < 0) | (x > width) | (y < 0) | (y > height)
    if keypoints.shape[-1] >= 3:
        keypoints[..., 2][outside] = 0.0
    keypoints[..., 0] = np.clip(x, 0, width)
    keypoints[..., 1] = np.clip(y, 0, height)
    return keypoints
