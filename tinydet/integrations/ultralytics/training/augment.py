"""The recipe's augmentations (tinydet/train/pipeline.py) inside ultralytics' training dataset."""

from __future__ import annotations

import numpy as np
from ultralytics.utils.instance import Instances
from ultralytics.utils.patches import imread

from tinydet.train.pipeline import Sample, augment_sample


class RecipeAugmentation:
    """Wraps a training dataset's `get_image_and_label` so every loaded image (mosaic tiles included) goes
    through the recipe's augmentations (tinydet/train/pipeline.py), in pixels, before ultralytics' own pipeline.

    Random numbers come from numpy's global generator, which ultralytics seeds per dataloader worker, so runs
    stay reproducible with `seed`/`deterministic`.
    """

    def __init__(self, dataset, recipe):
        self.dataset, self.recipe = dataset, recipe
        self.load = dataset.get_image_and_label  # the original bound method

    def _sample(self, label):
        """An ultralytics label dict as a tinydet Sample (boxes and keypoints in pixels)."""
        instances = label["instances"]
        h, w = label["img"].shape[:2]
        instances.convert_bbox("xyxy")
        instances.denormalize(w, h)
        kps = None if instances.keypoints is None else np.asarray(instances.keypoints, np.float32)
        file, flag = label["im_file"], self.dataset.cv2_flag
        return Sample(label["img"], np.asarray(instances.bboxes, np.float32), np.asarray(label["cls"], np.float32).reshape(-1),
                      kps, lambda: imread(file, flags=flag))

    @staticmethod
    def _store(label, sample):
        segment_points = label["instances"].segments.shape[1]  # keep ultralytics' empty-segments shape
        label["img"] = sample.img
        label["resized_shape"] = sample.img.shape[:2]
        label["cls"] = np.asarray(sample.classes, np.float32).reshape(-1, 1)
        label["instances"] = Instances(np.asarray(sample.boxes, np.float32).reshape(-1, 4),
                                       np.zeros((0, segment_points, 2), np.float32), sample.keypoints,
                                       bbox_format="xyxy", normalized=False)
        return label

    def __call__(self, index):
        label = self.load(index)
        rng = np.random.default_rng(np.random.randint(0, 2**31))
        other = lambda: self._sample(self.load(int(rng.integers(len(self.dataset)))))  # noqa: E731
        return self._store(label, augment_sample(self._sample(label), self.recipe, rng, other))
