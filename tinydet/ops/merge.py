"""One entry point for every merge, by name (what `--merge` chooses)."""

from __future__ import annotations

import torch

from tinydet.ops.clusters import Merged
from tinydet.ops.methods import MERGES, check_method, default_metric  # noqa: F401  (part of this module's API)
from tinydet.ops.nmm import greedy_nmm, nmm
from tinydet.ops.nms import nms, soft_nms
from tinydet.ops.wbf import weighted_boxes_fusion

METHODS = MERGES  # its earlier name, kept for callers


def merge(
    method: str,
    boxes: torch.Tensor,
    scores: torch.Tensor,
    groups: torch.Tensor | None = None,
    threshold: float = 0.5,
    metric: str | None = None,
    *,
    soft_method: str = "gaussian",
    sigma: float = 0.5,
    score_threshold: float = 0.001,
    conf_type: str = "avg",
) -> Merged:
    """Merge boxes [N, 4] with scores [N] (groups [N] for class-wise, None for agnostic) by `method`.

    `threshold` is the match threshold of every method (for soft-NMS 'linear', the overlap above which scores
    decay; gaussian soft-NMS ignores it). `metric` None takes the method's default (IoS for NMM, IoU otherwise).
    """
    check_method(method, metric)
    metric = metric or MERGES[method].default_metric
    if method == "nms":
        return nms(boxes, scores, threshold, groups, metric)
    if method == "diou-nms":
        return nms(boxes, scores, threshold, groups, "diou")
    if method == "soft-nms":
        return soft_nms(boxes, scores, soft_method, sigma, threshold, score_threshold, groups, metric)
    if method == "wbf":
        return weighted_boxes_fusion(boxes, scores, threshold, groups, metric, conf_type)
    if method == "nmm":
        return nmm(boxes, scores, threshold, groups, metric)
    return greedy_nmm(boxes, scores, threshold, groups, metric)
