"""Small-object training augmentations as pure functions on (image, boxes, classes).

Images are uint8 [H, W, C]; boxes float [N, 4] corners (x1, y1, x2, y2) in pixels of that image; classes [N].
None of them resizes an object, so every label stays on its pixels (tests check this by drawing).

- `geometric_mixup` (Zhang et al. 2019, "Bag of Freebies"; seed 003): both images at the top-left of a canvas
  of the larger height and width, blended with ratio lam ~ Beta(1.5, 1.5); the labels of both are kept.
- `paste_small_objects`: mask-free copy-paste that oversamples small objects: rectangular patches of objects
  whose sqrt(area) is at most `max_size` px are pasted at random places where they overlap no box (existing
  or already pasted); each pasted patch becomes a new label.
- `INTERPOLATIONS` / `random_interpolation`: resizing with a randomly chosen OpenCV method (seed 003).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from tinydet.train.geometry import pixel_rect

INTERPOLATIONS = (cv2.INTER_NEAREST, cv2.INTER_LINEAR, cv2.INTER_CUBIC, cv2.INTER_AREA, cv2.INTER_LANCZOS4)


def mixup_ratio(rng: np.random.Generator, alpha: float = 1.5, beta: float = 1.5) -> float:
    """The blend weight of the first image, drawn from Beta(alpha, beta) (the paper's 1.5, 1.5)."""
    return float(rng.beta(alpha, beta))


def geometric_mixup(
    img_a: np.ndarray, boxes_a: np.ndarray, cls_a: np.ndarray,
    img_b: np.ndarray, boxes_b: np.ndarray, cls_b: np.ndarray,
    ratio: float, keypoints_a: np.ndarray | None = None, keypoints_b: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """Blend two images without resizing either: canvas = ratio * A + (1 - ratio) * B, both placed at (0, 0).

    Where only one image covers the canvas it is blended with black. Returns (image, boxes, classes,
    keypoints) with the labels of A then B, unchanged in pixels (keypoints only when both images have them).
    """
    if img_a.ndim != img_b.ndim or img_a.shape[2:] != img_b.shape[2:]:
        raise ValueError(f"images must have the same channels, got {img_a.shape} and {img_b.shape}")
    h, w = max(img_a.shape[0], img_b.shape[0]), max(img_a.shape[1], img_b.shape[1])
    canvas = np.zeros((h, w, *img_a.shape[2:]), np.float32)
    canvas[: img_a.shape[0], : img_a.shape[1]] += ratio * img_a.astype(np.float32)
    canvas[: img_b.shape[0], : img_b.shape[1]] += (1.0 - ratio) * img_b.astype(np.float32)
    image = np.clip(canvas + 0.5, 0, 255).astype(np.uint8)
    boxes = np.concatenate([np.asarray(boxes_a, np.float32).reshape(-1, 4), np.asarray(boxes_b, np.float32).reshape(-1, 4)])
    classes = np.concatenate([np.asarray(cls_a, np.float32).reshape(-1), np.asarray(cls_b, np.float32).reshape(-1)])
    keypoints = None
    if keypoints_a is not None and keypoints_b is not None:
        keypoints = np.concatenate([np.asarray(keypoints_a, np.float32), np.asarray(keypoints_b, np.float32)])
    return image, boxes, classes, keypoints


@dataclass
class Patch:
    """A copied object: its pixels, class and (optionally) keypoints [K, 3] relative to the patch's top-left."""

    pixels: np.ndarray
    cls: int
    keypoints: np.ndarray | None = None


def small_object_patches(
    img: np.ndarray, boxes: np.ndarray, classes: np.ndarray, max_size: float, keypoints: np.ndarray | None = None
) -> list[Patch]:
    """Copies of the objects whose sqrt(area) is at most `max_size` px (keypoints [N, K, 3] carried along)."""
    patches = []
    h, w = img.shape[:2]
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    for i, ((x1, y1, x2, y2), c) in enumerate(zip(boxes, np.asarray(classes).reshape(-1))):
        xa, ya, xb, yb = pixel_rect(boxes[i], w, h)  # the pixels the box touches
        if xb - xa < 1 or yb - ya < 1 or np.sqrt(max(x2 - x1, 0) * max(y2 - y1, 0)) > max_size:
            continue
        kp = None
        if keypoints is not None:
            kp = np.asarray(keypoints[i], np.float32).copy()
            kp[:, 0] -= xa
            kp[:, 1] -= ya
        patches.append(Patch(img[ya:yb, xa:xb].copy(), int(c), kp))
    return patches


def _overlaps_any(box: np.ndarray, boxes: np.ndarray) -> bool:
    if len(boxes) == 0:
        return False
    iw = np.minimum(box[2], boxes[:, 2]) - np.maximum(box[0], boxes[:, 0])
    ih = np.minimum(box[3], boxes[:, 3]) - np.maximum(box[1], boxes[:, 1])
    return bool(((iw > 0) & (ih > 0)).any())


def paste_small_objects(
    img: np.ndarray, boxes: np.ndarray, classes: np.ndarray, patches: list[Patch], rng: np.random.Generator,
    max_paste: int = 10, tries_per_patch: int = 20, keypoints: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """Paste up to `max_paste` patches (chosen at random) where they overlap no box.

    Returns new (image, boxes, classes, keypoints); the pasted objects' boxes are the patch rectangles and come
    after the existing ones. Inputs are not modified. A patch larger than the image, or with no free place
    after `tries_per_patch` random positions, is skipped. `keypoints` ([N, K, 3], or None) must be given when
    the patches carry keypoints.
    """
    out = img.copy()
    all_boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
    all_classes = list(np.asarray(classes).reshape(-1))
    all_keypoints = None if keypoints is None else list(np.asarray(keypoints, np.float32))
    h, w = img.shape[:2]
    for k in (rng.permutation(len(patches))[:max_paste] if patches else []):
        patch = patches[int(k)]
        ph, pw = patch.pixels.shape[:2]
        if ph > h or pw > w:
            continue
        for _ in range(tries_per_patch):
            x, y = int(rng.integers(0, w - pw + 1)), int(rng.integers(0, h - ph + 1))
            candidate = np.array([x, y, x + pw, y + ph], np.float32)
            if _overlaps_any(candidate, all_boxes):
                continue
            out[y : y + ph, x : x + pw] = patch.pixels
            all_boxes = np.concatenate([all_boxes, candidate[None]])
            all_classes.append(patch.cls)
            if all_keypoints is not None:
                kp = patch.keypoints.copy()
                kp[:, 0] += x
                kp[:, 1] += y
                all_keypoints.append(kp)
            break
    kps = None if all_keypoints is None else np.asarray(all_keypoints, np.float32).reshape(len(all_boxes), *np.shape(keypoints)[1:])
    return out, all_boxes, np.asarray(all_classes, np.float32), kps


def random_interpolation(rng: np.random.Generator) -> int:
    """One of the OpenCV interpolation flags in INTERPOLATIONS, uniformly."""
    return INTERPOLATIONS[int(rng.integers(len(INTERPOLATIONS)))]
