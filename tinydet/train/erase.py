"""Random erasing / cutout that keeps labels honest (Zhong et al., "Random Erasing Data Augmentation", AAAI 2020;
DeVries & Taylor, "Improved Regularization of CNNs with Cutout", 2017; seed 004).

Rectangles of the image are overwritten (with per-pixel uniform noise as in Zhong et al., or with ultralytics'
grey 114 as in cutout). Plain cutout keeps every label, so a hole over a whole 6 px object leaves a box on
noise: the network is taught that noise is an object. Here each object's *visible fraction* (pixels of its box
not erased / pixels of its box) is measured, and an object whose visible fraction falls below `min_visible`
loses its label; an object at or above it keeps its label (partly occluded objects are still objects).

Hole sizes follow Zhong et al.: area fraction ~ U(min(0.02, max_area), max_area) of the image, aspect ratio
log-uniform in [0.3, 1 / 0.3], position uniform (clipped to the image).
"""

from __future__ import annotations

import numpy as np

from tinydet.train.geometry import pixel_rect

FILLS = ("noise", "grey")
GREY = 114  # ultralytics' padding value


def random_holes(
    rng: np.random.Generator, width: int, height: int, count: int, max_area: float = 0.2, min_area: float = 0.02,
    aspect: tuple[float, float] = (0.3, 1 / 0.3),
) -> np.ndarray:
    """`count` rectangles int64 [count, 4] (x1, y1, x2, y2, end-exclusive) inside a width x height image."""
    holes = np.zeros((count, 4), np.int64)
    min_area = min(min_area, max_area)
    for i in range(count):
        area = rng.uniform(min_area, max_area) * width * height
        ratio = np.exp(rng.uniform(np.log(aspect[0]), np.log(aspect[1])))
        hw = int(min(width, max(1, round(np.sqrt(area * ratio)))))
        hh = int(min(height, max(1, round(np.sqrt(area / ratio)))))
        x, y = int(rng.integers(0, width - hw + 1)), int(rng.integers(0, height - hh + 1))
        holes[i] = (x, y, x + hw, y + hh)
    return holes


def hole_mask(holes: np.ndarray, width: int, height: int) -> np.ndarray:
    """bool [H, W]: True where any hole (x1, y1, x2, y2, end-exclusive) covers the pixel."""
    mask = np.zeros((height, width), bool)
    for x1, y1, x2, y2 in np.asarray(holes, np.int64).reshape(-1, 4):
        mask[max(y1, 0) : max(y2, 0), max(x1, 0) : max(x2, 0)] = True
    return mask


def visible_fraction(boxes: np.ndarray, erased: np.ndarray) -> np.ndarray:
    """float64 [N]: share of the pixels each box touches (geometry.pixel_rect) that `erased` [H, W] leaves intact.

    A box that touches no pixel of the image has visible fraction 0.
    """
    h, w = erased.shape
    integral = np.zeros((h + 1, w + 1), np.int64)
    integral[1:, 1:] = erased.astype(np.int64).cumsum(0).cumsum(1)
    out = np.zeros(len(np.asarray(boxes).reshape(-1, 4)))
    for i, box in enumerate(np.asarray(boxes, np.float64).reshape(-1, 4)):
        xa, ya, xb, yb = pixel_rect(box, w, h)
        if xb <= xa or yb <= ya:
            continue
        gone = integral[yb, xb] - integral[ya, xb] - integral[yb, xa] + integral[ya, xa]
        area = (xb - xa) * (yb - ya)
        out[i] = (area - gone) / area
    return out


def erase(
    img: np.ndarray, boxes: np.ndarray, classes: np.ndarray, keypoints: np.ndarray | None, holes: np.ndarray,
    rng: np.random.Generator, min_visible: float = 0.5, fill: str = "noise",
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """Overwrite `holes` and drop the labels of objects whose visible fraction is below `min_visible`.

    Returns new (image, boxes float32 [M, 4], classes float32 [M], keypoints [M, K, D] or None); M <= N.
    """
    if fill not in FILLS:
        raise ValueError(f"fill must be one of {', '.join(FILLS)}, got {fill!r}")
    h, w = img.shape[:2]
    mask = hole_mask(holes, w, h)
    out = img.copy()
    if fill == "noise":
        out[mask] = rng.integers(0, 256, size=(int(mask.sum()), *img.shape[2:]), dtype=np.uint8)
    else:
        out[mask] = GREY
    keep = visible_fraction(boxes, mask) >= min_visible
    boxes = np.asarray(boxes, np.float32).reshape(-1, 4)[keep]
    kps = None if keypoints is None else np.asarray(keypoints, np.float32)[keep]
    return out, boxes, np.asarray(classes, np.float32).reshape(-1)[keep], kps


def random_erase(
    img: np.ndarray, boxes: np.ndarray, classes: np.ndarray, keypoints: np.ndarray | None, rng: np.random.Generator,
    count: int = 1, max_area: float = 0.2, min_visible: float = 0.5, fill: str = "noise",
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """`random_holes` then `erase`."""
    holes = random_holes(rng, img.shape[1], img.shape[0], count, max_area)
    return erase(img, boxes, classes, keypoints, holes, rng, min_visible, fill)
