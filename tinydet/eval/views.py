"""Pipeline stages shared by every metric block: order predictions and ground truth into (image, category)
groups, match one similarity for several size buckets, and read (bucket, cap) views off the matches as curves.

Matching runs once per similarity over the highest-scoring `cap` predictions of each image and class; smaller caps
(COCO's 1/10/100) are prefixes of that order, so their matches are read off the same run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from tinydet.eval.accumulate import Curves, precision_recall
from tinydet.eval.data import GroundTruth, Predictions
from tinydet.eval.matching import MATCHED, UNMATCHED, Matches, greedy_match
from tinydet.eval.pairs import candidate_pairs, rank_in_groups
from tinydet.eval.params import RECALL_THRESHOLDS, AreaRange

#: pycocotools never matches above this IoU threshold (`min(t, 1 - 1e-10)`).
IOU_CEILING = 1 - 1e-10


@dataclass
class Ordered:
    """Predictions in processing order (image-category group, then score) and ground truth sorted by group."""

    n_categories: int
    det_row: np.ndarray
    det_group: np.ndarray
    det_rank: np.ndarray
    det_xywh: np.ndarray
    det_category: np.ndarray
    eval_order: np.ndarray  # positions in processing order, sorted by (category, -score, image, row)
    gt_row: np.ndarray
    gt_group: np.ndarray
    gt_xywh: np.ndarray
    gt_area: np.ndarray
    gt_crowd: np.ndarray
    gt_category: np.ndarray


def order_boxes(gt: GroundTruth, preds: Predictions, cap: int) -> Ordered:
    k = max(gt.n_categories, 1)
    order, rank = rank_in_groups(preds.image * k + preds.category, preds.score)
    keep = rank < cap
    order, rank = order[keep], rank[keep]
    eval_order = np.lexsort((order, preds.image[order], -preds.score[order], preds.category[order]))
    gt_group = gt.image * k + gt.category
    gt_row = np.argsort(gt_group, kind="stable")
    return Ordered(
        n_categories=gt.n_categories,
        det_row=order,
        det_group=(preds.image * k + preds.category)[order],
        det_rank=rank,
        det_xywh=preds.xywh[order],
        det_category=preds.category[order],
        eval_order=eval_order,
        gt_row=gt_row,
        gt_group=gt_group[gt_row],
        gt_xywh=gt.xywh[gt_row],
        gt_area=gt.area[gt_row],
        gt_crowd=gt.crowd[gt_row],
        gt_category=gt.category[gt_row],
    )


@dataclass
class Run:
    """One similarity matched for several size buckets: matches plus who is ignored / outside each bucket."""

    ranges: tuple[AreaRange, ...]
    thresholds: np.ndarray
    matches: Matches
    gt_ignore: np.ndarray  # bool [A, G]
    det_outside: np.ndarray  # bool [A, D]

    def index(self, r: AreaRange) -> int:
        return next(i for i, x in enumerate(self.ranges) if (x.lo, x.hi) == (r.lo, r.hi))


def match_run(o: Ordered, similarity, thresholds: np.ndarray, ranges: Sequence[AreaRange]) -> Run:
    unique: list[AreaRange] = []
    for r in ranges:
        if all((u.lo, u.hi) != (r.lo, r.hi) for u in unique):
            unique.append(r)
    lo = np.array([r.lo for r in unique])[:, None]
    hi = np.array([r.hi for r in unique])[:, None]
    gt_ignore = o.gt_crowd[None, :] | (o.gt_area[None, :] < lo) | (o.gt_area[None, :] > hi)
    det_area = o.det_xywh[:, 2] * o.det_xywh[:, 3]
    det_outside = (det_area[None, :] < lo) | (det_area[None, :] > hi)
    pair_det, pair_gt, value = candidate_pairs(
        o.det_xywh, o.det_group, o.gt_xywh, o.gt_group, o.gt_crowd, similarity, float(np.min(thresholds))
    )
    matches = greedy_match(pair_det, pair_gt, value, o.det_group, thresholds, gt_ignore, o.gt_crowd)
    return Run(tuple(unique), thresholds, matches, gt_ignore, det_outside)


class Views:
    """Curves of (bucket, cap) views of a run, computed once each."""

    def __init__(self, o: Ordered, run: Run):
        self.o, self.run, self._cache = o, run, {}

    def curves(self, r: AreaRange, cap: int) -> Curves:
        key = (r.lo, r.hi, cap)
        if key not in self._cache:
            self._cache[key] = self._compute(self.run.index(r), cap)
        return self._cache[key]

    def tp_fp(self, a: int, cap: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Positions (evaluation order) of the predictions within `cap`, and their tp, fp [T, n] in bucket a."""
        sel = self.o.eval_order[self.o.det_rank[self.o.eval_order] < cap]
        state = self.run.matches.det_state[a][:, sel]
        tp = state == MATCHED
        fp = (state == UNMATCHED) & ~self.run.det_outside[a, sel][None, :]
        return sel, tp, fp

    def n_gt(self, a: int) -> np.ndarray:
        regular = ~self.run.gt_ignore[a]
        return np.bincount(self.o.gt_category[regular], minlength=self.o.n_categories)

    def _compute(self, a: int, cap: int) -> Curves:
        sel, tp, fp = self.tp_fp(a, cap)
        counted = (tp | fp).any(axis=0)  # a prediction ignored at every threshold changes no curve
        return precision_recall(self.o.det_category[sel[counted]], tp[:, counted], fp[:, counted], self.n_gt(a),
                                RECALL_THRESHOLDS)
