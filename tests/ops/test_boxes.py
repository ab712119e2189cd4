"""Box geometry against slow, obviously-correct references written here, plus the laws each metric obeys."""

import math

import numpy as np
import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tinydet.ops import boxes as B


# --------------------------------------------------------------------------------------------------------------
# Naive references: one pair of boxes at a time, plain Python floats
# --------------------------------------------------------------------------------------------------------------
def ref_area(b):
    return max(0.0, b[2] - b[0]) * max(0.0, b[3] - b[1])


def ref_inter(a, b):
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    return max(0.0, w) * max(0.0, h)


def ref_iou(a, b):
    i = ref_inter(a, b)
    return i / (ref_area(a) + ref_area(b) - i)


def ref_ios(a, b):
    return ref_inter(a, b) / min(ref_area(a), ref_area(b))


def ref_hull(a, b):
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


def ref_giou(a, b):
    i = ref_inter(a, b)
    u = ref_area(a) + ref_area(b) - i
    c = ref_area(ref_hull(a, b))
    return i / u - (c - u) / c


def ref_centre_sq(a, b):
    return ((a[0] + a[2]) / 2 - (b[0] + b[2]) / 2) ** 2 + ((a[1] + a[3]) / 2 - (b[1] + b[3]) / 2) ** 2


def ref_diou(a, b):
    h = ref_hull(a, b)
    return ref_iou(a, b) - ref_centre_sq(a, b) / ((h[2] - h[0]) ** 2 + (h[3] - h[1]) ** 2)


def ref_ciou(a, b):
    v = 4 / math.pi**2 * (math.atan((b[2] - b[0]) / (b[3] - b[1])) - math.atan((a[2] - a[0]) / (a[3] - a[1]))) ** 2
    alpha = v / (1 - ref_iou(a, b) + v) if v > 0 else 0.0
    return ref_diou(a, b) - alpha * v


def ref_nwd(a, b, c=12.8):
    """Straight from the paper: Gaussians N([cx, cy], diag(w^2/4, h^2/4)); W2 between them."""
    ma = np.array([(a[0] + a[2]) / 2, (a[1] + a[3]) / 2, (a[2] - a[0]) / 2, (a[3] - a[1]) / 2])
    mb = np.array([(b[0] + b[2]) / 2, (b[1] + b[3]) / 2, (b[2] - b[0]) / 2, (b[3] - b[1]) / 2])
    return math.exp(-math.sqrt(((ma - mb) ** 2).sum()) / c)


REFERENCES = {
    "iou": (B.iou, B.pairwise_iou, ref_iou),
    "ios": (B.ios, B.pairwise_ios, ref_ios),
    "giou": (B.giou, B.pairwise_giou, ref_giou),
    "diou": (B.diou, B.pairwise_diou, ref_diou),
    "ciou": (B.ciou, B.pairwise_ciou, ref_ciou),
    "centre_distance": (B.centre_distance, B.pairwise_centre_distance, lambda a, b: math.sqrt(ref_centre_sq(a, b))),
    "nwd": (B.nwd, B.pairwise_nwd, ref_nwd),
}


def random_boxes(rng, n, scale=100.0):
    xy = rng.uniform(0, scale, (n, 2))
    wh = rng.uniform(0.5, scale / 3, (n, 2))
    return np.concatenate([xy, xy + wh], 1)


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_pairwise_and_elementwise_match_reference(name):
    fn, pairwise_fn, ref = REFERENCES[name]
    rng = np.random.default_rng(0)
    a, b = random_boxes(rng, 7), random_boxes(rng, 5)
    b[0] = a[0]  # identical pair
    b[1] = a[1] + [3, 2, 3, 2]  # overlapping pair
    expected = np.array([[ref(x, y) for y in b] for x in a])
    got = pairwise_fn(torch.tensor(a), torch.tensor(b)).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12)
    elementwise = fn(torch.tensor(a[:5]), torch.tensor(b)).numpy()
    np.testing.assert_allclose(elementwise, np.diag(expected[:5]), rtol=1e-9, atol=1e-12)


def test_pairwise_broadcasts_over_batches():
    rng = np.random.default_rng(1)
    a = torch.tensor(np.stack([random_boxes(rng, 4), random_boxes(rng, 4)]))
    b = torch.tensor(np.stack([random_boxes(rng, 3), random_boxes(rng, 3)]))
    got = B.pairwise_iou(a, b)
    assert got.shape == (2, 4, 3)
    for k in range(2):
        torch.testing.assert_close(got[k], B.pairwise_iou(a[k], b[k]))


def test_format_round_trip_and_area():
    boxes = torch.tensor([[1.0, 2.0, 5.0, 10.0], [0.0, 0.0, 0.0, 3.0]])
    torch.testing.assert_close(B.cxcywh_to_xyxy(B.xyxy_to_cxcywh(boxes)), boxes)
    torch.testing.assert_close(B.xyxy_to_cxcywh(boxes)[0], torch.tensor([3.0, 6.0, 4.0, 8.0]))
    torch.testing.assert_close(B.box_area(boxes), torch.tensor([32.0, 0.0]))


def test_degenerate_boxes_are_finite():
    point = torch.tensor([[5.0, 5.0, 5.0, 5.0]])
    for name, (fn, _, _) in REFERENCES.items():
        value = fn(point, point)
        assert torch.isfinite(value).all(), name


def test_gradients_are_finite_for_identical_and_disjoint_boxes():
    a = torch.tensor([[0.0, 0.0, 4.0, 4.0], [0.0, 0.0, 4.0, 4.0]], requires_grad=True)
    b = torch.tensor([[0.0, 0.0, 4.0, 4.0], [10.0, 10.0, 12.0, 13.0]])
    for name, (fn, _, _) in REFERENCES.items():
        (grad,) = torch.autograd.grad(fn(a, b).sum(), a)
        assert torch.isfinite(grad).all(), name


def test_nwd_constant_must_be_positive():
    box = torch.zeros(1, 4)
    with pytest.raises(ValueError, match="positive"):
        B.nwd(box, box, constant=0)


def test_pairwise_rejects_wrong_shape():
    with pytest.raises(ValueError, match="last dimension of 4"):
        B.pairwise_iou(torch.zeros(3, 5), torch.zeros(2, 4))


# --------------------------------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------------------------------
coord = st.floats(-1000, 1000, allow_nan=False, allow_infinity=False)
size = st.floats(0.01, 500, allow_nan=False, allow_infinity=False)


@st.composite
def box(draw):
    x, y, w, h = draw(coord), draw(coord), draw(size), draw(size)
    return [x, y, x + w, y + h]


@settings(max_examples=300, deadline=None)
@given(a=box(), b=box())
def test_iou_family_laws(a, b):
    ta, tb = torch.tensor([a], dtype=torch.float64), torch.tensor([b], dtype=torch.float64)
    iou_ab, iou_ba = B.iou(ta, tb).item(), B.iou(tb, ta).item()
    assert 0.0 <= iou_ab <= 1.0 + 1e-12
    assert iou_ab == pytest.approx(iou_ba, abs=1e-12)
    assert B.ios(ta, tb).item() >= iou_ab - 1e-12
    assert B.ios(ta, tb).item() <= 1.0 + 1e-9
    assert -1.0 - 1e-9 <= B.giou(ta, tb).item() <= iou_ab + 1e-12
    assert -1.0 - 1e-9 <= B.diou(ta, tb).item() <= iou_ab + 1e-12
    assert B.ciou(ta, tb).item() <= B.diou(ta, tb).item() + 1e-12
    assert B.diou(ta, tb).item() == pytest.approx(B.diou(tb, ta).item(), abs=1e-9)
    assert 0.0 < B.nwd(ta, tb).item() <= 1.0
    assert B.nwd(ta, tb).item() == pytest.approx(B.nwd(tb, ta).item(), rel=1e-12)


@settings(max_examples=200, deadline=None)
@given(a=box())
def test_identical_boxes(a):
    t = torch.tensor([a], dtype=torch.float64)
    assert B.nwd(t, t).item() == 1.0
    assert B.centre_distance(t, t).item() == 0.0
    assert B.iou(t, t).item() == pytest.approx(1.0, abs=1e-9)
    assert B.diou(t, t).item() == pytest.approx(1.0, abs=1e-9)
    assert B.ciou(t, t).item() == pytest.approx(1.0, abs=1e-9)


@settings(max_examples=200, deadline=None)
@given(a=box(), dx=st.floats(-50, 50), dy=st.floats(-50, 50), k=st.floats(1.01, 5))
def test_nwd_falls_with_centre_distance(a, dx, dy, k):
    assume(abs(dx) + abs(dy) > 1e-3)
    t = torch.tensor([a], dtype=torch.float64)
    near = t + torch.tensor([dx, dy, dx, dy], dtype=torch.float64)
    far = t + k * torch.tensor([dx, dy, dx, dy], dtype=torch.float64)
    assert B.nwd(t, far).item() < B.nwd(t, near).item() < 1.0


@settings(max_examples=100, deadline=None)
@given(a=box(), b=box(), dx=coord, dy=coord)
def test_translation_invariance(a, b, dx, dy):
    shift = torch.tensor([dx, dy, dx, dy], dtype=torch.float64)
    ta, tb = torch.tensor([a], dtype=torch.float64), torch.tensor([b], dtype=torch.float64)
    for name in ("iou", "nwd", "diou"):
        fn = REFERENCES[name][0]
        assert fn(ta + shift, tb + shift).item() == pytest.approx(fn(ta, tb).item(), abs=1e-6), name


def test_collapse_inverted_boxes():
    boxes = torch.tensor([[5.0, 5.0, 3.0, 9.0], [1.0, 2.0, 3.0, 4.0], [4.0, 4.0, 6.0, 1.0]])
    out = B.collapse_inverted(boxes)
    assert out.tolist() == [[5.0, 5.0, 5.0, 9.0], [1.0, 2.0, 3.0, 4.0], [4.0, 4.0, 6.0, 4.0]]
    assert (B.pairwise_iou(out[[0, 2]], torch.tensor([[0.0, 0.0, 10.0, 10.0]])) == 0).all()  # matches nothing
