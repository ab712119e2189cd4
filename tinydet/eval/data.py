"""The evaluator's input: ground truth and predictions as flat columns (one row per box, never one object per box).

Conventions:

- Boxes are `xywh` float64 [N, 4] in pixels (x, y of the top-left corner, width, height), as in COCO JSON.
- Images are numbered 0..I-1 in the order of their ids (ascending, like pycocotools); ties between equal scores
  in different images are broken in that order, as pycocotools does.
- Categories are numbered 0..K-1 in the order of their ids. For ground truth made from YOLO labels the category
  id *is* the YOLO class index (0-based), and so is the class of tinydet's predictions. For a COCO ground-truth
  JSON, prediction category ids are matched to its category ids as they are.
- `area` of a ground-truth box is what size buckets use: the annotation's `area` when a COCO JSON gives one
  (pycocotools does the same), otherwise w * h. A prediction's area is always w * h.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from tinydet.data.dataset import ImageLabels
from tinydet.data.sizes import box_sides
from tinydet.detections import Detections
from tinydet.errors import TinydetError


@dataclass
class _BoxColumns:
    """Columns every box table has: image, category (int64 [N] indices) and xywh (float64 [N, 4] px)."""

    image: np.ndarray
    category: np.ndarray
    xywh: np.ndarray

    def _coerce(self, **extra) -> None:
        """Coerce the box columns and `extra` ones (name=dtype, [N]) in place; check they all have N rows."""
        self.xywh = np.asarray(self.xywh, np.float64).reshape(-1, 4)
        for name, dtype in {"image": np.int64, "category": np.int64, **extra}.items():
            setattr(self, name, np.asarray(getattr(self, name), dtype).reshape(-1))
            if len(getattr(self, name)) != len(self.xywh):
                raise ValueError(f"{type(self).__name__}.{name} has {len(getattr(self, name))} rows, xywh {len(self.xywh)}")

    def __len__(self) -> int:
        return len(self.xywh)


@dataclass
class GroundTruth(_BoxColumns):
    """All ground-truth boxes of a split.

    Attributes:
        image_ids: [I] the images' ids (ints, or file names), ascending.
        image_files: [I] file names or paths ('' when unknown), used to match predictions and draw samples.
        image_sizes: int64 [I, 2] (width, height) px, 0 when unknown.
        category_ids: int64 [K] ascending; `category_names` [K] alongside.
        image, category: int64 [G] row -> image index, category index.
        xywh: float64 [G, 4]; area: float64 [G]; crowd: bool [G] (COCO iscrowd / ignore regions).
        source: where it was read from (for error messages).
    """

    image_ids: list
    image_files: list[str]
    image_sizes: np.ndarray
    category_ids: np.ndarray
    category_names: list[str]
    area: np.ndarray
    crowd: np.ndarray
    source: str = "ground truth"

    def __post_init__(self) -> None:
        self.image_sizes = np.asarray(self.image_sizes, np.int64).reshape(-1, 2)
        self.category_ids = np.asarray(self.category_ids, np.int64).reshape(-1)
        self._coerce(area=np.float64, crowd=bool)
        if len(self.image_files) != len(self.image_ids) or len(self.image_sizes) != len(self.image_ids):
            raise ValueError("GroundTruth image columns must all have one row per image")
        if len(self.category_names) != len(self.category_ids):
            raise ValueError("GroundTruth needs one name per category id")

    @property
    def n_images(self) -> int:
        return len(self.image_ids)

    @property
    def n_categories(self) -> int:
        return len(self.category_ids)


@dataclass
class Predictions(_BoxColumns):
    """All predicted boxes: image, category (indices into the GroundTruth's lists), xywh float64 px, score.

    Row order is the file order, which breaks ties between equal scores within an image (as in pycocotools).
    """

    score: np.ndarray
    source: str = "predictions"

    def __post_init__(self) -> None:
        self._coerce(score=np.float64)

    @classmethod
    def empty(cls, source: str = "predictions") -> Predictions:
        return cls(np.zeros(0), np.zeros(0), np.zeros((0, 4)), np.zeros(0), source)


def xyxy_to_xywh(xyxy: np.ndarray) -> np.ndarray:
    """[N, 4] corners -> [N, 4] (x, y, w, h), computed in float64."""
    xywh = np.asarray(xyxy, np.float64).reshape(-1, 4).copy()
    xywh[:, 2:] -= xywh[:, :2]
    return xywh


def lookup(sorted_ids: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions of `values` in the ascending array `sorted_ids`, and a mask of the values found there."""
    values = np.asarray(values)
    numeric = sorted_ids.dtype.kind in "iuf", values.dtype.kind in "iuf"
    if len(sorted_ids) == 0 or (len(values) and numeric[0] != numeric[1]):
        return np.zeros(len(values), np.int64), np.zeros(len(values), bool)
    pos = np.searchsorted(sorted_ids, values)
    pos = np.minimum(pos, len(sorted_ids) - 1)
    return pos.astype(np.int64), sorted_ids[pos] == values


def check_boxes(xywh: np.ndarray, what: str, source: str) -> None:
    """Finite coordinates and non-negative sizes, or a TinydetError naming `source` and the first bad row."""
    bad = ~np.isfinite(xywh).all(axis=1) | (xywh[:, 2] < 0) | (xywh[:, 3] < 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise TinydetError(f"{source}: {what} {i} has an invalid box {xywh[i].tolist()} (need finite x, y, w >= 0, h >= 0)")


def ground_truth_from_images(images: Sequence[ImageLabels], names: Sequence[str] | None = None, source: str = "dataset") -> GroundTruth:
    """GroundTruth of a split of the internal dataset: image i gets id i, class c is category id c (0-based).

    `names` are the class names (Dataset.names); when None, categories 0..max class are named by number.
    `ImageLabels.ignore` marks crowd / ignore regions.
    """
    n_boxes = [len(im) for im in images]
    classes = np.concatenate([im.classes for im in images]) if images else np.zeros(0, np.int64)
    if names is None:
        names = [str(c) for c in range(int(classes.max()) + 1 if len(classes) else 0)]
    if len(classes) and (classes.min() < 0 or classes.max() >= len(names)):
        for im in images:
            bad = (im.classes < 0) | (im.classes >= len(names))
            if bad.any():
                where = im.label_file or im.file
                raise TinydetError(f"{where}: class {int(im.classes[bad][0])} is not one of the {len(names)} classes")
    boxes = np.concatenate([im.boxes for im in images]) if images else np.zeros((0, 4))
    xywh = xyxy_to_xywh(boxes)
    check_boxes(xywh, "label", source)
    w, h = box_sides(boxes)
    crowd = np.concatenate([im.ignore if im.ignore is not None else np.zeros(len(im), bool) for im in images]) if images else np.zeros(0, bool)
    return GroundTruth(
        image_ids=list(range(len(images))),
        image_files=[str(im.file) for im in images],
        image_sizes=np.array([[im.width, im.height] for im in images], np.int64).reshape(-1, 2),
        category_ids=np.arange(len(names)),
        category_names=[str(n) for n in names],
        image=np.repeat(np.arange(len(images)), n_boxes),
        category=classes,
        xywh=xywh,
        area=w * h,  # sides rounded as analyze rounds them: an 8 x 8 px label has area 64, not 63.99999999999
        crowd=crowd,
        source=source,
    )


def predictions_from_detections(detections: Sequence[Detections], gt: GroundTruth, source: str = "detections") -> Predictions:
    """Predictions from one `Detections` per ground-truth image (same order); class_id c is category id c."""
    if len(detections) != gt.n_images:
        raise TinydetError(f"{source}: {len(detections)} Detections for {gt.n_images} images (need one per image, same order)")
    counts = [len(d) for d in detections]
    if not sum(counts):
        return Predictions.empty(source)
    class_id = np.concatenate([d.class_id for d in detections])
    category, known = lookup(gt.category_ids, class_id)
    if not known.all():
        raise TinydetError(
            f"{source}: class id {int(class_id[~known][0])} is not a ground-truth category "
            f"(have {gt.category_ids.tolist()[:20]})"
        )
    return Predictions(
        image=np.repeat(np.arange(len(detections)), counts),
        category=category,
        xywh=xyxy_to_xywh(np.concatenate([d.xyxy for d in detections])),
        score=np.concatenate([d.confidence for d in detections]).astype(np.float64),
        source=source,
    )
