"""Box geometry as pure torch functions: areas, format conversion, the IoU family, IoS, centre distance, NWD.

Boxes are corners `(x1, y1, x2, y2)` in pixels, float tensors with a last dimension of 4, unless a name says
otherwise (`cxcywh`: centre x, centre y, width, height).

Two forms of every similarity:

- elementwise (`iou`, `giou`, ...): `a [..., 4]` and `b [..., 4]` broadcast against each other; the result has
  the broadcast shape without the last dimension. Losses use this (prediction i against its target i).
- pairwise (`pairwise_iou`, ...): `a [..., N, 4]`, `b [..., M, 4]` -> `[..., N, M]`, every box of `a` against
  every box of `b` (leading dimensions broadcast, so `[B, N, 4]` against `[B, M, 4]` gives `[B, N, M]`).
  Assigners and merging use this.

Everything is differentiable. Divisions use a denominator clamped at `eps`, so degenerate boxes (zero width or
height) give finite values instead of NaN; for ordinary boxes the results are exact.
"""

from __future__ import annotations

import math

import torch

EPS = 1e-7
NWD_CONSTANT = 12.8  # Wang et al. 2021: C for AI-TOD (average absolute object size); dataset dependent


# ----------------------------------------------------------------------------------------------------------------
# Basics
# ----------------------------------------------------------------------------------------------------------------
def box_area(boxes: torch.Tensor) -> torch.Tensor:
    """Area of `xyxy [..., 4]` boxes -> `[...]` (zero for inverted boxes)."""
    return (boxes[..., 2] - boxes[..., 0]).clamp_min(0) * (boxes[..., 3] - boxes[..., 1]).clamp_min(0)


def collapse_inverted(boxes: torch.Tensor) -> torch.Tensor:
    """Predicted boxes [..., 4] with x2 < x1 (y2 < y1) made zero-width at x1 (zero-height at y1); others unchanged.

    Heads that regress raw side distances (YOLO26, reg_max 1) can predict negative widths, early in training
    above all. Such a box covers no pixel: collapsed, it overlaps nothing and counts as a false positive, as in
    ultralytics' own metrics, and it stays a valid box for everything downstream.
    """
    return torch.cat([boxes[..., :2], torch.maximum(boxes[..., 2:], boxes[..., :2])], dim=-1)


def xyxy_to_cxcywh(boxes: torch.Tensor) -> torch.Tensor:
    """`xyxy [..., 4]` -> `cxcywh [..., 4]`."""
    x1, y1, x2, y2 = boxes.unbind(-1)
    return torch.stack(((x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1), dim=-1)


def cxcywh_to_xyxy(boxes: torch.Tensor) -> torch.Tensor:
    """`cxcywh [..., 4]` -> `xyxy [..., 4]`."""
    cx, cy, w, h = boxes.unbind(-1)
    return torch.stack((cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2), dim=-1)


def intersection(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Intersection area of `a [..., 4]` and `b [..., 4]` (broadcast) -> `[...]`."""
    w = (torch.minimum(a[..., 2], b[..., 2]) - torch.maximum(a[..., 0], b[..., 0])).clamp_min(0)
    h = (torch.minimum(a[..., 3], b[..., 3]) - torch.maximum(a[..., 1], b[..., 1])).clamp_min(0)
    return w * h


def _enclosing(a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Width and height of the smallest box enclosing both (broadcast)."""
    w = torch.maximum(a[..., 2], b[..., 2]) - torch.minimum(a[..., 0], b[..., 0])
    h = torch.maximum(a[..., 3], b[..., 3]) - torch.minimum(a[..., 1], b[..., 1])
    return w, h


def _safe_sqrt(x: torch.Tensor) -> torch.Tensor:
    """sqrt with an exact 0 at 0 and a zero (not NaN) gradient there."""
    positive = x > 0
    return torch.where(positive, torch.where(positive, x, torch.ones_like(x)).sqrt(), torch.zeros_like(x))


def _centre_offset_sq(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Squared distance between box centres (broadcast) -> `[...]`."""
    dx = ((a[..., 0] - b[..., 0]) + (a[..., 2] - b[..., 2])) / 2  # differences first: exactly 0 for equal boxes
    dy = ((a[..., 1] - b[..., 1]) + (a[..., 3] - b[..., 3])) / 2
    return dx * dx + dy * dy


# ----------------------------------------------------------------------------------------------------------------
# Elementwise similarities (broadcasting)
# ----------------------------------------------------------------------------------------------------------------
def iou(a: torch.Tensor, b: torch.Tensor, eps: float = EPS) -> torch.Tensor:
    """Intersection over union of `a [..., 4]` and `b [..., 4]` (broadcast) -> `[...]`, in [0, 1]."""
    inter = intersection(a, b)
    union = box_area(a) + box_area(b) - inter
    return inter / union.clamp_min(eps)


def ios(a: torch.Tensor, b: torch.Tensor, eps: float = EPS) -> torch.Tensor:
    """Intersection over the smaller of the two areas -> `[...]`, in [0, 1]; 1 when one box contains the other.

    The matching metric of choice for merging tiles: a box cut by a tile border lies inside the whole box.
    """
    return intersection(a, b) / torch.minimum(box_area(a), box_area(b)).clamp_min(eps)


def giou(a: torch.Tensor, b: torch.Tensor, eps: float = EPS) -> torch.Tensor:
    """Generalized IoU (Rezatofighi et al., CVPR 2019) -> `[...]`, in (-1, 1].

    IoU minus the fraction of the enclosing box that the union does not cover.
    """
    inter = intersection(a, b)
    union = box_area(a) + box_area(b) - inter
    cw, ch = _enclosing(a, b)
    hull = (cw * ch).clamp_min(eps)
    return inter / union.clamp_min(eps) - (hull - union) / hull


def diou(a: torch.Tensor, b: torch.Tensor, eps: float = EPS) -> torch.Tensor:
    """Distance IoU (Zheng et al., AAAI 2020) -> `[...]`, in (-1, 1].

    IoU minus the squared centre distance over the squared diagonal of the enclosing box.
    """
    cw, ch = _enclosing(a, b)
    return iou(a, b, eps) - _centre_offset_sq(a, b) / (cw * cw + ch * ch).clamp_min(eps)


def ciou(a: torch.Tensor, b: torch.Tensor, eps: float = EPS) -> torch.Tensor:
    """Complete IoU (Zheng et al., AAAI 2020) -> `[...]`: DIoU minus an aspect-ratio term `alpha * v`.

    `v = 4 / pi^2 * (atan(w_b / h_b) - atan(w_a / h_a))^2` and `alpha = v / (1 - IoU + v)`; as in the paper,
    `alpha` is treated as a constant for gradients.
    """
    overlap = iou(a, b, eps)
    cw, ch = _enclosing(a, b)
    distance = _centre_offset_sq(a, b) / (cw * cw + ch * ch).clamp_min(eps)
    wa, ha = a[..., 2] - a[..., 0], (a[..., 3] - a[..., 1]).clamp_min(eps)
    wb, hb = b[..., 2] - b[..., 0], (b[..., 3] - b[..., 1]).clamp_min(eps)
    v = (4 / math.pi**2) * (torch.atan(wb / hb) - torch.atan(wa / ha)) ** 2
    with torch.no_grad():
        alpha = v / (1 - overlap + v).clamp_min(eps)
    return overlap - distance - alpha * v


def centre_distance(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Euclidean distance between box centres in pixels (broadcast) -> `[...]`."""
    return _safe_sqrt(_centre_offset_sq(a, b))


def wasserstein_sq(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Squared 2-Wasserstein distance between the boxes as Gaussians (broadcast) -> `[...]`, in px^2.

    A box is `N([cx, cy], diag(w^2 / 4, h^2 / 4))`, so `W2^2 = |c_a - c_b|^2 + ((w_a - w_b)^2 + (h_a - h_b)^2) / 4`.
    """
    dw = (a[..., 2] - a[..., 0]) - (b[..., 2] - b[..., 0])
    dh = (a[..., 3] - a[..., 1]) - (b[..., 3] - b[..., 1])
    return _centre_offset_sq(a, b) + (dw * dw + dh * dh) / 4


def nwd(a: torch.Tensor, b: torch.Tensor, constant: float = NWD_CONSTANT) -> torch.Tensor:
    """Normalized Gaussian Wasserstein distance (Wang et al., 2021, arXiv:2110.13389) -> `[...]`, in (0, 1].

    `NWD = exp(-sqrt(W2^2) / C)` with `W2^2` from `wasserstein_sq`. Unlike IoU it is smooth and non-zero for
    boxes that do not overlap, which is what tiny objects need. `C` is dataset dependent (12.8 in the paper,
    for AI-TOD). Exactly 1 for identical boxes, with a finite gradient there.
    """
    if constant <= 0:
        raise ValueError(f"NWD constant must be positive, got {constant}")
    return torch.exp(-_safe_sqrt(wasserstein_sq(a, b)) / constant)


# ----------------------------------------------------------------------------------------------------------------
# Pairwise forms: [..., N, 4] x [..., M, 4] -> [..., N, M]
# ----------------------------------------------------------------------------------------------------------------
def _pairs(a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    if a.shape[-1] != 4 or b.shape[-1] != 4:
        raise ValueError(f"boxes must have a last dimension of 4, got {list(a.shape)} and {list(b.shape)}")
    return a.unsqueeze(-2), b.unsqueeze(-3)


def pairwise_intersection(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """`[..., N, 4] x [..., M, 4] -> [..., N, M]` intersection areas."""
    return intersection(*_pairs(a, b))


def pairwise_iou(a: torch.Tensor, b: torch.Tensor, eps: float = EPS) -> torch.Tensor:
    """`[..., N, 4] x [..., M, 4] -> [..., N, M]` IoU (see `iou`)."""
    return iou(*_pairs(a, b), eps=eps)


def pairwise_ios(a: torch.Tensor, b: torch.Tensor, eps: float = EPS) -> torch.Tensor:
    """`[..., N, 4] x [..., M, 4] -> [..., N, M]` intersection over smaller area (see `ios`)."""
    return ios(*_pairs(a, b), eps=eps)


def pairwise_giou(a: torch.Tensor, b: torch.Tensor, eps: float = EPS) -> torch.Tensor:
    """`[..., N, 4] x [..., M, 4] -> [..., N, M]` GIoU (see `giou`)."""
    return giou(*_pairs(a, b), eps=eps)


def pairwise_diou(a: torch.Tensor, b: torch.Tensor, eps: float = EPS) -> torch.Tensor:
    """`[..., N, 4] x [..., M, 4] -> [..., N, M]` DIoU (see `diou`)."""
    return diou(*_pairs(a, b), eps=eps)


def pairwise_ciou(a: torch.Tensor, b: torch.Tensor, eps: float = EPS) -> torch.Tensor:
    """`[..., N, 4] x [..., M, 4] -> [..., N, M]` CIoU (see `ciou`)."""
    return ciou(*_pairs(a, b), eps=eps)


def pairwise_centre_distance(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """`[..., N, 4] x [..., M, 4] -> [..., N, M]` centre distances in pixels."""
    return centre_distance(*_pairs(a, b))


def pairwise_nwd(a: torch.Tensor, b: torch.Tensor, constant: float = NWD_CONSTANT) -> torch.Tensor:
    """`[..., N, 4] x [..., M, 4] -> [..., N, M]` NWD (see `nwd`)."""
    return nwd(*_pairs(a, b), constant=constant)


# Similarities by name, for options such as `--match iou|ios` (elementwise form).
SIMILARITIES = {"iou": iou, "ios": ios, "giou": giou, "diou": diou, "ciou": ciou, "nwd": nwd}
