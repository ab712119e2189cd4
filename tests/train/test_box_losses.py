import math

import pytest
import torch
from tinydet.errors import TinydetError

from tinydet.train.losses import box_regression_loss


def naive_nwd(a, b, c):
    """Wang et al. 2021, from the paper's formulas, one pair."""
    (ax1, ay1, ax2, ay2), (bx1, by1, bx2, by2) = a, b
    ca, cb = ((ax1 + ax2) / 2, (ay1 + ay2) / 2), ((bx1 + bx2) / 2, (by1 + by2) / 2)
    w2 = (ca[0] - cb[0]) ** 2 + (ca[1] - cb[1]) ** 2 + (((ax2 - ax1) - (bx2 - bx1)) ** 2 + ((ay2 - ay1) - (by2 - by1)) ** 2) / 4
    return math.exp(-math.sqrt(w2) / c)


def naive_iou(a, b):
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def naive_giou(a, b):
    cw = max(a[2], b[2]) - min(a[0], b[0])
    ch = max(a[3], b[3]) - min(a[1], b[1])
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - iw * ih
    return naive_iou(a, b) - (cw * ch - union) / (cw * ch)


def random_pairs(n=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    xy = torch.rand(n, 2, generator=g, dtype=torch.float64) * 100
    wh = torch.rand(n, 2, generator=g, dtype=torch.float64) * 30 + 1
    a = torch.cat([xy, xy + wh], 1)
    b = a + torch.randn(n, 4, generator=g, dtype=torch.float64) * 3
    b[:, 2:] = torch.maximum(b[:, 2:], b[:, :2] + 0.5)
    return a, b


def test_nwd_and_giou_losses_match_the_papers():
    a, b = random_pairs()
    nwd = box_regression_loss(a, b, "nwd", nwd_c=12.8)
    giou = box_regression_loss(a, b, "giou")
    for i in range(len(a)):
        assert float(nwd[i]) == pytest.approx(1 - naive_nwd(a[i].tolist(), b[i].tolist(), 12.8), rel=1e-9, abs=1e-12)
        assert float(giou[i]) == pytest.approx(1 - naive_giou(a[i].tolist(), b[i].tolist()), rel=1e-7, abs=1e-9)


def test_blend_is_the_weighted_sum():
    a, b = random_pairs()
    blend = box_regression_loss(a, b, "nwd-ciou", nwd_ratio=0.3)
    expected = 0.3 * box_regression_loss(a, b, "nwd") + 0.7 * box_regression_loss(a, b, "ciou")
    assert torch.allclose(blend, expected)


def test_nwd_laws():
    box = torch.tensor([[10.0, 10.0, 14.0, 14.0]])
    assert float(box_regression_loss(box, box, "nwd")) == 0.0  # NWD = 1 for identical boxes
    losses = [float(box_regression_loss(box, box + torch.tensor([d, 0, d, 0]), "nwd")) for d in (0.5, 1, 2, 4, 8, 16)]
    assert losses == sorted(losses) and losses[-1] < 1  # falls with centre distance, never saturates
    small, large = box, torch.tensor([[10.0, 10.0, 50.0, 50.0]])
    shift = torch.tensor([2.0, 0, 2.0, 0])
    # the same 2 px offset costs the same for a 4 px and a 40 px box under NWD; IoU punishes the tiny box
    assert float(box_regression_loss(small, small + shift, "nwd")) == pytest.approx(
        float(box_regression_loss(large, large + shift, "nwd")))
    assert float(box_regression_loss(small, small + shift, "ciou")) > 5 * float(box_regression_loss(large, large + shift, "ciou"))
    # scaling both boxes by s scales the Wasserstein distance by s: NWD_s = NWD_1 ** s
    a, b = small, small + shift
    n1 = 1 - float(box_regression_loss(a, b, "nwd"))
    n3 = 1 - float(box_regression_loss(a * 3, b * 3, "nwd"))
    assert n3 == pytest.approx(n1**3)
    # disjoint boxes: IoU-based loss saturates, NWD still orders them
    far1, far2 = box + torch.tensor([20.0, 0, 20, 0]), box + torch.tensor([30.0, 0, 30, 0])
    assert float(box_regression_loss(box, far1, "nwd")) < float(box_regression_loss(box, far2, "nwd"))


@pytest.mark.parametrize("kind", ["ciou", "diou", "giou", "nwd", "nwd-ciou"])
def test_finite_gradients_including_identical_and_degenerate_boxes(kind):
    a = torch.tensor([[0.0, 0.0, 4.0, 4.0], [5.0, 5.0, 5.0, 9.0], [1.0, 1.0, 3.0, 3.0]], requires_grad=True)
    b = torch.tensor([[0.0, 0.0, 4.0, 4.0], [5.0, 5.0, 6.0, 9.0], [10.0, 10.0, 12.0, 12.0]])
    loss = box_regression_loss(a, b, kind)
    loss.sum().backward()
    assert torch.isfinite(loss).all() and torch.isfinite(a.grad).all()


def test_unknown_kind():
    with pytest.raises(TinydetError, match="unknown box loss"):
        box_regression_loss(torch.zeros(1, 4), torch.zeros(1, 4), "l1")
