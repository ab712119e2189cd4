"""Box -> centre-keypoint labels, for the pose-auxiliary training recipe.

Every box gets one keypoint at its centre, visible (v = 2): YOLO pose rows `cls cx cy w h cx cy 2`, with
`kpt_shape: [1, 3]` and `flip_idx: [0]` (a centre stays the centre under a horizontal flip) in data.yaml.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from tinydet.data.convert import write_dataset
from tinydet.data.dataset import Dataset
from tinydet.data.loading import load_dataset
from tinydet.data.outdir import check_new_folder
from tinydet.errors import TinydetError


def centre_keypoints(boxes: np.ndarray) -> np.ndarray:
    """boxes float [N, 4] xyxy px -> keypoints float64 [N, 1, 3]: (box centre x, y in px, visibility 2)."""
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    centre = (boxes[:, :2] + boxes[:, 2:]) / 2
    return np.concatenate([centre, np.full((len(boxes), 1), 2.0)], axis=1)[:, None, :]


def with_centre_keypoints(dataset: Dataset) -> Dataset:
    """A copy of a detection dataset whose boxes each carry their centre as one keypoint."""
    if dataset.kpt_shape is not None:
        raise TinydetError(f"the dataset already has keypoints (kpt_shape {list(dataset.kpt_shape)}); centre "
                           "keypoints are made from a detection dataset")
    splits = {split: [replace(im, keypoints=centre_keypoints(im.boxes)) for im in images]
              for split, images in dataset.splits.items()}
    return replace(dataset, splits=splits, kpt_shape=(1, 3), flip_idx=[0])


def to_pose_dataset(src_data_yaml: str | Path, out_dir: str | Path, skip_bad: bool = False) -> Path:
    """Write a copy of a detection dataset with centre-keypoint labels to the new folder `out_dir`.

    The source (validated like any input) is not modified; images are copied. Returns the new data.yaml.
    """
    check_new_folder(out_dir)  # fail before reading a large dataset
    dataset = load_dataset(src_data_yaml, skip_bad=skip_bad)
    return write_dataset(with_centre_keypoints(dataset), out_dir, "yolo")
