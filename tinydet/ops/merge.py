"""One entry point for every merge, by name (what `--merge` chooses)."""

from __future__ import annotations

import torch

from tinydet.ops.clusters import Merged
from tinydet.ops.nmm import greedy_nmm, nmm
from tinydet.ops.nms import nms, soft_nms
from tinydet.ops.wbf import weighted_boxes_fusion

# method -> (similarities it accepts, the default one)
METHODS: dict[str, tuple[tuple[str, ...], str]] = {
    "nms": (("iou", "ios"), "iou"),
    "soft-nms": (("iou", "ios"), "iou"),
    "diou-nms": (("diou",), "diou"),
    "wbf": (("iou", "ios"), "iou"),
    "nmm": (("iou", "ios"), "ios"),
    "greedy-nmm": (("iou", "ios"), "ios"),
}


def default_metric(method: str) -> str:
    check_method(method)
    return METHODS[method][1]


def check_method(method: str, metric: str | None = None) -> None:
    """ValueError unless `method` is known and accepts `metric` (None: its default)."""
    if method not in METHODS:
        raise ValueError(f"unknown merge '{method}' (choose from {', '.join(METHODS)})")
    allowed = METHODS[method][0]
    if metric is not None and metric not in allowed:
        raise ValueError(f"merge '{method}' matches boxes by {' or '.join(allowed)}, not '{metric}'")


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
    metric = metric or METHODS[method][1]
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
