"""Evaluation parameters: thresholds, size buckets and detection caps (no computation here).

The COCO values are pycocotools' own (`Params.setDetParams`), built with the same expressions so that the
floating-point thresholds are bit-identical: IoU 0.50:0.05:0.95, recall 0:0.01:1, max detections 1/10/100,
areas all / small (< 32^2 px^2) / medium (32^2-96^2) / large (> 96^2). An area range [lo, hi] includes both
ends, as in pycocotools, so an object of area exactly 32^2 belongs to small and medium.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from tinydet.errors import TinydetError

#: IoU thresholds of COCO AP (10 values, 0.50 to 0.95).
IOU_THRESHOLDS = np.linspace(0.5, 0.95, int(np.round((0.95 - 0.5) / 0.05)) + 1, endpoint=True)
#: Recall points at which precision is interpolated (101 values, 0 to 1).
RECALL_THRESHOLDS = np.linspace(0.0, 1.00, int(np.round((1.00 - 0.0) / 0.01)) + 1, endpoint=True)
#: Centre-distance thresholds tau: a prediction matches a ground truth when the distance between their centres
#: is at most tau * sqrt(w * h) of the ground truth (10 values, 0.05 to 0.50; smaller is stricter).
CENTER_THRESHOLDS = tuple(round(0.05 * i, 2) for i in range(1, 11))
#: Detections per image and class used by COCO's summary (AR1, AR10, AR100; AP uses the last).
COCO_MAX_DETS = (1, 10, 100)
#: AI-TOD's cap on detections per image and class.
AITOD_MAX_DETS = 1500

_HUGE = 1e5**2


@dataclass(frozen=True)
class AreaRange:
    """A size bucket: objects with `lo <= area <= hi` (area in px^2; sqrt(area) is the object size in px)."""

    name: str
    lo: float
    hi: float

    def label(self) -> str:
        """Human-readable size range by sqrt(area), e.g. '8-16 px'."""
        lo, hi = self.lo**0.5, self.hi**0.5
        if self.hi >= _HUGE:
            return "all sizes" if self.lo == 0 else f">= {lo:g} px"
        return f"< {hi:g} px" if self.lo == 0 else f"{lo:g}-{hi:g} px"


COCO_RANGES = (
    AreaRange("all", 0.0, _HUGE),
    AreaRange("small", 0.0, 32.0**2),
    AreaRange("medium", 32.0**2, 96.0**2),
    AreaRange("large", 96.0**2, _HUGE),
)
#: AI-TOD's buckets as in its paper (very tiny < 8 px, tiny 8-16, small 16-32, medium 32-64) plus 'large' >= 64 px
#: so that no object falls outside every bucket. (AI-TOD's own cocoapi lets 'medium' run from 32 px upwards.)
AITOD_RANGES = (
    AreaRange("all", 0.0, _HUGE),
    AreaRange("very_tiny", 0.0, 8.0**2),  # spelt as analyze spells it
    AreaRange("tiny", 8.0**2, 16.0**2),
    AreaRange("small", 16.0**2, 32.0**2),
    AreaRange("medium", 32.0**2, 64.0**2),
    AreaRange("large", 64.0**2, _HUGE),
)

BLOCKS = ("coco", "aitod", "center")


@dataclass(frozen=True)
class EvalOptions:
    """What to compute.

    Attributes:
        blocks: which metric blocks to compute, a subset of ('coco', 'aitod', 'center'). Per-class metrics and the
            best-F1 operating point come with 'coco'.
        max_dets: detections kept per image and class by the 'aitod' and 'center' blocks (AI-TOD uses 1500).
            As in pycocotools and AI-TOD's cocoapi the cap applies per image *and class*, highest scores first.
            The 'coco' block always uses 1/10/100.
        center_thresholds: the tau values of the centre-distance block (see CENTER_THRESHOLDS).
        center_min_size: floor (px) of the size sqrt(w * h) a centre distance is divided by, so that degenerate
            ground-truth boxes (zero width or height) still have a finite tolerance.
        keep_details: keep per-box matches and PR curves in `EvalResult.details` (for reports and plots).
    """

    blocks: tuple[str, ...] = BLOCKS
    max_dets: int = AITOD_MAX_DETS
    center_thresholds: tuple[float, ...] = CENTER_THRESHOLDS
    center_min_size: float = 1.0
    keep_details: bool = False

    def __post_init__(self) -> None:
        unknown = [b for b in self.blocks if b not in BLOCKS]
        if unknown or not self.blocks:
            raise TinydetError(f"unknown metric block(s) {unknown}; choose from {', '.join(BLOCKS)}")
        if int(self.max_dets) < 1:
            raise TinydetError(f"max_dets must be at least 1, got {self.max_dets}")
        taus = list(self.center_thresholds)
        if not taus or any(not (t > 0) for t in taus):
            raise TinydetError(f"centre thresholds must be positive, got {taus}")
        if not self.center_min_size > 0:
            raise TinydetError(f"center_min_size must be positive, got {self.center_min_size}")

    @property
    def match_cap(self) -> int:
        """How many detections per image and class take part in matching (the largest cap of any block)."""
        caps = [COCO_MAX_DETS[-1]] if "coco" in self.blocks else []
        if "aitod" in self.blocks or "center" in self.blocks:
            caps.append(int(self.max_dets))
        return max(caps)


@dataclass(frozen=True)
class ValOptions:
    """split: dataset split; imgsz, conf, iou, max_det, device: full-image prediction settings (a low `conf` and
    ultralytics' validation cap of 300 boxes per image, as for mAP); nms_free: the end-to-end head without NMS
    (YOLO26-style models); eval: what to compute."""

    split: str = "val"
    imgsz: int = 640
    conf: float = 0.001
    iou: float = 0.7
    max_det: int = 300
    device: str | None = None
    nms_free: bool = False
    eval: EvalOptions = field(default_factory=EvalOptions)
