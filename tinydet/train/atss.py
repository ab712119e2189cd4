"""ATSS: Adaptive Training Sample Selection (Zhang et al., "Bridging the Gap Between Anchor-based and Anchor-free
Detection via Adaptive Training Sample Selection", CVPR 2020), as a pure function on tensors.

For every ground-truth box:

1. on each pyramid level, the `topk` anchor points whose centres are closest (L2) to the box centre are candidates
   (all of the level's points when it has fewer);
2. the IoU threshold is mean + std of the candidates' IoUs with the box (std with Bessel's correction, as in the
   authors' code and mmdetection; 0 when there is a single candidate);
3. positives are candidates with IoU >= threshold (less 1e-6, so rounding never drops equal IoUs) whose centre lies strictly inside the box;
4. an anchor that is positive for several boxes goes to the one it has the highest IoU with (lowest index on ties).

ATSS is defined for anchor boxes; YOLO heads are anchor-free (points). As in YOLOv6 and PP-YOLOE, which use ATSS for
their first epochs, each point gets a square anchor box of side `anchor_scale * stride` centred on it (5: their
`grid_cell_size`). The IoUs above are between that box and the ground truth. Predicted boxes play no part.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import torch

ATSS_TOPK = 9
ANCHOR_SCALE = 5.0
# Candidates with equal IoUs (a box inside several anchor boxes) have std 0 and IoU == mean; rounding must not drop them.
IOU_TOLERANCE = 1e-6


class ATSSAssignment(NamedTuple):
    """Result of `atss_assign` (B images, M ground-truth slots, A anchor points).

    fg_mask: bool [B, A], True for positive anchors.
    target_gt_idx: int64 [B, A], index into the M ground-truth slots of each positive's box (0 for negatives).
    positives: bool [B, M, A], the final positive pairs (each anchor in at most one).
    ious: float [B, M, A], IoU of each anchor box with each ground-truth box (0 for padded slots).
    """

    fg_mask: torch.Tensor
    target_gt_idx: torch.Tensor
    positives: torch.Tensor
    ious: torch.Tensor


def anchor_boxes(anchor_points: torch.Tensor, level_counts: Sequence[int], level_strides: Sequence[float],
                 anchor_scale: float = ANCHOR_SCALE) -> torch.Tensor:
    """xyxy [A, 4] px: a square of side anchor_scale * stride around each anchor point [A, 2] px."""
    half = torch.cat([anchor_points.new_full((int(n),), anchor_scale * float(s) / 2)
                      for n, s in zip(level_counts, level_strides)])[:, None]
    return torch.cat((anchor_points - half, anchor_points + half), -1)


def pairwise_iou(boxes1: torch.Tensor, boxes2: torch.Tensor, eps: float = 1e-9) -> torch.Tensor:
    """IoU [..., N, K] between xyxy boxes1 [..., N, 4] and boxes2 [K, 4] (same units)."""
    a, b = boxes1[..., :, None, :], boxes2
    wh = (torch.minimum(a[..., 2:], b[..., 2:]) - torch.maximum(a[..., :2], b[..., :2])).clamp(min=0)
    inter = wh[..., 0] * wh[..., 1]
    area_a = (a[..., 2] - a[..., 0]).clamp(min=0) * (a[..., 3] - a[..., 1]).clamp(min=0)
    area_b = (b[..., 2] - b[..., 0]).clamp(min=0) * (b[..., 3] - b[..., 1]).clamp(min=0)
    return inter / (area_a + area_b - inter + eps)


def atss_assign(anchor_points: torch.Tensor, level_counts: Sequence[int], level_strides: Sequence[float],
                gt_bboxes: torch.Tensor, mask_gt: torch.Tensor, topk: int = ATSS_TOPK,
                anchor_scale: float = ANCHOR_SCALE, eps: float = 1e-9) -> ATSSAssignment:
    """Assign anchor points to ground-truth boxes with ATSS (see the module docstring).

    Args:
        anchor_points: float [A, 2], anchor centres (x, y) in pixels, level after level (finest first, as
            ultralytics' make_anchors orders them).
        level_counts: anchors per level; sums to A.
        level_strides: stride of each level in pixels (sets the anchor box side, anchor_scale * stride).
        gt_bboxes: float [B, M, 4], ground-truth boxes xyxy in pixels (padded slots arbitrary).
        mask_gt: [B, M] or [B, M, 1], nonzero for real boxes, 0 for padding.
        topk: candidates per level and box (k, 9 in the paper).
        anchor_scale: anchor box side in strides.
        eps: an anchor centre must be more than eps px inside every side of the box.

    Returns:
        ATSSAssignment (fg_mask [B, A], target_gt_idx [B, A], positives [B, M, A], ious [B, M, A]).
    """
    counts = [int(n) for n in level_counts]
    n_anchors = anchor_points.shape[0]
    if sum(counts) != n_anchors or len(counts) != len(level_strides):
        raise ValueError(f"level_counts {counts} must sum to the {n_anchors} anchor points, one per stride "
                         f"{list(level_strides)}")
    if topk < 1:
        raise ValueError(f"topk must be >= 1, got {topk}")
    b, m = gt_bboxes.shape[:2]
    valid = mask_gt.reshape(b, m).bool()
    gt = gt_bboxes.float()
    points = anchor_points.float()
    ious = pairwise_iou(gt, anchor_boxes(points, counts, level_strides, anchor_scale)) * valid[..., None]

    centres = (gt[..., :2] + gt[..., 2:]) / 2  # [B, M, 2]
    distances = (centres[..., None, :] - points).pow(2).sum(-1)  # [B, M, A], squared: same order
    candidates = torch.zeros_like(distances, dtype=torch.bool)
    start = 0
    for n in counts:
        if n:
            k = min(topk, n)
            idx = distances[..., start:start + n].topk(k, dim=-1, largest=False).indices + start
            candidates.scatter_(-1, idx, True)
        start += n

    n_candidates = sum(min(topk, n) for n in counts)  # the same for every box
    cand_iou = ious * candidates
    mean = cand_iou.sum(-1, keepdim=True) / max(n_candidates, 1)
    spread = ((ious - mean).pow(2) * candidates).sum(-1, keepdim=True)
    std = (spread / (n_candidates - 1)).sqrt() if n_candidates > 1 else torch.zeros_like(mean)
    threshold = mean + std

    x, y = points[:, 0], points[:, 1]
    inside = ((x - gt[..., 0:1] > eps) & (y - gt[..., 1:2] > eps) & (gt[..., 2:3] - x > eps)
              & (gt[..., 3:4] - y > eps))
    positives = candidates & (ious >= threshold - IOU_TOLERANCE) & inside & valid[..., None]

    # An anchor claimed by several boxes goes to its highest-IoU box (argmax returns the first on ties).
    claimed = torch.where(positives, ious, ious.new_full((), -1.0))
    fg_mask = positives.any(1)
    target_gt_idx = claimed.argmax(1) if m else torch.zeros((b, n_anchors), dtype=torch.long, device=gt.device)
    target_gt_idx = torch.where(fg_mask, target_gt_idx, torch.zeros_like(target_gt_idx))
    if m:
        positives = positives & (torch.arange(m, device=gt.device)[None, :, None] == target_gt_idx[:, None, :])
        positives &= fg_mask[:, None, :]
    return ATSSAssignment(fg_mask, target_gt_idx, positives, ious)
