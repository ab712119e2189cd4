"""Ensembles and test-time augmentation (TTA): several predictions of one image fused into one `Detections`.

    from tinydet.infer.ensemble import EnsembleOptions, EnsemblePredictor
    from tinydet.infer.sliced import SlicedPredictor, SliceOptions
    slicing = SliceOptions(slice=(640, 640))
    predictor = EnsemblePredictor([SlicedPredictor("a.pt", slicing), SlicedPredictor("b.pt", slicing)],
                                  EnsembleOptions(merge="wbf", flip=True, scales=(0.83, 1.0, 1.25)))
    detections = predictor("big.tif")

A *pass* is one model on one view of the image (tinydet.ops.tta.Augment: resized, mirrored). Every pass is a
complete prediction (sliced or not, with its own merge across tiles); its boxes are mapped back to the original
image exactly (pure functions in tinydet.ops.tta), and the boxes of all passes are fused once, by weighted boxes
fusion by default or any merge of tinydet.ops.merge. With `vote` (on by default) a fused box's score is then
multiplied by the fraction of passes that found it (a box of the same class matching it above `iou`), as in
the ensembling form of WBF (Solovyev et al. 2021): a box that only one of four passes saw keeps a quarter of its
score. With identical passes nothing changes: an ensemble of a model with itself returns the model's boxes
(when no two of them match each other, which WBF would fuse).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from tinydet.detections import Detections
from tinydet.errors import TinydetError
from tinydet.infer.images import ArrayReader, from_array, open_image
from tinydet.ops.boxes import SIMILARITIES
from tinydet.ops.clusters import overlap_pairs
from tinydet.ops.merge import MERGES, check_method, merge
from tinydet.ops.tta import Augment, tta_views


@dataclass(frozen=True)
class EnsembleOptions:
    """How the passes of an ensemble / TTA are made and fused.

    merge: nms, soft-nms, diou-nms, wbf (default), nmm, greedy-nmm; match: 'iou' or 'ios' (None: the merge's
        default); iou: match threshold (0.55, WBF's usual); agnostic: fuse boxes of different classes too.
    conf_type: WBF's fused score, 'avg' (mean of the members) or 'max'.
    vote: multiply each fused score by (passes that found the box) / (passes).
    flip: add horizontally mirrored views; scales: image scale factors of the views (1.0 is the image as is).
    """

    merge: str = "wbf"
    match: str | None = None
    iou: float = 0.55
    agnostic: bool = False
    conf_type: str = "avg"
    vote: bool = True
    flip: bool = False
    scales: tuple[float, ...] = (1.0,)

    def __post_init__(self) -> None:
        try:
            check_method(self.merge, self.match)
        except ValueError as e:
            raise TinydetError(str(e)) from None
        if not 0 <= self.iou <= 1:
            raise TinydetError(f"ensemble iou must be in [0, 1], got {self.iou}")
        if self.conf_type not in ("avg", "max"):
            raise TinydetError(f"conf_type must be 'avg' or 'max', got '{self.conf_type}'")
        scales = tuple(float(s) for s in self.scales)
        if not scales or any(not (0.05 <= s <= 20) for s in scales):
            raise TinydetError(f"TTA scales must lie in [0.05, 20], got {list(self.scales)}")
        object.__setattr__(self, "scales", scales)

    @property
    def views(self) -> list[Augment]:
        return tta_views(self.flip, self.scales)


class EnsemblePredictor:
    """Fuses the predictions of several predictors on several views of each image (see the module docstring).

    `predictors`: anything with `names` and `predict_reader(reader) -> Detections` (SlicedPredictor); all must
    have the same classes.
    """

    def __init__(self, predictors: Sequence, options: EnsembleOptions = EnsembleOptions(), labels: Sequence[str] | None = None):
        if not predictors:
            raise TinydetError("an ensemble needs at least one model")
        self.predictors = list(predictors)
        self.options = options
        self.views = options.views
        labels = list(labels) if labels is not None else [f"model {i}" for i in range(len(self.predictors))]
        self.names: dict[int, str] = dict(self.predictors[0].names)
        for label, p in zip(labels[1:], self.predictors[1:]):
            if dict(p.names) != self.names:
                raise TinydetError(
                    f"{label} has classes {_short(p.names)} but {labels[0]} has {_short(self.names)}: "
                    "an ensemble fuses boxes class by class, so every model needs the same classes"
                )

    @property
    def passes(self) -> int:
        return len(self.predictors) * len(self.views)

    def __call__(self, image: str | Path | np.ndarray) -> Detections:
        """Fused detections of one image (a path, or a BGR uint8 array), in its pixels."""
        max_pixels = getattr(getattr(self.predictors[0], "options", None), "max_pixels", None)
        reader = open_image(image, *([max_pixels] if max_pixels else [])) if isinstance(image, (str, Path)) else from_array(image)
        try:
            return self.predict_reader(reader)
        finally:
            reader.close()

    def predict_reader(self, reader) -> Detections:
        """Fused detections of an open image reader (tinydet.infer.images)."""
        parts = []
        for view in self.views:
            viewed = view_reader(reader, view)
            for predictor in self.predictors:
                found = predictor.predict_reader(viewed)
                parts.append(Detections(view.inverse(found.xyxy, reader.width, reader.height), found.confidence,
                                        found.class_id))
        if len(parts) == 1:
            return parts[0]
        return fuse(parts, self.options)


def fuse(parts: Sequence[Detections], options: EnsembleOptions = EnsembleOptions()) -> Detections:
    """The boxes of several passes over one image, fused into one `Detections` sorted by decreasing confidence.

    Args:
        parts: one `Detections` per pass, all in the same image's pixels.
        options: merge, match, iou, agnostic, conf_type and vote (see `EnsembleOptions`).
    """
    every = Detections.merge(list(parts))
    if not len(every):
        return Detections.empty()
    boxes = torch.from_numpy(every.xyxy.astype(np.float64))
    scores = torch.from_numpy(every.confidence.astype(np.float64))
    classes = torch.from_numpy(every.class_id)
    groups = None if options.agnostic else classes
    kwargs = {"conf_type": options.conf_type} if options.merge == "wbf" else {}
    merged = merge(options.merge, boxes, scores, groups, options.iou, options.match, **kwargs)
    fused_scores = merged.scores
    if options.vote and len(parts) > 1:
        pass_id = torch.repeat_interleave(torch.arange(len(parts)), torch.tensor([len(p) for p in parts]))
        found_by = pass_support(merged.boxes, classes[merged.index], pass_id[merged.index], boxes, classes, pass_id,
                                options.iou, options.match or MERGES[options.merge].default_metric, options.agnostic)
        fused_scores = fused_scores * found_by.double() / len(parts)
    order = torch.sort(fused_scores, descending=True, stable=True).indices
    return Detections(merged.boxes[order].numpy().astype(np.float32), fused_scores[order].numpy().astype(np.float32),
                      classes[merged.index][order].numpy())


def pass_support(
    fused: torch.Tensor, fused_class: torch.Tensor, own_pass: torch.Tensor,
    boxes: torch.Tensor, classes: torch.Tensor, pass_id: torch.Tensor,
    threshold: float, metric: str = "iou", agnostic: bool = False,
) -> torch.Tensor:
    """For each fused box, the number of passes with a box matching it: int64 [M].

    Args:
        fused: [M, 4] xyxy fused boxes; fused_class: int [M]; own_pass: int [M], the pass of each fused box's
            representative (always counted).
        boxes: [N, 4] xyxy, every input box; classes: int [N]; pass_id: int [N] in [0, P).
        threshold: a box matches when its similarity with the fused box is strictly above it ('diou' uses DIoU).
        agnostic: match boxes of any class.
    """
    m, n = len(fused), len(boxes)
    passes = int(pass_id.max()) + 1 if n else 1
    seen = torch.zeros(m, passes, dtype=torch.bool)
    seen[torch.arange(m), own_pass] = True
    together = torch.cat([fused, boxes])
    groups = None if agnostic else torch.cat([fused_class, classes])
    i, j = overlap_pairs(together, groups)  # i < j: a fused box (< m) pairs with an input box (>= m)
    keep = (i < m) & (j >= m)
    i, j = i[keep], j[keep] - m
    similarity = SIMILARITIES[metric]
    hit = similarity(fused[i], boxes[j]) > threshold
    seen[i[hit], pass_id[j[hit]]] = True
    return seen.sum(1)


def view_reader(reader, view: Augment):
    """A reader of the image as `view` sees it: resized (the whole image, in memory), mirrored (lazily)."""
    if view.identity:
        return reader
    if view.scale != 1.0:
        w, h = view.size(reader.width, reader.height)
        reader = ArrayReader(np.ascontiguousarray(reader.resized(w, h)), getattr(reader, "name", "array"))
    if view.flip:
        if isinstance(reader, ArrayReader):
            return ArrayReader(np.ascontiguousarray(reader.pixels[:, ::-1]), reader.name)
        return FlippedReader(reader)
    return reader


class FlippedReader:
    """A reader mirrored left-right, reading the underlying one region by region (for large TIFFs)."""

    def __init__(self, inner):
        self.inner, self.name = inner, getattr(inner, "name", "image")
        self.width, self.height = inner.width, inner.height

    def read(self, x1: int, y1: int, x2: int, y2: int) -> np.ndarray:
        return np.ascontiguousarray(self.inner.read(self.width - x2, y1, self.width - x1, y2)[:, ::-1])

    def resized(self, width: int, height: int) -> np.ndarray:
        return np.ascontiguousarray(self.inner.resized(width, height)[:, ::-1])

    def close(self) -> None:
        pass  # the underlying reader is closed by whoever opened it


def _short(names) -> str:
    values = list(dict(names).values())
    return "[" + ", ".join(values[:5]) + (f", ... ({len(values)} classes)" if len(values) > 5 else "") + "]"


__all__ = ["EnsembleOptions", "EnsemblePredictor", "FlippedReader", "fuse", "pass_support", "view_reader"]
