"""SSD's random expand (zoom out) and minimum-IoU random crop (zoom in) (Liu et al., "SSD: Single Shot MultiBox
Detector", ECCV 2016, sec. 2.2 "Data augmentation"; seed 003).

Both end by resizing the result back to the input's size (expand) or long side (crop), as SSD resizes every
sample to its fixed input: without that, ultralytics' mosaic would place the larger or smaller image at its own
size and the objects would keep their pixel size. Boxes and keypoints are rescaled exactly with the image.

- `random_expand`: the image goes at a random place of a canvas `ratio` times its height and width filled with
  its mean colour (ratio ~ U(1, max_ratio), SSD: 4), then the canvas is resized back to the input's size:
  objects shrink by 1 / ratio. `max_ratio` is capped by `geometry.shrink_floor` so that no object falls below
  `min_size` px (objects already smaller are never shrunk: no expansion at all for that image).
- `random_crop`: SSD's sampler. A mode is drawn uniformly from: the whole image (no crop), a minimum IoU of
  0.1, 0.3, 0.5, 0.7 or 0.9, or no constraint. For a minimum-IoU mode up to 50 crops are tried with side
  scale ~ U(min_scale, 1) and aspect ratio within [1/2, 2]; a crop is accepted when its IoU with *some*
  ground-truth box reaches the minimum (the reference implementations require it of *every* box, which an
  image with many objects almost never satisfies) and the centre of at least one box lies inside it. Boxes
  whose centre is inside are kept, clipped to the crop; the others are dropped. When all 50 tries fail another
  mode is drawn (as in the seed's code), up to `rounds` times, then the sample is returned unchanged. The crop
  is resized so that its long side equals the input's (the content grows by at least 1x).

Tiny objects: the IoU of an s x s px box with a crop of side at least min_scale * W is at most
s^2 / (min_scale * W)^2 (0.003 for 10 px in a 640 px image at min_scale 0.3), so the minimum-IoU modes can
only succeed for large objects; on tiny-object data the sampler ends in the whole-image or the unconstrained
mode. Lowering `min_scale` allows tighter crops (stronger zoom-in).
"""

from __future__ import annotations

import cv2
import numpy as np

from tinydet.train.geometry import (
    box_iou_one,
    hide_outside,
    resize_sample,
    shift_sample,
    shrink_floor,
)

MIN_IOU_MODES = (None, 0.1, 0.3, 0.5, 0.7, 0.9, 0.0)  # None: keep the whole image; 0.0: no constraint
TRIES_PER_MODE = 50


def random_expand(
    img: np.ndarray, boxes: np.ndarray, keypoints: np.ndarray | None, rng: np.random.Generator,
    max_ratio: float = 4.0, min_size: float = 0.0, interpolation: int = cv2.INTER_LINEAR,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Zoom out: place the image on a mean-colour canvas up to `max_ratio` times larger, resize back to H x W.

    Returns (image [H, W, C] uint8, boxes float32 [N, 4], keypoints) in the output's pixels. The ratio is drawn
    from U(1, min(max_ratio, 1 / shrink_floor(boxes, min_size))).
    """
    floor = shrink_floor(boxes, min_size)
    limit = max_ratio if floor <= 0 else min(max_ratio, 1.0 / floor)
    if limit <= 1.0:
        return img, np.asarray(boxes, np.float32).reshape(-1, 4), keypoints
    ratio = float(rng.uniform(1.0, limit))
    h, w = img.shape[:2]
    ch, cw = int(h * ratio), int(w * ratio)  # rounded down: objects never shrink by more than 1 / ratio
    left, top = int(rng.integers(0, cw - w + 1)), int(rng.integers(0, ch - h + 1))
    mean = img.reshape(-1, img.shape[2] if img.ndim == 3 else 1).mean(0)
    canvas = np.empty((ch, cw, *img.shape[2:]), img.dtype)
    canvas[...] = np.round(mean).astype(img.dtype).reshape(img.shape[2:] or ())
    canvas[top : top + h, left : left + w] = img
    boxes, keypoints = shift_sample(boxes, keypoints, left, top)
    return resize_sample(canvas, boxes, keypoints, w, h, interpolation)


def _crop_candidate(rng: np.random.Generator, w: int, h: int, min_scale: float) -> np.ndarray:
    """One crop rectangle [x1, y1, x2, y2] (integers) with SSD's scale and aspect-ratio ranges."""
    scale = rng.uniform(min_scale, 1.0)
    lo, hi = max(0.5, scale * scale), min(2.0, 1.0 / (scale * scale))
    ratio = np.sqrt(rng.uniform(lo, hi))
    cw, ch = max(1, min(w, int(scale * ratio * w))), max(1, min(h, int(scale / ratio * h)))
    left, top = int(rng.integers(0, w - cw + 1)), int(rng.integers(0, h - ch + 1))
    return np.array([left, top, left + cw, top + ch], np.float64)


def centres_inside(boxes: np.ndarray, rect: np.ndarray) -> np.ndarray:
    """bool [N]: the centre of each box lies strictly inside `rect` [4]."""
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    c = (boxes[:, :2] + boxes[:, 2:]) / 2
    return ((rect[:2] < c) & (c < rect[2:])).all(1)


def sample_crop(
    boxes: np.ndarray, w: int, h: int, rng: np.random.Generator, min_scale: float = 0.3, rounds: int = 10
) -> np.ndarray | None:
    """SSD's crop sampler (see the module docstring): a crop [x1, y1, x2, y2] in pixels, or None for no crop."""
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    if len(boxes) == 0:
        return None
    for _ in range(rounds):
        min_iou = MIN_IOU_MODES[int(rng.integers(len(MIN_IOU_MODES)))]
        if min_iou is None:
            return None
        for _ in range(TRIES_PER_MODE):
            rect = _crop_candidate(rng, w, h, min_scale)
            if box_iou_one(rect, boxes).max() < min_iou:
                continue
            if centres_inside(boxes, rect).any():
                return rect
    return None


def crop_sample(
    img: np.ndarray, boxes: np.ndarray, classes: np.ndarray, keypoints: np.ndarray | None, rect: np.ndarray,
    interpolation: int = cv2.INTER_LINEAR,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """Cut `rect` (integer pixel corners) out; keep the boxes whose centre is inside, clipped; resize the crop so
    its long side equals the input's. Keypoints outside the crop get visibility 0.

    Returns (image, boxes float32 [M, 4], classes float32 [M], keypoints [M, K, D] or None).
    """
    h, w = img.shape[:2]
    x1, y1, x2, y2 = (int(v) for v in rect)
    keep = centres_inside(boxes, np.asarray(rect, np.float64))
    boxes = np.asarray(boxes, np.float32).reshape(-1, 4)[keep]
    boxes = np.clip(boxes, [x1, y1, x1, y1], [x2, y2, x2, y2])
    kps = None if keypoints is None else np.asarray(keypoints, np.float32)[keep]
    boxes, kps = shift_sample(boxes, kps, -x1, -y1)
    cw, ch = x2 - x1, y2 - y1
    kps = hide_outside(kps, cw, ch)
    scale = max(w, h) / max(cw, ch)
    out, boxes, kps = resize_sample(img[y1:y2, x1:x2], boxes, kps, max(1, round(cw * scale)), max(1, round(ch * scale)),
                                    interpolation)
    return out, boxes, np.asarray(classes, np.float32).reshape(-1)[keep], kps


def random_crop(
    img: np.ndarray, boxes: np.ndarray, classes: np.ndarray, keypoints: np.ndarray | None, rng: np.random.Generator,
    min_scale: float = 0.3, interpolation: int = cv2.INTER_LINEAR,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """`sample_crop` then `crop_sample`; an image without boxes, or a whole-image draw, comes back unchanged."""
    rect = sample_crop(boxes, img.shape[1], img.shape[0], rng, min_scale)
    if rect is None:
        return img, np.asarray(boxes, np.float32).reshape(-1, 4), np.asarray(classes, np.float32).reshape(-1), keypoints
    return crop_sample(img, boxes, classes, keypoints, rect, interpolation)
