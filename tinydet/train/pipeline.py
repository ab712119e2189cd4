"""The recipe's training augmentations as one pure pipeline over `Sample`s.

ultralytics loads each training image (resized so its long side is imgsz) and tinydet's adapter
(integrations/ultralytics/training/augment.py, `RecipeAugmentation`) turns it into a `Sample`, runs `augment_sample`, and hands
the result back to ultralytics' own pipeline (mosaic, affine, flips, HSV). `tinydet augment-preview` runs the
same function on dataset images, so what it draws is what training sees.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from tinydet.train import augment, erase, ssd
from tinydet.train.scale_jitter import scale_jitter


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

    Order: random interpolation (re-resize from the original), SSD expand, SSD crop, small-object scale jitter,
    geometry-preserving mixup, small-object copy-paste, random erasing. Each runs with its probability from the
    recipe; with random_interp the geometric steps resize with a random interpolation method too.
    """
    interp = cv2.INTER_LINEAR
    if recipe.random_interp:
        interp = augment.random_interpolation(rng)
        if sample.original is not None:
            original = sample.original()
            if original is not None and original.shape[:2] != sample.img.shape[:2]:
                h, w = sample.img.shape[:2]
                resized = cv2.resize(original, (w, h), interpolation=interp)
                sample.img = resized[..., None] if resized.ndim == 2 else resized
    sample = _geometric(sample, recipe, rng, interp)
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
    if recipe.erase > 0 and rng.random() < recipe.erase:
        img, boxes, classes, kps = erase.random_erase(sample.img, sample.boxes, sample.classes, sample.keypoints, rng,
                                                      int(recipe.erase_holes), recipe.erase_max_area,
                                                      recipe.erase_min_visible, recipe.erase_fill)
        sample = Sample(img, boxes, classes, kps, sample.original)
    return sample


def _geometric(sample: Sample, recipe, rng: np.random.Generator, interp: int) -> Sample:
    """SSD expand, SSD crop and scale jitter (each with its probability), resizing with `interp`."""
    img, boxes, classes, kps = sample.img, sample.boxes, sample.classes, sample.keypoints
    if recipe.ssd_expand > 0 and rng.random() < recipe.ssd_expand:
        img, boxes, kps = ssd.random_expand(img, boxes, kps, rng, recipe.ssd_expand_max, recipe.min_object_size, interp)
    if recipe.ssd_crop > 0 and rng.random() < recipe.ssd_crop:
        img, boxes, classes, kps = ssd.random_crop(img, boxes, classes, kps, rng, recipe.ssd_crop_min_scale, interp)
    if recipe.scale_jitter > 0 and rng.random() < recipe.scale_jitter:
        img, boxes, kps, _ = scale_jitter(img, boxes, kps, rng, recipe.scale_jitter_min, recipe.scale_jitter_max,
                                          recipe.min_object_size, interp)
    if img is sample.img:
        return sample
    return Sample(img, boxes, classes, kps, sample.original)
