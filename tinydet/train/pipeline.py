"""The recipe's training augmentations as one pure pipeline over `Sample`s.

ultralytics loads each training image (resized so its long side is imgsz) and tinydet's adapter
(integrations/ultralytics.py, `RecipeAugmentation`) turns it into a `Sample`, runs `augment_sample`, and hands
the result back to ultralytics' own pipeline (mosaic, affine, flips, HSV). `tinydet augment-preview` runs the
same function on dataset images, so what it draws is what training sees.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from tinydet.train import augment


@dataclass
class Sample:
    """One training image and its labels, in pixels.

    img: uint8 [H, W, C] (BGR); boxes: float32 [N, 4] x1, y1, x2, y2; classes: float32 [N];
    keypoints: float32 [N, K, 3] or None; original: a loader for the full-resolution image (for
    re-interpolation), or None.
    """

    img: np.ndarray
    boxes: np.ndarray
    classes: np.ndarray
    keypoints: np.ndarray | None = None
    original: Callable[[], np.ndarray | None] | None = None


def augment_sample(sample: Sample, recipe, rng: np.random.Generator, other: Callable[[], Sample]) -> Sample:
    """Apply the recipe's augmentations in order; `other()` loads a random other training sample.

    Order: random interpolation (re-resize from the original), geometry-preserving mixup, small-object
    copy-paste. Each runs with its probability from the recipe.
    """
    if recipe.random_interp and sample.original is not None:
        original = sample.original()
        if original is not None and original.shape[:2] != sample.img.shape[:2]:
            h, w = sample.img.shape[:2]
            resized = cv2.resize(original, (w, h), interpolation=augment.random_interpolation(rng))
            sample.img = resized[..., None] if resized.ndim == 2 else resized
    if recipe.geo_mixup > 0 and rng.random() < recipe.geo_mixup:
        b = other()
        img, boxes, classes, kps = augment.geometric_mixup(sample.img, sample.boxes, sample.classes, b.img, b.boxes,
                                                           b.classes, augment.mixup_ratio(rng), sample.keypoints, b.keypoints)
        sample = Sample(img, boxes, classes, kps, sample.original)
    if recipe.small_copy_paste > 0 and rng.random() < recipe.small_copy_paste:
        donor = other()
        size = recipe.copy_paste_max_size
        patches = augment.small_object_patches(donor.img, donor.boxes, donor.classes, size, donor.keypoints)
        patches += augment.small_object_patches(sample.img, sample.boxes, sample.classes, size, sample.keypoints)
        img, boxes, classes, kps = augment.paste_small_objects(sample.img, sample.boxes, sample.classes, patches, rng,
                                                               max_paste=recipe.copy_paste_max, keypoints=sample.keypoints)
        sample = Sample(img, boxes, classes, kps, sample.original)
    return sample
