"""Object-size arithmetic: size buckets and how well a detection head's grid can "see" boxes. Pure functions.

Buckets:
- COCO (Lin et al. 2014), by box area in pixels: small < 32^2, medium < 96^2, large >= 96^2.
- AI-TOD (Wang et al. 2021), by sqrt(area) in pixels: very_tiny < 8, tiny 8-16, small 16-32, medium 32-64,
  large >= 64.

Anchor-point coverage: ultralytics' task-aligned assigner only considers anchor points (cell centres, at
(i + 0.5) * stride) that lie inside a ground-truth box. For a box of w x h pixels at a random position the
chance that at least one centre falls inside is min(1, w / stride) * min(1, h / stride): a box narrower than
the stride may get no positive sample at all. `coverage` is the mean of that chance over boxes.
"""

from __future__ import annotations

import numpy as np

COCO_BUCKETS = ("small", "medium", "large")
COCO_EDGES = (32.0, 96.0)  # sqrt(area) boundaries (areas 32^2 and 96^2)
AITOD_BUCKETS = ("very_tiny", "tiny", "small", "medium", "large")
AITOD_EDGES = (8.0, 16.0, 32.0, 64.0)


def box_sides(xyxy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Width and height [N] in px of boxes xyxy [N, 4] px, rounded to 1e-6 px: the normalised -> pixel arithmetic
    of a label leaves about 1e-13 px of noise in a corner difference, enough to move an 8 x 8 box into very_tiny
    or a 32 x 32 box out of COCO-medium. Analysis and evaluation both bucket by these sides."""
    xyxy = np.asarray(xyxy, np.float64).reshape(-1, 4)
    return np.round(xyxy[:, 2] - xyxy[:, 0], 6), np.round(xyxy[:, 3] - xyxy[:, 1], 6)


def _counts(areas: np.ndarray, edges: tuple[float, ...], names: tuple[str, ...]) -> dict[str, int]:
    """Compare areas with squared edges (exact at the boundaries, unlike sqrt(area) with edges)."""
    squared = np.asarray(edges, np.float64) ** 2
    index = np.searchsorted(squared, np.asarray(areas, np.float64).reshape(-1), side="right")
    counts = np.bincount(index, minlength=len(names))
    return {name: int(n) for name, n in zip(names, counts)}


def coco_buckets(areas: np.ndarray) -> dict[str, int]:
    """Counts of boxes per COCO bucket from box areas [N] in px^2 (small: area < 32^2, medium: < 96^2)."""
    return _counts(areas, COCO_EDGES, COCO_BUCKETS)


def aitod_buckets(areas: np.ndarray) -> dict[str, int]:
    """Counts of boxes per AI-TOD bucket from box areas [N] in px^2 (very_tiny: sqrt(area) < 8, tiny: < 16,
    small: < 32, medium: < 64)."""
    return _counts(areas, AITOD_EDGES, AITOD_BUCKETS)


def anchor_point_chance(w: np.ndarray, h: np.ndarray, stride: float) -> np.ndarray:
    """Per box [N]: probability that a box of w x h px (at the network input) contains a cell centre of a grid
    with `stride` px, for a uniformly random position: min(1, w / stride) * min(1, h / stride)."""
    return np.minimum(1.0, np.asarray(w) / stride) * np.minimum(1.0, np.asarray(h) / stride)


def coverage(w: np.ndarray, h: np.ndarray, stride: float) -> float:
    """Mean `anchor_point_chance` over boxes (1.0 for no boxes): the expected share of boxes that get at least
    one candidate anchor point at that stride."""
    if len(w) == 0:
        return 1.0
    return float(anchor_point_chance(w, h, stride).mean())


def round_up(value: float, multiple: int = 32) -> int:
    """Smallest multiple of `multiple` that is >= value (at least `multiple`)."""
    return max(multiple, int(np.ceil(value / multiple)) * multiple)
