"""Greedy matching of ranked predictions to ground truth, COCO's rule, for many thresholds and buckets at once.

COCO's rule (pycocotools `evaluateImg`), per group (image, category), threshold t and size bucket:
predictions are taken highest score first; each takes, among the ground truths it reaches (value >= t) that are
still free, the best *regular* one; only when it reaches no free regular one does it take the best *ignored* one
(crowd regions, or objects outside the bucket), and is then itself ignored. Ties go to the later ground truth in
file order. A crowd region is never used up; any other ground truth matches at most once.

Vectorised form: all groups advance together. A prediction that shares no non-crowd candidate with another
prediction cannot be affected by order, so all of those are decided in one step; the others are decided one rank
at a time (step k holds the k-th such prediction of every group). Each step evaluates all A buckets x T
thresholds as array operations over the step's candidate pairs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: det_state values
UNMATCHED, MATCHED, MATCHED_IGNORED = 0, 1, 2


@dataclass
class Matches:
    """Result of `greedy_match`.

    Attributes:
        det_state: int8 [A, T, D]: UNMATCHED, MATCHED (a regular ground truth) or MATCHED_IGNORED (an ignored one).
        gt_det: int64 [A, T, G]: the prediction that took each ground truth, -1 if none (crowd: the last one).
    """

    det_state: np.ndarray
    gt_det: np.ndarray


def processing_steps(pair_det: np.ndarray, pair_gt: np.ndarray, gt_crowd: np.ndarray, det_group: np.ndarray) -> np.ndarray:
    """Step of each prediction (int64 [D]): 0 if it shares no non-crowd candidate, else 1 + its rank among the
    predictions of its group that do. `det_group` must be ordered by group then rank (see `rank_in_groups`)."""
    n_det = len(det_group)
    shared_pair = ~gt_crowd[pair_gt]
    counts = np.bincount(pair_gt[shared_pair], minlength=len(gt_crowd))
    shared_pair &= counts[pair_gt] > 1
    conflicted = np.zeros(n_det, bool)
    conflicted[pair_det[shared_pair]] = True
    steps = np.zeros(n_det, np.int64)
    idx = np.flatnonzero(conflicted)
    if len(idx):
        g = det_group[idx]
        first = np.ones(len(idx), bool)
        first[1:] = g[1:] != g[:-1]
        starts = np.flatnonzero(first)
        steps[idx] = 1 + np.arange(len(idx)) - np.repeat(starts, np.diff(np.append(starts, len(idx))))
    return steps


def _decide(pd, pg, pv, thresholds, taken, gt_crowd, gt_ignore_t, det_state, gt_det) -> None:
    """Decide the predictions of one batch of pairs (ordered by prediction; no two share a free ground truth)."""
    n = len(pd)
    new = np.ones(n, bool)
    new[1:] = pd[1:] != pd[:-1]
    starts = np.flatnonzero(new)
    seg = np.cumsum(new) - 1
    ok = pv[:, None] >= thresholds[None, :]  # [P, T]
    cand = (~taken[pg] | gt_crowd[pg][:, None, None]) & ok[:, None, :]  # [P, A, T]
    regular = cand & ~gt_ignore_t[pg][:, :, None]
    has_regular = np.logical_or.reduceat(regular, starts, axis=0)  # [S, A, T]
    use = np.where(has_regular[seg], regular, cand)  # no regular candidate: the candidates are all ignored ones
    value = np.where(use, pv[:, None, None], -np.inf)
    best = np.maximum.reduceat(value, starts, axis=0)
    position = np.where(use & (value == best[seg]), np.arange(n)[:, None, None], -1)
    chosen = np.maximum.reduceat(position, starts, axis=0)  # last best pair of each prediction, -1 if none
    s, a, t = np.nonzero(chosen >= 0)
    gts = pg[chosen[s, a, t]]
    dets = pd[starts[s]]
    taken[gts, a, t] = True
    det_state[a, t, dets] = np.where(gt_ignore_t[gts, a], MATCHED_IGNORED, MATCHED)
    gt_det[a, t, gts] = dets


def _decide_single(d, g, v, thresholds, gt_ignore_t, det_state, gt_det) -> None:
    """Decide predictions that have exactly one candidate, wanted by no other prediction: matched wherever
    value >= t, as ignored where that ground truth is ignored."""
    ok = v[None, :] >= thresholds[:, None]  # [T, S]
    ignored = gt_ignore_t[g].T[:, None, :]  # [A, 1, S]
    det_state[:, :, d] = np.where(ok[None], np.where(ignored, MATCHED_IGNORED, MATCHED), UNMATCHED)
    t, s = np.nonzero(ok)
    gt_det[:, t, g[s]] = d[s]


def greedy_match(
    pair_det: np.ndarray,
    pair_gt: np.ndarray,
    pair_value: np.ndarray,
    det_group: np.ndarray,
    thresholds: np.ndarray,
    gt_ignore: np.ndarray,
    gt_crowd: np.ndarray,
    batch_pairs: int = 1 << 16,
) -> Matches:
    """Match predictions to ground truth by COCO's greedy rule (see the module docstring).

    Args:
        pair_det, pair_gt, pair_value: [P] candidate pairs (from `candidate_pairs`), ordered by prediction then
            ground truth; predictions are numbered in processing order (group, then rank), ground truths in file
            order within each group.
        det_group: int64 [D] group of each prediction, in that order.
        thresholds: float64 [T]; a pair can match at t when value >= t.
        gt_ignore: bool [A, G]: ground truths ignored in each of A buckets (crowd, or outside the bucket).
        gt_crowd: bool [G]: crowd regions (may be matched any number of times).
        batch_pairs: pairs evaluated at once (bounds memory: about 40 bytes x A x T per pair).

    Returns:
        Matches with det_state [A, T, D] and gt_det [A, T, G].
    """
    n_det, (n_a, n_gt) = len(det_group), gt_ignore.shape
    thresholds = np.asarray(thresholds, np.float64)
    n_t = len(thresholds)
    det_state = np.zeros((n_a, n_t, n_det), np.int8)
    gt_det = np.full((n_a, n_t, n_gt), -1, np.int64)
    if len(pair_det) == 0:
        return Matches(det_state, gt_det)
    steps = processing_steps(pair_det, pair_gt, gt_crowd, det_group)
    gt_ignore_t = np.ascontiguousarray(gt_ignore.T)
    # Fast path for the common case: a prediction with one candidate that no other prediction wants.
    n_pairs = np.bincount(pair_det, minlength=n_det)
    single = (steps[pair_det] == 0) & (n_pairs[pair_det] == 1)
    _decide_single(pair_det[single], pair_gt[single], pair_value[single], thresholds, gt_ignore_t, det_state, gt_det)
    rest = ~single
    pair_det, pair_gt, pair_value = pair_det[rest], pair_gt[rest], pair_value[rest]
    order = np.argsort(steps[pair_det], kind="stable")
    pair_det, pair_gt, pair_value = pair_det[order], pair_gt[order], pair_value[order]
    pair_step = steps[pair_det]
    step_bounds = np.flatnonzero(np.diff(pair_step)) + 1
    taken = np.zeros((n_gt, n_a, n_t), bool)
    for lo, hi in zip(np.r_[0, step_bounds], np.r_[step_bounds, len(pair_det)]):
        # Within a step predictions are independent: split it into batches at prediction boundaries.
        while lo < hi:
            cut = min(hi, lo + batch_pairs)
            if cut < hi:
                cut = int(lo + np.searchsorted(pair_det[lo:hi], pair_det[cut], side="left"))
                if cut == lo:  # one prediction with more pairs than a batch
                    cut = int(lo + np.searchsorted(pair_det[lo:hi], pair_det[lo], side="right"))
            _decide(pair_det[lo:cut], pair_gt[lo:cut], pair_value[lo:cut], thresholds, taken, gt_crowd, gt_ignore_t,
                    det_state, gt_det)
            lo = cut
    return Matches(det_state, gt_det)
