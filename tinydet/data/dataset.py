"""The internal dataset description every reader produces and every writer consumes.

A new format is then one reader (format -> `Dataset`) and one writer (`Dataset` -> format). Coordinates are
absolute pixels of the image as ultralytics sees it (EXIF orientation applied), boxes as corners xyxy.

Ignore regions (COCO `iscrowd`, VisDrone "ignored regions", VOC "difficult" when asked) are boxes with
`ignore=True`; their class is an index into `names`, or -1 for a region that applies to every class.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np


@dataclass
class ImageLabels:
    """The labels of one image.

    Attributes:
        file: absolute path of the image.
        width, height: image size in pixels (after EXIF rotation).
        boxes: float64 [N, 4], x1, y1, x2, y2 in pixels.
        classes: int64 [N], indices into `Dataset.names`.
        keypoints: float64 [N, K, 3] (x px, y px, visibility 0/1/2), or None.
        ignore: bool [N], True for regions to ignore in training and evaluation (COCO iscrowd, VisDrone
            "ignored regions"), or None when the format has no such notion.
        label_file: where the labels were read from (for error messages), or None.
    """

    file: Path
    width: int
    height: int
    boxes: np.ndarray
    classes: np.ndarray
    keypoints: np.ndarray | None = None
    ignore: np.ndarray | None = None
    label_file: Path | None = None

    def __post_init__(self) -> None:
        self.boxes = np.asarray(self.boxes, np.float64).reshape(-1, 4)
        self.classes = np.asarray(self.classes, np.int64).reshape(-1)
        if len(self.classes) != len(self.boxes):
            raise ValueError(f"{self.file}: {len(self.boxes)} boxes but {len(self.classes)} class ids")
        if self.keypoints is not None:
            self.keypoints = np.asarray(self.keypoints, np.float64)
            if self.keypoints.ndim != 3 or len(self.keypoints) != len(self.boxes):
                raise ValueError(f"{self.file}: keypoints must be [N, K, 2 or 3], got {list(self.keypoints.shape)}")
        if self.ignore is not None:
            self.ignore = np.asarray(self.ignore, bool).reshape(-1)
            if len(self.ignore) != len(self.boxes):
                raise ValueError(f"{self.file}: ignore flags must have one entry per box")

    def __len__(self) -> int:
        return len(self.boxes)

    @property
    def ignore_mask(self) -> np.ndarray:
        """bool [N]: True for ignore regions (all False when the format has none)."""
        return np.zeros(len(self.boxes), bool) if self.ignore is None else self.ignore

    def subset(self, keep: np.ndarray) -> "ImageLabels":
        """The same image with only the boxes selected by `keep` (bool mask [N] or index array)."""
        return replace(
            self,
            boxes=self.boxes[keep],
            classes=self.classes[keep],
            keypoints=None if self.keypoints is None else self.keypoints[keep],
            ignore=None if self.ignore is None else self.ignore[keep],
        )


@dataclass
class Dataset:
    """Images with labels, by split ('train', 'val', 'test'), and the class names.

    Attributes:
        names: class names; class index i is `names[i]`.
        splits: split name -> images, in reading order.
        kpt_shape: (K, 2 or 3) for pose datasets (every box has K keypoints), else None.
        flip_idx: keypoint order after a horizontal flip (pose datasets), or None.
        category_ids: for datasets read from COCO, the original category id of each class index, else None.
        format: the format it was read from ('yolo', 'coco', 'voc', 'visdrone'), or None.
        source: the path it was read from (data.yaml, json file or folder), or None.
        problems: what validation found while reading (`tinydet.data.validate.Problem`); the bad lines and
            images they name are not in `splits`.
    """

    names: list[str]
    splits: dict[str, list[ImageLabels]] = field(default_factory=dict)
    kpt_shape: tuple[int, int] | None = None
    flip_idx: list[int] | None = None
    category_ids: list[int] | None = None
    format: str | None = None
    source: Path | None = None
    problems: list = field(default_factory=list)

    @property
    def nc(self) -> int:
        return len(self.names)

    def images(self, split: str | None = None) -> list[ImageLabels]:
        """Images of one split, or of all splits in order when `split` is None."""
        if split is not None:
            if split not in self.splits:
                raise KeyError(f"no split '{split}' (have: {', '.join(self.splits) or 'none'})")
            return self.splits[split]
        return [im for images in self.splits.values() for im in images]

    def num_instances(self) -> int:
        """Boxes in all splits, ignore regions not counted."""
        return sum(int((~im.ignore_mask).sum()) for im in self.images())
