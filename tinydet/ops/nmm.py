"""Non-maximum merging, as in SAHI's postprocess (GREEDYNMM and NMM): overlapping boxes are not suppressed but
merged into the best one, as the smallest box enclosing them (score and class of the best one).

Two phases, both as in SAHI:

1. Claims, in order of decreasing score. Greedy NMM: like NMS, each box that no one has claimed becomes a keeper
   and claims every unclaimed lower box whose similarity with it exceeds the threshold. NMM (transitive): every
   box, keeper or claimed, claims the unclaimed lower boxes matching it for its keeper, so chains of overlapping
   boxes end up with one keeper.
2. Merging: each keeper absorbs its claimed boxes one by one (in the order they were claimed, then by score),
   each only if it still matches the growing merged box; a claimed box that no longer matches is dropped.

SAHI compares with `>=` the threshold; tinydet uses `>` everywhere (as NMS does), which differs only for
similarities exactly equal to the threshold.
"""

from __future__ import annotations

import torch

from tinydet.ops.clusters import (
    Merged,
    blocks,
    check_inputs,
    check_threshold,
    interacting_clusters,
    named_similarity,
    score_rank,
)
from tinydet.ops.nms import greedy_claims

NMM_METRICS = ("iou", "ios")


def greedy_nmm(
    boxes: torch.Tensor,
    scores: torch.Tensor,
    threshold: float = 0.5,
    groups: torch.Tensor | None = None,
    metric: str = "ios",
) -> Merged:
    """Greedy non-maximum merging (SAHI's GREEDYNMM); see the module docstring.

    Args:
        boxes: [N, 4] xyxy; scores: [N]; groups: int [N] or None (class-agnostic).
        threshold: in [0, 1]; metric: 'ios' (default, as SAHI's sliced prediction) or 'iou'.

    Returns:
        `Merged` with one box per keeper: the enclosing box of what it absorbed, with the keeper's score.
    """
    return _nmm(boxes, scores, threshold, groups, metric, transitive=False)


def nmm(
    boxes: torch.Tensor,
    scores: torch.Tensor,
    threshold: float = 0.5,
    groups: torch.Tensor | None = None,
    metric: str = "ios",
) -> Merged:
    """Transitive non-maximum merging (SAHI's NMM); see the module docstring and `greedy_nmm`."""
    return _nmm(boxes, scores, threshold, groups, metric, transitive=True)


def _nmm(boxes, scores, threshold, groups, metric, transitive: bool) -> Merged:
    similarity = named_similarity(metric, NMM_METRICS, "NMM")
    check_inputs(boxes, scores, groups)
    check_threshold("NMM threshold", threshold)
    n = len(boxes)
    rank = score_rank(scores)
    owner = torch.arange(n, device=boxes.device)  # keeper of each box (itself for keepers)
    claim_step = torch.full((n,), -1, dtype=torch.long, device=boxes.device)  # -1: keeper
    labels = interacting_clusters(boxes, groups, similarity, threshold)
    for block in blocks(labels, rank, min_size=2):
        c, k = block.index.shape
        b = block.gather(boxes)
        if transitive:
            cols = torch.arange(k, device=boxes.device)
            keeper_col = torch.full((c, k), -1, dtype=torch.long, device=boxes.device)
            step = torch.full((c, k), -1, dtype=torch.long, device=boxes.device)
            for t in range(k):
                rows = block.valid[:, t].nonzero().squeeze(1)
                unowned = keeper_col[rows, t] < 0
                keeper_col[rows[unowned], t] = t
                claim = (keeper_col[rows] < 0) & block.valid[rows] & (cols[None, :] > t)
                claim &= similarity(b[rows, t][:, None, :], b[rows]) > threshold
                keeper_col[rows] = torch.where(claim, keeper_col[rows, t][:, None], keeper_col[rows])
                step[rows] = torch.where(claim, t, step[rows])
        else:
            keeper_col, step = greedy_claims(block, b, similarity, threshold)
        members = block.index[block.valid]
        owner[members] = block.index.gather(1, keeper_col.clamp_min(0))[block.valid]
        claim_step[members] = step[block.valid]
    keepers = (owner == torch.arange(n, device=boxes.device)).nonzero().squeeze(1)
    merged = boxes.clone()
    # Phase 2: keepers absorb their claims in order (claim step, then score rank); the keeper itself comes first.
    order_key = torch.where(claim_step < 0, -1, claim_step * (n + 1) + rank)
    for block in blocks(owner, order_key, min_size=2):
        box = boxes[block.index[:, 0]]
        for t in range(1, block.index.shape[1]):
            rows = block.valid[:, t].nonzero().squeeze(1)
            candidate = boxes[block.index[rows, t]]
            ok = similarity(box[rows], candidate) > threshold
            grown = torch.cat([torch.minimum(box[rows, :2], candidate[:, :2]), torch.maximum(box[rows, 2:], candidate[:, 2:])], 1)
            box[rows] = torch.where(ok[:, None], grown, box[rows])
        merged[block.index[:, 0]] = box
    return Merged(keepers, merged[keepers], scores[keepers]).sorted()
