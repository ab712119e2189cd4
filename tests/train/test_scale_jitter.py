"""Small-object aware scale jitter: the documented lower-bound rule, labels on pixels, and the size floor as a law."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from drawing import assert_labels_on_pixels, random_blocks, scene
from hypothesis import given, settings
from hypothesis import strategies as st

from tinydet.train.geometry import object_sizes
from tinydet.train.scale_jitter import jitter_range, scale_jitter


@pytest.mark.parametrize(
    "sizes, low, high, min_size, expected",
    [
        ([32, 64], 0.5, 1.5, 8, (0.5, 1.5)),  # smallest 32 px: shrinking to 16 px is fine
        ([12, 64], 0.5, 1.5, 8, (8 / 12, 1.5)),  # smallest 12 px: at most 12 -> 8
        ([8, 64], 0.5, 1.5, 8, (1.0, 1.5)),  # exactly at the floor: never shrunk
        ([4, 64], 0.5, 1.5, 8, (1.0, 1.5)),  # below the floor already: never shrunk, not forced to grow
        ([], 0.5, 1.5, 8, (0.5, 1.5)),  # no objects: the requested range
        ([12, 64], 0.5, 1.5, 0, (0.5, 1.5)),  # min_size 0: no floor
        ([2, 3], 1.0, 1.0, 8, (1.0, 1.0)),
    ],
)
def test_the_lower_bound_rule(sizes, low, high, min_size, expected):
    boxes = np.array([[0, 0, s, s] for s in sizes], np.float32).reshape(-1, 4)
    assert jitter_range(boxes, low, high, min_size) == pytest.approx(expected)


@pytest.mark.parametrize("low, high", [(0.0, 1.5), (1.2, 1.5), (0.5, 0.9)])
def test_a_range_that_does_not_contain_1_is_refused(low, high):
    with pytest.raises(ValueError, match="low <= 1 <= high"):
        jitter_range(np.zeros((0, 4)), low, high, 8)


@pytest.mark.parametrize("seed", range(6))
def test_labels_stay_on_their_pixels(seed):
    rng = np.random.default_rng(seed)
    boxes = random_blocks(rng, 80, 100, 6, lo=6, hi=20)
    img = scene(80, 100, boxes)
    out, b, _, s = scale_jitter(img, boxes, None, rng, 0.5, 1.5, min_size=4, interpolation=cv2.INTER_NEAREST_EXACT)
    assert out.shape[:2] == (max(round(80 * s), int(np.ceil(80 * 0.5))), max(round(100 * s), int(np.ceil(100 * 0.5))))
    assert_labels_on_pixels(out, b, np.arange(len(boxes)))


@settings(max_examples=80, deadline=None)
@given(st.integers(0, 100_000), st.floats(0.1, 1.0), st.floats(1.0, 3.0), st.floats(0.0, 40.0))
def test_no_object_is_shrunk_below_min_size(seed, low, high, min_size):
    rng = np.random.default_rng(seed)
    boxes = random_blocks(rng, 64, 64, 3, lo=2, hi=40)
    _, out, _, s = scale_jitter(np.zeros((64, 64, 3), np.uint8), boxes, None, rng, low, high, min_size)
    lo, hi = jitter_range(boxes, low, high, min_size)
    assert lo - 1e-9 <= s <= hi + 1e-9
    before, after = object_sizes(boxes), object_sizes(out)
    assert after.min() >= min(min_size, before.min()) - 1e-4
    if before.min() <= min_size:
        assert (after >= before - 1e-4).all()  # already small: never shrunk


def test_keypoints_scale_with_the_image():
    boxes = np.array([[10, 10, 20, 20]], np.float32)
    kps = np.array([[[15.0, 15.0, 1.0]]], np.float32)
    out, b, k, _ = scale_jitter(scene(40, 60, boxes), boxes, kps, np.random.default_rng(2), 0.5, 2.0, 0)
    sx, sy = out.shape[1] / 60, out.shape[0] / 40
    np.testing.assert_allclose(b[0], [10 * sx, 10 * sy, 20 * sx, 20 * sy], rtol=1e-6)
    np.testing.assert_allclose(k[0, 0], [15 * sx, 15 * sy, 1.0], rtol=1e-6)
