"""`analyze`: what a dataset holds (images, classes, box sizes, size buckets) and what to do about it.

Box sizes are given at the images' own resolution ("native") and after ultralytics' training resize, which
scales each image by imgsz / max(width, height). Ignore regions are not counted as instances.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from tinydet.data.dataset import Dataset
from tinydet.data.recommend import (
    AnalysisOptions,
    Recommendations,
    coverage_by_stride,
    recommend_anchors,
    recommend_imbalance,
    recommend_imgsz,
    recommend_overlap,
    recommend_p2,
    recommend_slice,
)
from tinydet.data.sizes import aitod_buckets, box_sides, coco_buckets
from tinydet.data.validate import Problem
from tinydet.errors import TinydetError
from tinydet.files import write_atomic

__all__ = ["Analysis", "AnalysisOptions", "BoxTable", "analyze", "box_table"]


@dataclass
class BoxTable:
    """Every (non-ignore) box of a dataset as columns, [N] each.

    Attributes:
        w, h: box size in native pixels (rounded to 1e-6 px); cx, cy: box centre normalised to [0, 1] by the image size;
        cls: class index; image: index into `Dataset.images()`; long_side: max(width, height) of the image (px).
    """

    w: np.ndarray
    h: np.ndarray
    cx: np.ndarray
    cy: np.ndarray
    cls: np.ndarray
    image: np.ndarray
    long_side: np.ndarray

    def __len__(self) -> int:
        return len(self.w)


def box_table(dataset: Dataset) -> BoxTable:
    """Gather the boxes of all splits into one `BoxTable`."""
    cols: dict[str, list] = {k: [] for k in ("boxes", "cls", "image", "size")}
    for i, im in enumerate(dataset.images()):
        keep = ~im.ignore_mask
        n = int(keep.sum())
        cols["boxes"].append(im.boxes[keep])
        cols["cls"].append(im.classes[keep])
        cols["image"].append(np.full(n, i))
        cols["size"].append(np.tile([im.width, im.height], (n, 1)))
    boxes = np.concatenate(cols["boxes"]) if cols["boxes"] else np.zeros((0, 4))
    size = np.concatenate(cols["size"]).astype(np.float64) if cols["size"] else np.zeros((0, 2))
    w, h = box_sides(boxes)
    return BoxTable(
        w=w,
        h=h,
        cx=(boxes[:, 0] + boxes[:, 2]) / 2 / size[:, 0] if len(size) else np.zeros(0),
        cy=(boxes[:, 1] + boxes[:, 3]) / 2 / size[:, 1] if len(size) else np.zeros(0),
        cls=np.concatenate(cols["cls"]).astype(np.int64) if cols["cls"] else np.zeros(0, np.int64),
        image=np.concatenate(cols["image"]).astype(np.int64) if cols["image"] else np.zeros(0, np.int64),
        long_side=size.max(1) if len(size) else np.zeros(0),
    )


@dataclass
class Distribution:
    """Summary of a quantity over boxes or images (all zero when there is nothing to summarise)."""

    count: int
    mean: float
    min: float
    p5: float
    p25: float
    median: float
    p75: float
    p95: float
    p99: float
    max: float

    @classmethod
    def of(cls, values: np.ndarray) -> "Distribution":
        values = np.asarray(values, np.float64)
        if len(values) == 0:
            return cls(0, *([0.0] * 9))
        q = np.percentile(values, [0, 5, 25, 50, 75, 95, 99, 100])
        r = lambda v: round(float(v), 3)  # noqa: E731
        return cls(len(values), r(values.mean()), *(r(v) for v in q[:6]), r(q[6]), r(q[7]))


@dataclass
class BoxSizes:
    """Box width, height and sqrt(area), in pixels."""

    width: Distribution
    height: Distribution
    sqrt_area: Distribution

    @classmethod
    def of(cls, w: np.ndarray, h: np.ndarray) -> "BoxSizes":
        return cls(Distribution.of(w), Distribution.of(h), Distribution.of(np.sqrt(w * h)))


@dataclass
class Buckets:
    """Box counts per size bucket: COCO (small, medium, large) and AI-TOD (very_tiny ... large)."""

    coco: dict[str, int]
    aitod: dict[str, int]

    @classmethod
    def of(cls, w: np.ndarray, h: np.ndarray) -> "Buckets":
        return cls(coco_buckets(w * h), aitod_buckets(w * h))


@dataclass
class Analysis:
    """The result of `analyze`. `to_dict()` / `to_json()` give its JSON form (every field but `table`).

    Attributes:
        images, instances: counts over all splits read (instances exclude ignore regions, counted in `ignored`).
        splits: split -> {'images': n, 'instances': m}.
        per_class: class name -> instances.
        image_sizes: 'WxH' -> number of images (the 20 most common; the rest as 'other').
        objects_per_image: distribution over images; background_images: images without objects.
        box_sizes / box_sizes_at_imgsz: sizes in native pixels / after the training resize.
        buckets / buckets_at_imgsz: size-bucket counts, native (the usual definition) / at imgsz.
        recommendations: what to do, with reasons.
        problems: validation problem kind -> count (what was skipped or worked around when reading).
        problem_list: every problem (kind, message, file, line, fatal), in file and line order.
    """

    source: str | None
    format: str | None
    imgsz: int
    images: int
    instances: int
    ignored: int
    splits: dict[str, dict[str, int]]
    per_class: dict[str, int]
    image_sizes: dict[str, int]
    objects_per_image: Distribution
    background_images: int
    box_sizes: BoxSizes
    box_sizes_at_imgsz: BoxSizes
    buckets: Buckets
    buckets_at_imgsz: Buckets
    recommendations: Recommendations
    problems: dict[str, int]
    problem_list: list[Problem]
    table: BoxTable | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict:
        out = asdict(self)
        out.pop("table")
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1)

    def write_json(self, path: str | Path) -> Path:
        """Write the JSON form atomically (temporary file, then rename)."""
        path = Path(path)
        write_atomic(path, self.to_json() + "\n")
        return path


def _image_sizes(dataset: Dataset, top: int = 20) -> dict[str, int]:
    counts = Counter(f"{im.width}x{im.height}" for im in dataset.images()).most_common()
    out = dict(counts[:top])
    if len(counts) > top:
        out["other"] = sum(n for _, n in counts[top:])
    return out


def analyze(dataset: Dataset, imgsz: int = 640, options: AnalysisOptions = AnalysisOptions()) -> Analysis:
    """Statistics and recommendations for a dataset (all the splits it holds).

    Args:
        dataset: as returned by `tinydet.data.load_dataset`.
        imgsz: the training size planned (px): sizes "at imgsz" are after ultralytics' resize of each image
            by imgsz / max(width, height).
        options: thresholds of the recommendation rules and the number of anchors.
    """
    if imgsz < 32 or imgsz % 32:
        raise TinydetError(f"imgsz must be a positive multiple of 32, got {imgsz}")
    images = dataset.images()
    if not images:
        raise TinydetError("the dataset has no images to analyse")
    t = box_table(dataset)
    n_images = len(images)
    scale = imgsz / t.long_side if len(t) else np.zeros(0)
    ws, hs = t.w * scale, t.h * scale
    per_image = np.bincount(t.image, minlength=n_images)
    counts = np.bincount(t.cls, minlength=dataset.nc)[: dataset.nc] if len(t) else np.zeros(dataset.nc, np.int64)
    image_freq = np.zeros(dataset.nc)
    if len(t):
        pairs = np.unique(np.stack([t.image, t.cls], 1), axis=0)
        image_freq = np.bincount(pairs[:, 1], minlength=dataset.nc)[: dataset.nc] / n_images
    image_long = np.array([max(im.width, im.height) for im in images], np.float64)

    # imgsz is recommended on its own; the other rules answer "at the size you will train / infer at".
    rec_imgsz, why_imgsz = recommend_imgsz(t.w, t.h, t.long_side, image_long, imgsz, options)
    p2, why_p2 = recommend_p2(ws, hs, imgsz, options)
    tile, why_slice = recommend_slice(t.w, t.h, t.long_side, float(np.median(image_long)), imgsz,
                                      4 if p2 else 8, options)
    overlap, why_overlap = recommend_overlap(t.w, t.h, tile)
    anchors, fit, why_anchors = recommend_anchors(ws, hs, imgsz, options.anchors, options.seed)
    imbalance, why_imbalance = recommend_imbalance(counts, image_freq, dataset.names, options)
    recs = Recommendations(
        imgsz=rec_imgsz, p2=p2, slice=tile, overlap=overlap, anchors=anchors, anchor_fit=round(fit, 4),
        imbalance=imbalance, coverage=coverage_by_stride(ws, hs),
        reasons={"imgsz": why_imgsz, "p2": why_p2, "slice": why_slice, "overlap": why_overlap,
                 "anchors": why_anchors, "imbalance": why_imbalance},
    )
    return Analysis(
        source=None if dataset.source is None else str(dataset.source),
        format=dataset.format,
        imgsz=imgsz,
        images=n_images,
        instances=len(t),
        ignored=sum(int(im.ignore_mask.sum()) for im in images),
        splits={s: {"images": len(ims), "instances": sum(int((~im.ignore_mask).sum()) for im in ims)}
                for s, ims in dataset.splits.items()},
        per_class={name: int(c) for name, c in zip(dataset.names, counts)},
        image_sizes=_image_sizes(dataset),
        objects_per_image=Distribution.of(per_image),
        background_images=int((per_image == 0).sum()),
        box_sizes=BoxSizes.of(t.w, t.h),
        box_sizes_at_imgsz=BoxSizes.of(ws, hs),
        buckets=Buckets.of(t.w, t.h),
        buckets_at_imgsz=Buckets.of(ws, hs),
        recommendations=recs,
        problems=dict(Counter(p.kind for p in dataset.problems)),
        problem_list=list(dataset.problems),
        table=t,
    )
