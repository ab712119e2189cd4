"""From the raw head output of a batch of tiles to candidate boxes in image pixels. Pure torch, no I/O.

Each batch item shows a region of the image (`Placement`): the region `[x, y, x + w, y + h]` (image pixels),
resized to `content` (input pixels) and placed at the top-left corner of the network input; the rest of the
input is padding. Boxes are clipped to the content, then mapped back per axis (`x * w / content_w + x0`), which
is exact when tiles are not resized.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torchvision import ops as tv_ops

from tinydet.ops.boxes import collapse_inverted, cxcywh_to_xyxy
from tinydet.ops.nms import nms


@dataclass
class Placement:
    """Where the items of a batch come from: origin [B, 2] (x, y), size [B, 2] (w, h) in image pixels, and
    content [B, 2] (w, h) in input pixels. float64 tensors."""

    origin: torch.Tensor
    size: torch.Tensor
    content: torch.Tensor


@dataclass
class Candidates:
    """Boxes of a batch after per-tile NMS: item [M] (batch index), boxes [M, 4] in image pixels, scores [M],
    classes [M]."""

    item: torch.Tensor
    boxes: torch.Tensor
    scores: torch.Tensor
    classes: torch.Tensor

    @staticmethod
    def cat(parts: list[Candidates]) -> Candidates:
        return Candidates(*(torch.cat([getattr(p, f) for p in parts]) for f in ("item", "boxes", "scores", "classes")))


def raw_candidates(raw: torch.Tensor, nc: int, conf: float, end2end: bool) -> tuple[torch.Tensor, ...]:
    """(item [M], boxes xyxy [M, 4] in input pixels, scores [M], classes [M]) of every prediction above `conf`.
    Inverted boxes (x2 < x1 or y2 < y1) come out zero-width/height (`collapse_inverted`).

    Args:
        raw: `[B, 4 + nc (+ extra), A]` (cx, cy, w, h, class scores) or, when `end2end`, `[B, K, 6 (+ extra)]`
            (x1, y1, x2, y2, score, class).
    """
    if raw.ndim != 3:
        raise ValueError(f"raw head output must have 3 dimensions, got shape {list(raw.shape)}")
    if end2end:
        if raw.shape[2] < 6:
            raise ValueError(f"end-to-end output must be [B, K, 6+], got {list(raw.shape)}")
        item, k = (raw[:, :, 4] > conf).nonzero(as_tuple=True)
        rows = raw[item, k]
        return item, collapse_inverted(rows[:, :4]), rows[:, 4], rows[:, 5].long()
    if raw.shape[1] < 4 + nc:
        raise ValueError(f"raw head output has {raw.shape[1]} channels, fewer than 4 + {nc} classes")
    best, cls = raw[:, 4 : 4 + nc].max(1)
    item, a = (best > conf).nonzero(as_tuple=True)
    return item, collapse_inverted(cxcywh_to_xyxy(raw[item, :4, a])), best[item, a], cls[item, a]


def decode(
    raw: torch.Tensor,
    placement: Placement,
    nc: int,
    conf: float,
    end2end: bool,
    iou: float = 0.7,
    agnostic: bool = False,
    max_det: int = 300,
) -> Candidates:
    """Candidates of a batch in image pixels: confidence filter, NMS within each item (as ultralytics does for
    one image; skipped for end-to-end heads), at most `max_det` per item, clipped and mapped to the image."""
    item, boxes, scores, classes = raw_candidates(raw, nc, conf, end2end)
    if not end2end and len(item):
        groups = item if agnostic else item * nc + classes
        keep = tile_nms(boxes, scores, iou, groups)
        item, boxes, scores, classes = item[keep], boxes[keep], scores[keep], classes[keep]
    if len(item):
        item, boxes, scores, classes = _top_per_item(item, boxes, scores, classes, max_det)
    content = placement.content.to(boxes.dtype)[item]
    boxes = torch.minimum(boxes.clamp_min(0), content.repeat(1, 2))
    scale = (placement.size / placement.content).to(torch.float64)[item].repeat(1, 2)
    origin = placement.origin[item].repeat(1, 2)
    boxes = (boxes.double() * scale + origin).to(torch.float32)
    return Candidates(item, boxes, scores.float(), classes)


# candidates; above, tinydet.ops.nms is faster (one thread, 16 groups: about even from 5,000 to 20,000 boxes,
# 0.16-0.21 s against 0.42-0.47 s at 40,000)
TORCHVISION_NMS_MAX = 10_000


def tile_nms(boxes: torch.Tensor, scores: torch.Tensor, iou: float, groups: torch.Tensor) -> torch.Tensor:
    """Greedy NMS within each group (IoU strictly above `iou` suppresses), ties in score broken by input order,
    exactly as tinydet.ops.nms does; indices of the kept boxes [K], by decreasing score.

    Made for the few hundred candidates of a batch of tiles: torchvision's kernel (the one ultralytics runs) is
    3-25x faster there than tinydet.ops.nms, whose sort-and-search pays off only from about 10,000 boxes (a low
    `conf` on large batches), where it takes over. torchvision is given unique ranks instead of scores, so that
    ties (frequent in bf16) break by input order, and float64 boxes, so that its per-group coordinate offsets
    cost no precision.
    """
    if len(boxes) > TORCHVISION_NMS_MAX:
        return nms(boxes, scores, iou, groups).index

    order = torch.sort(scores, descending=True, stable=True).indices
    rank = torch.empty(len(scores), dtype=torch.float64, device=scores.device)
    rank[order] = torch.arange(len(scores), 0, -1, dtype=torch.float64, device=scores.device)
    return tv_ops.batched_nms(boxes.double(), rank, groups, iou)


def _top_per_item(item, boxes, scores, classes, max_det: int):
    """At most `max_det` boxes per item, the best ones (by score; ties by order)."""
    order = torch.sort(scores, descending=True, stable=True).indices
    order = order[torch.sort(item[order], stable=True).indices]
    counts = torch.bincount(item[order])
    starts = torch.cumsum(counts, 0) - counts
    position = torch.arange(len(order)) - starts[item[order]]
    keep = order[position < max_det]
    return item[keep], boxes[keep], scores[keep], classes[keep]
