"""Result dataclasses of an evaluation, their JSON form, and the flat metric dict for training loops.

-1 means "not defined": no regular ground truth in that bucket (pycocotools' convention), never 0.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

import numpy as np

from tinydet.eval.data import GroundTruth, Predictions


@dataclass
class CocoMetrics:
    """pycocotools' 12 summary numbers (`COCOeval.stats`), IoU 0.50:0.95 unless named, 100 detections unless named."""

    AP: float
    AP50: float
    AP75: float
    APs: float
    APm: float
    APl: float
    AR1: float
    AR10: float
    AR100: float
    ARs: float
    ARm: float
    ARl: float


@dataclass
class AitodMetrics:
    """COCO AP/AR (IoU 0.50:0.95) with AI-TOD's size buckets and `max_dets` detections per image and class."""

    AP: float
    AP50: float
    AP75: float
    APvt: float
    APt: float
    APs: float
    APm: float
    APl: float
    AR: float
    ARvt: float
    ARt: float
    ARs: float
    ARm: float
    ARl: float
    max_dets: int


@dataclass
class CenterMetrics:
    """AP with centre-distance matching: AP averages tau over `thresholds`; AP50/AP25/AP10 are tau = 0.50/0.25/0.10;
    bucket APs (AI-TOD buckets) and AR average over all tau."""

    AP: float
    AP50: float
    AP25: float
    AP10: float
    APvt: float
    APt: float
    APs: float
    APm: float
    APl: float
    AR: float
    thresholds: tuple[float, ...]
    max_dets: int


@dataclass
class ClassMetrics:
    """One class: AP (IoU 0.50:0.95), AP50, AP_center (mean over tau), and P/R/F1 at the best-F1 confidence."""

    name: str
    category_id: int
    n_gt: int
    n_pred: int
    AP: float
    AP50: float
    AP_center: float
    precision: float
    recall: float
    f1: float


@dataclass
class OperatingPoint:
    """Precision, recall and F1 of all predictions with score >= `confidence` (IoU 0.5, all classes pooled)."""

    confidence: float
    precision: float
    recall: float
    f1: float
    tp: int
    fp: int
    n_gt: int


@dataclass
class EvalDetails:
    """Per-box matches for plots and reports (IoU 0.5, all sizes, 100 predictions per image and class).

    Attributes:
        gt, preds: the evaluated inputs.
        pred_state: int8 [N]: 0 false positive, 1 true positive, 2 matched a crowd region (ignored),
            3 beyond the 100 highest scores of its image and class (not evaluated).
        pred_gt: int64 [N] ground-truth row a prediction matched (-1 none; crowd matches give -1).
        gt_pred: int64 [G] prediction row that matched each ground truth (-1 none).
        gt_pred_center: int64 [G] the same with centre matching at tau = 0.5 (None without the centre block).
        curves: 'block:bucket' -> (precision [T, R, K], recall [T, K]) of that block and bucket.
        thresholds: 'block' -> its thresholds (IoU, or tau for 'center').
    """

    gt: GroundTruth
    preds: Predictions
    pred_state: np.ndarray
    pred_gt: np.ndarray
    gt_pred: np.ndarray
    gt_pred_center: np.ndarray | None
    curves: dict = field(default_factory=dict)
    thresholds: dict = field(default_factory=dict)


@dataclass
class EvalResult:
    """Everything one evaluation produced. Blocks not asked for are None."""

    coco: CocoMetrics | None
    aitod: AitodMetrics | None
    center: CenterMetrics | None
    per_class: list[ClassMetrics]
    best_f1: OperatingPoint | None
    n_images: int
    n_gt: int
    n_crowd: int
    n_pred: int
    details: EvalDetails | None = field(default=None, repr=False)

    def to_dict(self) -> dict:
        """JSON-ready dict of the metrics (details are left out)."""
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "details":
                continue
            if f.name == "per_class":
                value = [asdict(c) for c in value]
            elif value is not None and hasattr(value, "__dataclass_fields__"):
                value = asdict(value)
            out[f.name] = value
        return out


_COCO_KEYS = {f.name: f.name for f in fields(CocoMetrics)}
_AITOD_KEYS = {"AP": "AP_aitod", "AP50": "AP50_aitod", "AP75": "AP75_aitod", "APvt": "APvt", "APt": "APt",
               "APs": "APs_aitod", "APm": "APm_aitod", "APl": "APl_aitod", "AR": "AR_aitod", "ARvt": "ARvt",
               "ARt": "ARt", "ARs": "ARs_aitod", "ARm": "ARm_aitod", "ARl": "ARl_aitod"}
_CENTER_KEYS = {"AP": "AP_center", "AP50": "AP50_center", "AP25": "AP25_center", "AP10": "AP10_center",
                "APvt": "APvt_center", "APt": "APt_center", "APs": "APs_center", "APm": "APm_center",
                "APl": "APl_center", "AR": "AR_center"}


def metric_names() -> tuple[str, ...]:
    """Every key `small_object_metrics` can return (the names `--fitness` accepts), in its order."""
    names = [*_COCO_KEYS.values(), *_AITOD_KEYS.values(), *_CENTER_KEYS.values(),
             "precision", "recall", "F1", "F1_conf"]
    return tuple(dict.fromkeys(names))


def small_object_metrics(result: EvalResult) -> dict[str, float]:
    """Flat {name: value} of every metric, with stable keys (for training logs and `--fitness`).

    Keys: COCO's `AP AP50 AP75 APs APm APl AR1 AR10 AR100 ARs ARm ARl`; AI-TOD's `APvt APt ARvt ARt` and
    `AP_aitod AP50_aitod AP75_aitod APs_aitod APm_aitod APl_aitod AR_aitod ARs_aitod ARm_aitod ARl_aitod`;
    centre's `AP_center AP50_center AP25_center AP10_center APvt_center APt_center APs_center APm_center
    APl_center AR_center`; and `precision recall F1 F1_conf` at the best-F1 confidence. Blocks that were not
    computed are absent; -1 means no ground truth in that bucket.
    """
    out: dict[str, float] = {}
    for block, keys in ((result.coco, _COCO_KEYS), (result.aitod, _AITOD_KEYS), (result.center, _CENTER_KEYS)):
        if block is not None:
            out.update({flat: float(getattr(block, name)) for name, flat in keys.items()})
    if result.best_f1 is not None:
        op = result.best_f1
        out.update(precision=op.precision, recall=op.recall, F1=op.f1, F1_conf=op.confidence)
    return out
