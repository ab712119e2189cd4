"""Weighted boxes fusion (Solovyev, Wang and Gabruseva, Image and Vision Computing 2021, arXiv:1910.13302).

Instead of keeping one box of each overlapping set, WBF averages them, weighting coordinates by score. Boxes are
visited in order of decreasing score; each joins the existing cluster whose fused box it matches best (similarity
strictly above the threshold) or starts a new cluster; the fused box is updated after each join. A cluster's
score is the mean of its members' scores ('avg', as in the paper for a single model) or the best one ('max').
"""

from __future__ import annotations

import torch

from tinydet.ops.clusters import (
    Merged,
    blocks,
    check_inputs,
    check_threshold,
    close_under_hulls,
    interacting_clusters,
    named_similarity,
    score_rank,
)

WBF_METRICS = ("iou", "ios")
CONF_TYPES = ("avg", "max")


def weighted_boxes_fusion(
    boxes: torch.Tensor,
    scores: torch.Tensor,
    threshold: float = 0.55,
    groups: torch.Tensor | None = None,
    metric: str = "iou",
    conf_type: str = "avg",
) -> Merged:
    """Fuse overlapping boxes of each group (see the module docstring).

    Args:
        boxes: [N, 4] xyxy; scores: [N], positive (they weight the coordinates); groups: int [N] or None.
        threshold: in [0, 1]; metric: 'iou' or 'ios'; conf_type: 'avg' or 'max'.

    Returns:
        `Merged`: one fused box per cluster; `index` is the cluster's best-scoring member.
    """
    similarity = named_similarity(metric, WBF_METRICS, "WBF")
    if conf_type not in CONF_TYPES:
        raise ValueError(f"unknown WBF conf_type '{conf_type}' (choose from {', '.join(CONF_TYPES)})")
    check_inputs(boxes, scores, groups)
    check_threshold("WBF threshold", threshold)
    labels = interacting_clusters(boxes, groups, similarity, None)
    labels = close_under_hulls(boxes, groups, labels)
    weights = scores.clamp_min(torch.finfo(scores.dtype).tiny)
    index, fused, fused_scores = [], [], []
    singletons = torch.bincount(labels)[labels] == 1
    index.append(singletons.nonzero().squeeze(1))
    fused.append(boxes[singletons])
    fused_scores.append(scores[singletons])
    for block in blocks(labels, score_rank(scores), min_size=2):
        c, k = block.index.shape
        b, w, s = block.gather(boxes), block.gather(weights), block.gather(scores)
        weight_sum = torch.zeros(c, k, dtype=boxes.dtype, device=boxes.device)
        box_sum = torch.zeros(c, k, 4, dtype=boxes.dtype, device=boxes.device)
        score_sum = torch.zeros_like(weight_sum)
        count = torch.zeros_like(weight_sum)
        first = torch.full((c, k), -1, dtype=torch.long, device=boxes.device)
        clusters = torch.zeros(c, dtype=torch.long, device=boxes.device)
        slots = torch.arange(k, device=boxes.device)
        for t in range(k):
            rows = block.valid[:, t].nonzero().squeeze(1)
            bt, wt = b[rows, t], w[rows, t]
            centre = box_sum[rows] / weight_sum[rows].clamp_min(torch.finfo(boxes.dtype).tiny)[..., None]
            m = similarity(bt[:, None, :], centre)
            m = torch.where(slots[None, :] < clusters[rows, None], m, torch.full_like(m, -torch.inf))
            best = m.argmax(1)  # first of equal maxima: the oldest cluster
            joins = m[torch.arange(len(rows), device=boxes.device), best] > threshold
            target = torch.where(joins, best, clusters[rows])
            weight_sum[rows, target] += wt
            box_sum[rows, target] += wt[:, None] * bt
            score_sum[rows, target] += s[rows, t]
            count[rows, target] += 1
            new = rows[~joins]
            first[new, target[~joins]] = block.index[new, t]
            clusters[rows] += (~joins).long()
        made = first >= 0
        index.append(first[made])
        fused.append(box_sum[made] / weight_sum[made][:, None])
        best_score = scores[first[made]]
        fused_scores.append(score_sum[made] / count[made] if conf_type == "avg" else best_score)
    return Merged(torch.cat(index), torch.cat(fused), torch.cat(fused_scores)).sorted()
