"""Small-object aware scale jitter: rescale the whole sample by s ~ U(lo, hi), where the lower bound keeps the
smallest object visible.

The rule: with [low, high] the requested range (low <= 1 <= high) and m the smallest object's size
(sqrt(w * h), px) in the image,

    lo = max(low, min(1, min_size / m)),   hi = high.

So no object is scaled below `min_size` px, and an image whose smallest object is already below `min_size` is
only ever enlarged (s >= 1). An image without boxes uses [low, high]. The image size changes with s (no crop, no
padding): ultralytics' mosaic/affine then places it like any other loaded image. Ultralytics' own `scale`
jitter (default 0.5, applied after mosaic) knows nothing about object sizes and still runs afterwards; set
`--set scale=0` to make this the only scale jitter.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from tinydet.train.geometry import resize_sample, shrink_floor


def jitter_range(boxes: np.ndarray, low: float, high: float, min_size: float) -> tuple[float, float]:
    """(lo, hi) of the scale factor for this image (see the module docstring)."""
    if not 0 < low <= 1 <= high:
        raise ValueError(f"scale range must satisfy 0 < low <= 1 <= high, got [{low}, {high}]")
    return max(low, shrink_floor(boxes, min_size)), high


def scale_jitter(
    img: np.ndarray, boxes: np.ndarray, keypoints: np.ndarray | None, rng: np.random.Generator,
    low: float = 0.5, high: float = 1.5, min_size: float = 8.0, interpolation: int = cv2.INTER_LINEAR,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, float]:
    """Rescale image, boxes and keypoints by s ~ U(jitter_range(...)); returns (image, boxes, keypoints, s).

    The output is round(W * s) x round(H * s) px (never below ceil(W * lo) x ceil(H * lo)); boxes scale by
    exactly the realised factors width / W and height / H.
    """
    lo, hi = jitter_range(boxes, low, high, min_size)
    s = float(rng.uniform(lo, hi))
    h, w = img.shape[:2]
    # pixel sizes are integers: round, but never below the floor (a rounded-down side would shrink the smallest
    # object under min_size by a fraction of a pixel)
    size = [max(1, round(n * s), math.ceil(n * lo - 1e-9)) for n in (w, h)]
    out, boxes, keypoints = resize_sample(img, boxes, keypoints, size[0], size[1], interpolation)
    return out, boxes, keypoints, s
