"""ATSS (tinydet/train/atss.py) against a naive per-box Python loop written from the paper's algorithm."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

from tinydet.train.atss import atss_assign


def _grid(imgsz, strides):
    points, counts = [], []
    for s in strides:
        n = imgsz // s
        ys, xs = np.meshgrid(np.arange(n) + 0.5, np.arange(n) + 0.5, indexing="ij")
        points += list(zip((xs * s).ravel(), (ys * s).ravel()))
        counts.append(n * n)
    return points, counts


def _iou(a, b):
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _reference(points, counts, strides, boxes, valid, topk, scale=5.0):
    """One image: dict anchor -> gt index, looping over boxes and levels."""
    levels, start = [], 0
    for n, s in zip(counts, strides):
        levels.append([(i, points[i], s) for i in range(start, start + n)])
        start += n
    claims = {}  # anchor -> (iou, gt)
    for g, (box, ok) in enumerate(zip(boxes, valid)):
        if not ok:
            continue
        cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
        cands = []
        for level in levels:
            ranked = sorted(level, key=lambda a: (a[1][0] - cx) ** 2 + (a[1][1] - cy) ** 2)
            cands += ranked[:topk]
        ious = [_iou(box, (x - scale * s / 2, y - scale * s / 2, x + scale * s / 2, y + scale * s / 2))
                for _, (x, y), s in cands]
        mean = sum(ious) / len(ious)
        std = math.sqrt(sum((v - mean) ** 2 for v in ious) / (len(ious) - 1)) if len(ious) > 1 else 0.0
        for (i, (x, y), _), v in zip(cands, ious):
            inside = box[0] < x < box[2] and box[1] < y < box[3]
            if v >= mean + std - 1e-6 and inside and (i not in claims or v > claims[i][0]):
                claims[i] = (v, g)
    return {i: g for i, (_, g) in claims.items()}


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), boxes=st.integers(0, 6), topk=st.integers(1, 12),
       strides=st.sampled_from([(8, 16, 32), (4, 8, 16, 32), (16,)]))
def test_matches_per_box_loop(seed, boxes, topk, strides):
    rng = np.random.default_rng(seed)
    imgsz = 64
    points, counts = _grid(imgsz, strides)
    batch = 2
    gt = np.zeros((batch, boxes, 4))
    for b in range(batch):
        for g in range(boxes):
            w, h = rng.uniform(1.5, 40, 2)
            x, y = rng.uniform(-5, imgsz + 5 - w), rng.uniform(-5, imgsz + 5 - h)  # some stick out of the image
            gt[b, g] = x, y, x + w, y + h
    valid = rng.random((batch, boxes)) < 0.8
    result = atss_assign(torch.tensor(points, dtype=torch.float32), counts, strides,
                         torch.tensor(gt, dtype=torch.float32), torch.tensor(valid)[..., None], topk=topk)
    for b in range(batch):
        expected = _reference(points, counts, strides, gt[b].tolist(), valid[b].tolist(), topk)
        fg = result.fg_mask[b].nonzero().flatten().tolist()
        assert sorted(fg) == sorted(expected)
        assert {i: int(result.target_gt_idx[b, i]) for i in fg} == expected
        assert (result.target_gt_idx[b][~result.fg_mask[b]] == 0).all()
        assert (result.positives[b].sum(0) == result.fg_mask[b].long()).all()  # one box per positive anchor


def test_a_box_gets_positives_on_the_level_that_fits_it():
    points, counts = _grid(64, (8, 16, 32))
    gt = torch.tensor([[[20.0, 20.0, 44.0, 44.0]]])
    result = atss_assign(torch.tensor(points, dtype=torch.float32), counts, (8, 16, 32), gt, torch.ones(1, 1))
    chosen = result.fg_mask[0].nonzero().flatten()
    assert len(chosen) > 0 and (result.target_gt_idx[0, chosen] == 0).all()
    # 24 px box: anchors of side 5 * 8 = 40 px fit it better than 80 or 160 px ones
    assert (chosen < counts[0]).all()


def test_padding_and_empty_batches_get_no_positives():
    points, counts = _grid(32, (8, 16))
    pts = torch.tensor(points, dtype=torch.float32)
    gt = torch.tensor([[[4.0, 4.0, 20.0, 20.0]]])
    assert not atss_assign(pts, counts, (8, 16), gt, torch.zeros(1, 1)).fg_mask.any()
    empty = atss_assign(pts, counts, (8, 16), torch.zeros(2, 0, 4), torch.zeros(2, 0))
    assert empty.fg_mask.shape == (2, len(points)) and not empty.fg_mask.any()


def test_bad_level_counts_are_refused():
    with pytest.raises(ValueError, match="sum"):
        atss_assign(torch.zeros(10, 2), [4, 4], (8, 16), torch.zeros(1, 1, 4), torch.ones(1, 1))
