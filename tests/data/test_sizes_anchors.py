"""Pure size arithmetic and k-means anchors, each against a slow, obviously correct reference."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinydet.data.anchors import kmeans_anchors, wh_iou
from tinydet.data.sizes import aitod_buckets, anchor_point_chance, coco_buckets, coverage, round_up


def test_bucket_boundaries_are_exclusive_below():
    sides = np.array([7.999, 8, 15.999, 16, 31.999, 32, 63.999, 64, 95.999, 96, 200])
    assert aitod_buckets(sides**2) == {"very_tiny": 1, "tiny": 2, "small": 2, "medium": 2, "large": 4}
    assert coco_buckets(sides**2) == {"small": 5, "medium": 4, "large": 2}
    assert coco_buckets(np.array([32 * 32.0, 16 * 64.0, 1023.99])) == {"small": 1, "medium": 2, "large": 0}
    assert coco_buckets(np.zeros(0)) == {"small": 0, "medium": 0, "large": 0}


@pytest.mark.parametrize("w, h, stride", [(3.0, 5.0, 8), (10.0, 2.5, 4), (20.0, 20.0, 8), (7.5, 9.0, 16)])
def test_anchor_point_chance_matches_a_simulation(w, h, stride):
    """Drop the box at random sub-pixel positions and count grid centres (i + 0.5) * stride strictly inside."""
    rng = np.random.default_rng(0)
    x, y = rng.uniform(0, 1000, 20000), rng.uniform(0, 1000, 20000)

    def hits(start, length):
        first = np.ceil(start / stride - 0.5)  # smallest i with (i + 0.5) * stride >= start
        return (first + 0.5) * stride < start + length

    simulated = (hits(x, w) & hits(y, h)).mean()
    assert anchor_point_chance(np.array([w]), np.array([h]), stride)[0] == pytest.approx(simulated, abs=0.01)


def test_coverage_and_round_up():
    assert coverage(np.zeros(0), np.zeros(0), 8) == 1.0
    assert coverage(np.array([4.0, 16.0]), np.array([8.0, 16.0]), 8) == pytest.approx(0.75)
    assert [round_up(v) for v in (1, 32, 33, 640, 641)] == [32, 32, 64, 640, 672]


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.floats(0.5, 500), st.floats(0.5, 500)), min_size=1, max_size=20),
       st.lists(st.tuples(st.floats(0.5, 500), st.floats(0.5, 500)), min_size=1, max_size=5))
def test_wh_iou_matches_corner_aligned_box_iou(boxes, anchors):
    got = wh_iou(np.array(boxes), np.array(anchors))
    for i, (w, h) in enumerate(boxes):
        for j, (aw, ah) in enumerate(anchors):
            inter = min(w, aw) * min(h, ah)
            assert got[i, j] == pytest.approx(inter / (w * h + aw * ah - inter))
    assert ((got >= 0) & (got <= 1 + 1e-12)).all()


def test_kmeans_finds_separated_clusters_deterministically():
    rng = np.random.default_rng(1)
    centres = np.array([[4, 6], [20, 12], [80, 90]], float)
    wh = np.concatenate([c * rng.uniform(0.95, 1.05, (200, 2)) for c in centres])
    anchors, fit = kmeans_anchors(wh, k=3, seed=0)
    np.testing.assert_allclose(anchors, centres, rtol=0.03)
    assert fit > 0.9
    again, fit_again = kmeans_anchors(wh, k=3, seed=0)
    np.testing.assert_array_equal(anchors, again)
    assert fit == fit_again


def test_kmeans_edge_cases():
    anchors, fit = kmeans_anchors(np.array([[5.0, 5.0], [5.0, 5.0], [10.0, 20.0]]), k=9)
    assert len(anchors) == 2 and fit == pytest.approx(1.0)  # k capped at the number of distinct shapes
    assert kmeans_anchors(np.zeros((0, 2)), k=3)[0].shape == (0, 2)
    with pytest.raises(ValueError, match="positive"):
        kmeans_anchors(np.array([[0.0, 3.0]]))
    with pytest.raises(ValueError, match="at least 1"):
        kmeans_anchors(np.ones((3, 2)), k=0)
