"""The merges by name (what `--merge` chooses): which box similarities each accepts, and its default one.

Light on purpose (no torch): the command line lists the names; tinydet/ops/merge.py runs them.
"""

from __future__ import annotations

from dataclasses import dataclass

from tinydet.registry import Registry


@dataclass(frozen=True)
class MergeMethod:
    """metrics: the similarities the merge matches boxes by; default_metric: the one used when none is given."""

    metrics: tuple[str, ...]
    default_metric: str
    help: str


MERGES: Registry[MergeMethod] = Registry("merge", {
    "nms": MergeMethod(("iou", "ios"), "iou", "keep the highest-scoring box of each overlapping group"),
    "soft-nms": MergeMethod(("iou", "ios"), "iou", "decay the scores of overlapping boxes instead of removing them"),
    "diou-nms": MergeMethod(("diou",), "diou", "NMS with distance-IoU (centre distance counts)"),
    "wbf": MergeMethod(("iou", "ios"), "iou", "weighted boxes fusion: average each group's coordinates by score"),
    "nmm": MergeMethod(("iou", "ios"), "ios", "non-maximum merging: union of each group's boxes (SAHI's NMM)"),
    "greedy-nmm": MergeMethod(("iou", "ios"), "ios", "greedy NMM, as SAHI's default postprocess"),
})


def default_metric(method: str) -> str:
    return MERGES[method].default_metric


def check_method(method: str, metric: str | None = None) -> None:
    """ValueError unless `method` is known and accepts `metric` (None: its default)."""
    if method not in MERGES:
        raise ValueError(f"unknown merge '{method}' (choose from {', '.join(MERGES)})")
    allowed = MERGES[method].metrics
    if metric is not None and metric not in allowed:
        raise ValueError(f"merge '{method}' matches boxes by {' or '.join(allowed)}, not '{metric}'")
