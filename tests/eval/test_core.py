"""The pure functions against slow, obviously-correct references written here."""

from __future__ import annotations

import numpy as np
import pytest

from tinydet.eval.accumulate import precision_recall, smallest_counts_reaching
from tinydet.eval.matching import MATCHED, MATCHED_IGNORED, UNMATCHED, greedy_match
from tinydet.eval.pairs import candidate_pairs, expand_ranges, rank_in_groups
from tinydet.eval.params import RECALL_THRESHOLDS
from tinydet.eval.similarity import center_pairs, iou_pairs


# ---------------------------------------------------------------------------------------------------------------
# accumulation
# ---------------------------------------------------------------------------------------------------------------
def naive_precision_recall(category, tp, fp, n_gt, points):
    """pycocotools' accumulate loop, one (threshold, category) at a time."""
    n_t, n_k = tp.shape[0], len(n_gt)
    precision = -np.ones((n_t, len(points), n_k))
    recall = -np.ones((n_t, n_k))
    for k in range(n_k):
        if n_gt[k] == 0:
            continue
        sel = category == k
        for t in range(n_t):
            tps, fps = np.cumsum(tp[t, sel]).astype(float), np.cumsum(fp[t, sel]).astype(float)
            rc = tps / n_gt[k]
            pr = (tps / (fps + tps + np.spacing(1))).tolist()
            recall[t, k] = rc[-1] if len(rc) else 0
            for i in range(len(pr) - 1, 0, -1):
                pr[i - 1] = max(pr[i - 1], pr[i])
            q = np.zeros(len(points))
            for r, i in enumerate(np.searchsorted(rc, points, side="left")):
                if i >= len(pr):
                    break
                q[r] = pr[i]
            precision[t, :, k] = q
    return precision, recall


@pytest.mark.parametrize("seed", range(30))
def test_precision_recall_matches_the_loop(seed):
    rng = np.random.default_rng(seed)
    n, n_t, n_k = int(rng.integers(0, 60)), int(rng.integers(1, 4)), int(rng.integers(1, 6))
    category = np.sort(rng.integers(0, n_k, n))
    state = rng.integers(0, 3, (n_t, n))  # 0 fp, 1 tp, 2 ignored
    tp, fp = state == 1, state == 0
    n_gt = rng.integers(0, 12, n_k)
    n_gt = np.maximum(n_gt, np.array([tp[:, category == k].sum(axis=1).max(initial=0) for k in range(n_k)]) * (n_gt > 0))
    got = precision_recall(category, tp, fp, n_gt, RECALL_THRESHOLDS)
    want_p, want_r = naive_precision_recall(category, tp, fp, n_gt, RECALL_THRESHOLDS)
    np.testing.assert_array_equal(got.precision, want_p)
    np.testing.assert_array_equal(got.recall, want_r)


def test_smallest_counts_reaching_is_exact():
    for n in range(1, 400):
        j = smallest_counts_reaching(np.array([n]), RECALL_THRESHOLDS)[0]
        brute = [next(c for c in range(n + 2) if c / n >= r) if r <= 1 else n + 1 for r in RECALL_THRESHOLDS]
        assert j.tolist() == brute, n


# ---------------------------------------------------------------------------------------------------------------
# matching
# ---------------------------------------------------------------------------------------------------------------
def naive_match(values, det_group, gt_group, thresholds, ignore, crowd):
    """pycocotools' evaluateImg loop on a dense value matrix [D, G] (NaN = different group)."""
    n_a, n_t, n_d, n_g = ignore.shape[0], len(thresholds), len(det_group), len(gt_group)
    state = np.zeros((n_a, n_t, n_d), np.int8)
    for a in range(n_a):
        for t, thr in enumerate(thresholds):
            taken = np.zeros(n_g, bool)
            for d in range(n_d):  # dets are already in processing order
                gts = [g for g in np.flatnonzero(gt_group == det_group[d])]
                gts = [g for g in gts if not ignore[a, g]] + [g for g in gts if ignore[a, g]]  # regular first
                best, m = thr, -1
                for g in gts:
                    if taken[g] and not crowd[g]:
                        continue
                    if m > -1 and not ignore[a, m] and ignore[a, g]:
                        break
                    if values[d, g] < best:
                        continue
                    best, m = values[d, g], g
                if m >= 0:
                    taken[m] = True
                    state[a, t, d] = MATCHED_IGNORED if ignore[a, m] else MATCHED
    return state


@pytest.mark.parametrize("seed", range(25))
@pytest.mark.parametrize("batch_pairs", [1, 3, 1 << 16])
def test_greedy_match_matches_the_loop(seed, batch_pairs):
    rng = np.random.default_rng(seed)
    n_d, n_g, n_groups = int(rng.integers(1, 40)), int(rng.integers(1, 25)), int(rng.integers(1, 4))
    det_group = np.sort(rng.integers(0, n_groups, n_d))
    gt_group = np.sort(rng.integers(0, n_groups, n_g))
    values = np.round(rng.random((n_d, n_g)), 1)  # coarse: many exact ties
    thresholds = np.array([0.3, 0.5, 0.7])
    ignore = rng.random((2, n_g)) < 0.3
    crowd = rng.random(n_g) < 0.2
    ignore |= crowd
    d, g = np.nonzero(det_group[:, None] == gt_group[None, :])
    keep = values[d, g] >= thresholds.min()
    m = greedy_match(d[keep], g[keep], values[d, g][keep], det_group, thresholds, ignore, crowd, batch_pairs=batch_pairs)
    want = naive_match(np.where(det_group[:, None] == gt_group[None, :], values, -1.0), det_group, gt_group,
                       thresholds, ignore, crowd)
    np.testing.assert_array_equal(m.det_state, want)
    # every non-crowd ground truth is taken at most once, by a prediction marked as matched
    for a in range(2):
        for t in range(3):
            taken = m.gt_det[a, t][~crowd]
            assert len(set(taken[taken >= 0])) == int((taken >= 0).sum())
            assert (m.det_state[a, t, taken[taken >= 0]] != UNMATCHED).all()


# ---------------------------------------------------------------------------------------------------------------
# pairs, ranks, similarities
# ---------------------------------------------------------------------------------------------------------------
def test_rank_in_groups_orders_by_score_then_row():
    group = np.array([1, 0, 1, 1, 0])
    score = np.array([0.5, 0.2, 0.9, 0.5, 0.2])
    order, rank = rank_in_groups(group, score)
    assert order.tolist() == [1, 4, 2, 0, 3] and rank.tolist() == [0, 1, 0, 1, 2]


def test_expand_ranges():
    owner, idx = expand_ranges(np.array([5, 0, 2]), np.array([2, 0, 3]))
    assert owner.tolist() == [0, 0, 2, 2, 2] and idx.tolist() == [5, 6, 2, 3, 4]


@pytest.mark.parametrize("chunk", [1, 4, 1 << 21])
def test_candidate_pairs_is_the_filtered_cross_product(chunk):
    rng = np.random.default_rng(0)
    det = np.c_[rng.uniform(0, 20, (30, 2)), rng.uniform(1, 10, (30, 2))]
    gt = np.c_[rng.uniform(0, 20, (12, 2)), rng.uniform(1, 10, (12, 2))]
    det_group, gt_group = rng.integers(0, 3, 30), np.sort(rng.integers(0, 3, 12))
    crowd = rng.random(12) < 0.3
    d, g, v = candidate_pairs(det, det_group, gt, gt_group, crowd, iou_pairs, 0.2, chunk=chunk)
    want = [(i, j) for i in range(30) for j in range(12)
            if det_group[i] == gt_group[j] and iou_pairs(det[[i]], gt[[j]], crowd[[j]])[0] >= 0.2]
    assert list(zip(d.tolist(), g.tolist())) == want
    np.testing.assert_array_equal(v, iou_pairs(det[d], gt[g], crowd[g]))


def test_iou_pairs_known_values():
    det = np.array([[0, 0, 10, 10], [0, 0, 10, 10], [20, 20, 5, 5], [2, 2, 2, 2]], float)
    gt = np.array([[5, 0, 10, 10], [0, 0, 10, 10], [0, 0, 5, 5], [0, 0, 10, 10]], float)
    got = iou_pairs(det, gt, np.array([False, False, False, True]))
    np.testing.assert_allclose(got, [50 / 150, 1.0, 0.0, 1.0])  # crowd: intersection / prediction area


def test_center_pairs_formula():
    det = np.array([[3, 4, 2, 2], [82, 82, 40, 40], [0, 0, 2, 2], [50, 50, 2, 2]], float)
    gt = np.array([[0, 0, 8, 2], [100, 100, 4, 4], [0, 0, 0, 0], [0, 0, 10, 10]], float)
    got = center_pairs(det, gt, np.array([False, False, False, True]))
    # centres (4,5) vs (4,1): distance 4, size 4 -> -1; same centre -> 0 whatever the sizes; degenerate
    # ground truth: size floored at 1 px; crowd region not containing the centre -> -inf
    np.testing.assert_allclose(got, [-1.0, 0.0, -np.hypot(1, 1), -np.inf])
