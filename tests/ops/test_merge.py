"""Every merge against a slow, sequential reference written here (one box at a time, plain Python), plus
properties. The references use tinydet.ops.boxes per pair (itself checked against Python formulas in
test_boxes.py), so fast and slow paths compare equal values and thresholds cannot flip on rounding."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from tinydet.ops import boxes as B
from tinydet.ops.merge import METHODS, merge
from tinydet.ops.nmm import greedy_nmm, nmm
from tinydet.ops.nms import diou_nms, nms, soft_nms
from tinydet.ops.wbf import weighted_boxes_fusion


def similarity(metric, a, b):
    return B.SIMILARITIES[metric](torch.tensor(a, dtype=torch.float64), torch.tensor(b, dtype=torch.float64)).item()


def by_score(scores):
    return sorted(range(len(scores)), key=lambda k: (-scores[k], k))


def same_group(groups, a, b):
    return groups is None or groups[a] == groups[b]


# --------------------------------------------------------------------------------------------------------------
# References
# --------------------------------------------------------------------------------------------------------------
def ref_nms(boxes, scores, thr, groups, metric):
    keep, dead = [], set()
    order = by_score(scores)
    for pos, a in enumerate(order):
        if a in dead:
            continue
        keep.append(a)
        for b in order[pos + 1 :]:
            if same_group(groups, a, b) and similarity(metric, boxes[a], boxes[b]) > thr:
                dead.add(b)
    return keep


def ref_soft_nms(boxes, scores, method, sigma, thr, score_thr, groups, metric):
    s = list(scores)
    rank = {k: r for r, k in enumerate(by_score(scores))}
    alive = [k for k in range(len(s)) if s[k] >= score_thr]
    out = {}
    while alive:
        best = max(alive, key=lambda k: (s[k], -rank[k]))
        alive.remove(best)
        out[best] = s[best]
        for k in alive:
            if not same_group(groups, best, k):
                continue
            m = similarity(metric, boxes[best], boxes[k])
            if method == "linear":
                s[k] *= (1 - m) if m > thr else 1.0
            else:
                s[k] *= math.exp(-(max(m, 0.0) ** 2) / sigma)
        alive = [k for k in alive if s[k] >= score_thr]
    return out


def ref_wbf(boxes, scores, thr, groups, metric, conf_type):
    clusters = []  # [members]
    for k in by_score(scores):
        best, best_value = None, thr
        for c, members in enumerate(clusters):
            if not same_group(groups, members[0], k):
                continue
            w = sum(scores[m] for m in members)
            fused = [sum(scores[m] * boxes[m][q] for m in members) / w for q in range(4)]
            value = similarity(metric, boxes[k], fused)
            if value > best_value:
                best, best_value = c, value
        if best is None:
            clusters.append([k])
        else:
            clusters[best].append(k)
    out = {}
    for members in clusters:
        w = sum(scores[m] for m in members)
        box = [sum(scores[m] * boxes[m][q] for m in members) / w for q in range(4)]
        score = w / len(members) if conf_type == "avg" else scores[members[0]]
        out[members[0]] = (box, score)
    return out


def ref_nmm(boxes, scores, thr, groups, metric, transitive):
    order = by_score(scores)
    keeper_of, claims = {}, {}
    for pos, a in enumerate(order):
        if a not in keeper_of:
            keeper_of[a] = a
            claims[a] = []
        elif not transitive:
            continue
        for b in order[pos + 1 :]:
            if b not in keeper_of and same_group(groups, a, b) and similarity(metric, boxes[a], boxes[b]) > thr:
                keeper_of[b] = keeper_of[a]
                claims[keeper_of[a]].append(b)
    out = {}
    for keeper, members in claims.items():
        box = list(boxes[keeper])
        for m in members:
            if similarity(metric, box, boxes[m]) > thr:
                box = [min(box[0], boxes[m][0]), min(box[1], boxes[m][1]), max(box[2], boxes[m][2]), max(box[3], boxes[m][3])]
        out[keeper] = box
    return out


# --------------------------------------------------------------------------------------------------------------
# Scenes
# --------------------------------------------------------------------------------------------------------------
def scene(seed, n, groups, duplicates=True):
    """Objects seen several times (jittered, some cut like at a tile border) plus clutter, float64."""
    rng = np.random.default_rng(seed)
    objects = max(1, n // 3)
    xy = rng.uniform(0, 150, (objects, 2))
    wh = rng.uniform(3, 30, (objects, 2))
    pick = rng.integers(0, objects, n)
    b = np.concatenate([xy[pick], xy[pick] + wh[pick]], 1)
    if duplicates:
        b += rng.normal(0, 2, b.shape)
        cut = rng.random(n) < 0.2
        b[cut, 2] = b[cut, 0] + (b[cut, 2] - b[cut, 0]) * rng.uniform(0.3, 0.9, cut.sum())
    b[:, 2:] = np.maximum(b[:, 2:], b[:, :2] + 0.1)
    scores = rng.uniform(0.05, 1.0, n)
    g = rng.integers(0, groups, n) if groups else None
    return b, scores, g


def tensors(b, s, g):
    return torch.tensor(b), torch.tensor(s), (None if g is None else torch.tensor(g))


common = dict(seed=st.integers(0, 10**6), n=st.integers(0, 40), groups=st.sampled_from([0, 1, 3]),
              thr=st.sampled_from([0.0, 0.1, 0.3, 0.5, 0.7, 0.95]))


# --------------------------------------------------------------------------------------------------------------
# Equality with the references
# --------------------------------------------------------------------------------------------------------------
@settings(max_examples=60, deadline=None)
@given(metric=st.sampled_from(["iou", "ios", "diou"]), **common)
def test_nms_equals_reference(seed, n, groups, thr, metric):
    b, s, g = scene(seed, n, groups)
    tb, ts, tg = tensors(b, s, g)
    out = nms(tb, ts, thr, tg, metric)
    assert out.index.tolist() == ref_nms(b, s, thr, g, metric)
    torch.testing.assert_close(out.boxes, torch.tensor(b)[out.index])
    torch.testing.assert_close(out.scores, torch.tensor(s)[out.index])


@settings(max_examples=30, deadline=None)
@given(**common)
def test_nms_equals_torchvision(seed, n, groups, thr):
    from torchvision.ops import batched_nms

    b, s, g = scene(seed, n, groups)
    tb, ts, tg = tensors(b, s, g)
    expected = batched_nms(tb, ts, tg if tg is not None else torch.zeros(n, dtype=torch.long), thr)
    assert nms(tb, ts, thr, tg).index.tolist() == expected.tolist()


def test_diou_nms_keeps_overlapping_boxes_with_distant_centres():
    boxes = torch.tensor([[0.0, 0, 10, 10], [4, 0, 14, 10], [0.5, 0, 10.5, 10]])
    scores = torch.tensor([0.9, 0.8, 0.7])
    # IoU(0, 1) = 60 / 140 = 0.43, but their centres are 4 px apart: DIoU = 0.43 - 16 / 296 = 0.37
    assert nms(boxes, scores, 0.4).index.tolist() == [0]
    assert diou_nms(boxes, scores, 0.4).index.tolist() == [0, 1]
    assert diou_nms(boxes, scores, 0.37).index.tolist() == [0]


@settings(max_examples=50, deadline=None)
@given(method=st.sampled_from(["linear", "gaussian"]), sigma=st.sampled_from([0.1, 0.5, 2.0]),
       metric=st.sampled_from(["iou", "ios"]), score_thr=st.sampled_from([0.0, 0.05, 0.3]), **common)
def test_soft_nms_equals_reference(seed, n, groups, thr, method, sigma, metric, score_thr):
    b, s, g = scene(seed, n, groups)
    tb, ts, tg = tensors(b, s, g)
    out = soft_nms(tb, ts, method, sigma, thr, score_thr, tg, metric)
    expected = ref_soft_nms(b, s, method, sigma, thr, score_thr, g, metric)
    assert sorted(out.index.tolist()) == sorted(expected)
    got = dict(zip(out.index.tolist(), out.scores.tolist()))
    for k, value in expected.items():
        assert got[k] == pytest.approx(value, rel=1e-9)
    assert (out.scores[:-1] >= out.scores[1:]).all()


@settings(max_examples=60, deadline=None)
@given(metric=st.sampled_from(["iou", "ios"]), conf_type=st.sampled_from(["avg", "max"]), **common)
def test_wbf_equals_reference(seed, n, groups, thr, metric, conf_type):
    b, s, g = scene(seed, n, groups)
    tb, ts, tg = tensors(b, s, g)
    out = weighted_boxes_fusion(tb, ts, thr, tg, metric, conf_type)
    expected = ref_wbf(b, s, thr, g, metric, conf_type)
    assert sorted(out.index.tolist()) == sorted(expected)
    for k, box, score in zip(out.index.tolist(), out.boxes.tolist(), out.scores.tolist()):
        np.testing.assert_allclose(box, expected[k][0], rtol=1e-9, atol=1e-9)
        assert score == pytest.approx(expected[k][1], rel=1e-9)


@settings(max_examples=60, deadline=None)
@given(metric=st.sampled_from(["iou", "ios"]), transitive=st.booleans(), **common)
def test_nmm_equals_reference(seed, n, groups, thr, metric, transitive):
    b, s, g = scene(seed, n, groups)
    fn = nmm if transitive else greedy_nmm
    tb, ts, tg = tensors(b, s, g)
    out = fn(tb, ts, thr, tg, metric)
    expected = ref_nmm(b, s, thr, g, metric, transitive)
    assert sorted(out.index.tolist()) == sorted(expected)
    for k, box in zip(out.index.tolist(), out.boxes.tolist()):
        np.testing.assert_allclose(box, expected[k], rtol=0, atol=0)
    torch.testing.assert_close(out.scores, torch.tensor(s)[out.index])


@pytest.mark.parametrize("transitive", [False, True])
@pytest.mark.parametrize("metric", ["IOU", "IOS"])
def test_nmm_equals_sahi(metric, transitive):
    """Same keepers and merged boxes as SAHI 0.12.8's postprocess (inputs in score order, as SAHI visits them)."""
    pytest.importorskip("sahi")
    from sahi.postprocess.backends import set_postprocess_backend
    from sahi.postprocess.combine import batched_greedy_nmm, batched_nmm

    set_postprocess_backend("numpy")
    for seed in range(20):
        b, s, g = scene(seed, 60, 3)
        order = np.argsort(-s, kind="stable")
        b, s, g = b[order], s[order], g[order]
        table = np.concatenate([b, s[:, None], g[:, None]], 1)
        keep_to_merge = (batched_nmm if transitive else batched_greedy_nmm)(table, metric, 0.5)
        expected = {}
        for keeper, members in keep_to_merge.items():
            box = b[keeper].tolist()
            for m in members:
                if similarity(metric.lower(), box, b[m].tolist()) >= 0.5:
                    box = [min(box[0], b[m][0]), min(box[1], b[m][1]), max(box[2], b[m][2]), max(box[3], b[m][3])]
            expected[keeper] = box
        out = (nmm if transitive else greedy_nmm)(torch.tensor(b), torch.tensor(s), 0.5, torch.tensor(g), metric.lower())
        assert sorted(out.index.tolist()) == sorted(expected), seed
        for k, box in zip(out.index.tolist(), out.boxes.tolist()):
            np.testing.assert_allclose(box, expected[k], rtol=1e-12), seed


# --------------------------------------------------------------------------------------------------------------
# Properties of every method
# --------------------------------------------------------------------------------------------------------------
@settings(max_examples=40, deadline=None)
@given(method=st.sampled_from(sorted(METHODS)), seed=st.integers(0, 10**6), n=st.integers(0, 60),
       groups=st.sampled_from([0, 3]), thr=st.sampled_from([0.3, 0.5, 0.8]))
def test_merge_properties(method, seed, n, groups, thr):
    b, s, g = scene(seed, n, groups)
    tb, ts, tg = tensors(b, s, g)
    out = merge(method, tb, ts, tg, thr)
    assert len(out.index) == len(set(out.index.tolist())) <= n, "outputs are a subset of the inputs"
    assert (out.scores[:-1] >= out.scores[1:]).all(), "sorted by score"
    if method in ("nms", "diou-nms"):
        torch.testing.assert_close(out.boxes, tb[out.index])
        kept = out.index.tolist()
        metric = "diou" if method == "diou-nms" else "iou"
        for x in kept:  # no two kept boxes of one group match each other
            for y in kept:
                if x != y and same_group(g, x, y):
                    assert similarity(metric, b[x], b[y]) <= thr
    # shifting every box shifts the result: merging is translation equivariant
    shift = torch.tensor([1000.0, -250.0, 1000.0, -250.0], dtype=torch.float64)
    moved = merge(method, tb + shift, ts, tg, thr)
    assert moved.index.tolist() == out.index.tolist()
    torch.testing.assert_close(moved.boxes - shift, out.boxes, rtol=0, atol=1e-9)


@settings(max_examples=30, deadline=None)
@given(method=st.sampled_from(sorted(METHODS)), seed=st.integers(0, 10**6), n=st.integers(1, 40))
def test_merge_ignores_input_order(method, seed, n):
    b, s, g = scene(seed, n, 3)
    s = np.round(s, 6) + np.arange(n) * 1e-9  # distinct scores: the order of ties is the only order that may matter
    tb, ts, tg = tensors(b, s, g)
    perm = torch.tensor(np.random.default_rng(seed).permutation(n))
    a, c = merge(method, tb, ts, tg, 0.5), merge(method, tb[perm], ts[perm], tg[perm], 0.5)
    assert perm[c.index].tolist() == a.index.tolist()
    torch.testing.assert_close(c.boxes, a.boxes)


@pytest.mark.parametrize("method", sorted(METHODS))
def test_empty_and_single(method):
    empty = merge(method, torch.zeros(0, 4), torch.zeros(0))
    assert empty.index.shape == (0,) and empty.boxes.shape == (0, 4)
    one = merge(method, torch.tensor([[1.0, 2, 3, 4]]), torch.tensor([0.5]))
    assert one.index.tolist() == [0] and one.boxes.tolist() == [[1.0, 2, 3, 4]]


def test_float32_boxes_stay_float32():
    b, s, g = scene(1, 30, 2)
    for method in METHODS:
        out = merge(method, torch.tensor(b, dtype=torch.float32), torch.tensor(s, dtype=torch.float32), torch.tensor(g), 0.5)
        assert out.boxes.dtype == torch.float32 and out.scores.dtype == torch.float32


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: merge("bogus", torch.zeros(0, 4), torch.zeros(0)), "unknown merge 'bogus'"),
        (lambda: merge("diou-nms", torch.zeros(0, 4), torch.zeros(0), metric="ios"), "matches boxes by diou"),
        (lambda: nms(torch.zeros(3, 5), torch.zeros(3)), r"shape \[N, 4\]"),
        (lambda: nms(torch.zeros(3, 4), torch.zeros(2)), r"scores must have shape \[3\]"),
        (lambda: nms(torch.zeros(3, 4), torch.zeros(3), groups=torch.zeros(2)), r"groups must have shape \[3\]"),
        (lambda: nms(torch.zeros(3, 4), torch.zeros(3), 1.5), r"in \[0, 1\]"),
        (lambda: nms(torch.zeros(3, 4), torch.zeros(3), metric="giou"), "unknown NMS match metric .giou."),
        (lambda: soft_nms(torch.zeros(3, 4), torch.zeros(3), method="cubic"), "'linear' or 'gaussian'"),
        (lambda: soft_nms(torch.zeros(3, 4), torch.zeros(3), sigma=0), "sigma must be positive"),
        (lambda: weighted_boxes_fusion(torch.zeros(3, 4), torch.zeros(3), conf_type="sum"), "conf_type 'sum'"),
        (lambda: greedy_nmm(torch.zeros(3, 4), torch.zeros(3), metric="diou"), "NMM match metric 'diou'"),
    ],
)
def test_bad_arguments(call, message):
    with pytest.raises(ValueError, match=message):
        call()
