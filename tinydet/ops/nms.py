"""Suppression merges: greedy NMS (any similarity: IoU, IoS, DIoU), DIoU-NMS and soft-NMS.

Each takes boxes `[N, 4]` xyxy, scores `[N]` and optional `groups [N]` (class ids for class-wise merging, or any
integer key such as tile * classes + class; None merges all boxes together, class-agnostic) and returns a
`Merged` (tinydet/ops/clusters.py) sorted by decreasing score. Two boxes match when their similarity is strictly
greater than the threshold. Exact: the results equal those of the textbook sequential algorithm (ties in score
are broken by input order), computed on all independent clusters at once.
"""

from __future__ import annotations

import torch

from tinydet.ops.clusters import (
    Block,
    Merged,
    blocks,
    check_inputs,
    check_threshold,
    first_true,
    interacting_clusters,
    named_similarity,
    score_rank,
)

SUPPRESSION_METRICS = ("iou", "ios", "diou")


def greedy_claims(block: Block, boxes: torch.Tensor, similarity, threshold: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Greedy NMS on every row of a block at once (rows in score order).

    Args:
        block: the clusters; boxes: [C, K, 4], `block.gather(boxes)`.

    Returns:
        keeper [C, K]: the column of the box that kept or claimed each position (its own column for a kept
        box, -1 for padding); step [C, K]: the round in which it was claimed (-1 for kept boxes).
    """
    c, k = block.index.shape
    rows = torch.arange(c, device=boxes.device)
    free = block.valid.clone()
    keeper = torch.full((c, k), -1, dtype=torch.long, device=boxes.device)
    step = torch.full((c, k), -1, dtype=torch.long, device=boxes.device)
    t = 0
    while len(rows):
        col = first_true(free[rows])
        keeper[rows, col] = col
        free[rows, col] = False
        claim = free[rows] & (similarity(boxes[rows, col][:, None, :], boxes[rows]) > threshold)
        keeper[rows] = torch.where(claim, col[:, None], keeper[rows])
        step[rows] = torch.where(claim, t, step[rows])
        free[rows] &= ~claim
        rows = rows[free[rows].any(1)]
        t += 1
    return keeper, step


def nms(
    boxes: torch.Tensor,
    scores: torch.Tensor,
    threshold: float = 0.5,
    groups: torch.Tensor | None = None,
    metric: str = "iou",
) -> Merged:
    """Greedy non-maximum suppression: the best box suppresses every box whose `metric` with it exceeds
    `threshold`, then the best remaining box, and so on.

    Args:
        boxes: [N, 4] xyxy; scores: [N]; groups: int [N] or None (see the module docstring).
        threshold: in [0, 1]. metric: 'iou', 'ios' (intersection over the smaller box) or 'diou'.

    Returns:
        `Merged` of the kept boxes (boxes and scores unchanged).
    """
    similarity = named_similarity(metric, SUPPRESSION_METRICS, "NMS")
    check_inputs(boxes, scores, groups)
    check_threshold("NMS threshold", threshold)
    keep = torch.ones(len(boxes), dtype=torch.bool, device=boxes.device)
    labels = interacting_clusters(boxes, groups, similarity, threshold)
    for block in blocks(labels, score_rank(scores), min_size=2):
        keeper, _ = greedy_claims(block, block.gather(boxes), similarity, threshold)
        kept = keeper == torch.arange(keeper.shape[1], device=boxes.device)
        keep[block.index[block.valid]] = kept[block.valid]
    index = keep.nonzero().squeeze(1)
    return Merged(index, boxes[index], scores[index]).sorted()


def diou_nms(
    boxes: torch.Tensor, scores: torch.Tensor, threshold: float = 0.5, groups: torch.Tensor | None = None
) -> Merged:
    """DIoU-NMS (Zheng et al., AAAI 2020): NMS where similarity is DIoU, so that two boxes with distant centres
    are both kept even when they overlap (helps with crowded tiny objects)."""
    return nms(boxes, scores, threshold, groups, metric="diou")


def soft_nms(
    boxes: torch.Tensor,
    scores: torch.Tensor,
    method: str = "gaussian",
    sigma: float = 0.5,
    threshold: float = 0.3,
    score_threshold: float = 0.001,
    groups: torch.Tensor | None = None,
    metric: str = "iou",
) -> Merged:
    """Soft-NMS (Bodla et al., ICCV 2017): instead of removing the boxes that overlap the best one, lower their
    scores; repeat with the best remaining box. Boxes whose score falls below `score_threshold` are dropped.

    - 'linear': `s *= 1 - m` where the similarity `m` exceeds `threshold` (unchanged elsewhere);
    - 'gaussian': `s *= exp(-max(m, 0)^2 / sigma)` for every overlapping box (`threshold` is not used).

    Returns:
        `Merged` of the surviving boxes with their decayed scores.
    """
    similarity = named_similarity(metric, SUPPRESSION_METRICS, "soft-NMS")
    check_inputs(boxes, scores, groups)
    if method not in ("linear", "gaussian"):
        raise ValueError(f"soft-NMS method must be 'linear' or 'gaussian', got '{method}'")
    if sigma <= 0:
        raise ValueError(f"soft-NMS sigma must be positive, got {sigma}")
    check_threshold("soft-NMS threshold", threshold)
    linear = method == "linear"
    new_scores = scores.clone()
    alive_all = scores >= score_threshold
    labels = interacting_clusters(boxes, groups, similarity, threshold if linear else None)
    for block in blocks(labels, score_rank(scores), min_size=2):
        rows = torch.arange(len(block.index), device=boxes.device)
        b = block.gather(boxes)
        s = block.gather(scores)
        alive = block.valid & (s >= score_threshold)
        done = torch.zeros_like(alive)
        rows = rows[alive.any(1)]
        while len(rows):
            current = torch.where(alive[rows], s[rows], torch.full_like(s[rows], -torch.inf))
            col = current.argmax(1)  # first of equal maxima: the better-ranked box
            done[rows, col] = True
            alive[rows, col] = False
            m = similarity(b[rows, col][:, None, :], b[rows])
            if linear:
                decay = torch.where(m > threshold, 1 - m, torch.ones_like(m))
            else:
                decay = torch.exp(-(m.clamp_min(0) ** 2) / sigma)
            s[rows] = torch.where(alive[rows], s[rows] * decay, s[rows])
            alive[rows] &= s[rows] >= score_threshold
            rows = rows[alive[rows].any(1)]
        members = block.index[block.valid]
        new_scores[members] = s[block.valid]
        alive_all[members] = done[block.valid]
    index = alive_all.nonzero().squeeze(1)
    return Merged(index, boxes[index], new_scores[index]).sorted()
