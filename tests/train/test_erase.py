"""Random erasing drops the label of an object it (nearly) wipes out and keeps the label of one that stays visible."""

from __future__ import annotations

import numpy as np
import pytest
from drawing import colour, object_pixels, random_blocks, scene
from hypothesis import given, settings
from hypothesis import strategies as st

from tinydet.train.erase import GREY, erase, hole_mask, random_erase, random_holes, visible_fraction


def test_a_hole_over_a_whole_tiny_object_takes_its_label():
    boxes = np.array([[10, 10, 16, 16], [40, 10, 60, 30]], np.float32)
    img = scene(64, 64, boxes)
    holes = np.array([[8, 8, 18, 18]])  # covers object 0 entirely
    out, b, c, _ = erase(img, boxes, [0, 1], None, holes, np.random.default_rng(0), min_visible=0.5)
    assert c.tolist() == [1] and b.tolist() == boxes[1:].tolist()
    assert object_pixels(out, 0) == 0 and object_pixels(out, 1) == 400


@pytest.mark.parametrize(
    "hole, min_visible, kept",
    [
        ([40, 10, 46, 30], 0.5, True),  # 30 % erased: 70 % visible >= 50 %
        ([40, 10, 52, 30], 0.5, False),  # 60 % erased: 40 % visible < 50 %
        ([40, 10, 50, 30], 0.5, True),  # exactly 50 % visible: kept (the threshold is inclusive)
        ([40, 10, 52, 30], 0.3, True),  # 40 % visible >= 30 %
        ([0, 0, 5, 5], 1.0, True),  # untouched objects always keep their labels
    ],
)
def test_partly_erased_object_keeps_its_label_above_the_threshold(hole, min_visible, kept):
    boxes = np.array([[40, 10, 60, 30]], np.float32)  # 20 x 20
    out, b, c, _ = erase(scene(64, 64, boxes), boxes, [0], None, np.array([hole]), np.random.default_rng(0),
                         min_visible=min_visible, fill="grey")
    assert (len(c) == 1) is kept
    if kept:
        remaining = object_pixels(out, 0)
        assert remaining >= min_visible * 400 and remaining > 0


def test_erased_pixels_are_noise_or_grey_and_nothing_else_changes():
    boxes = np.array([[10, 10, 30, 30]], np.float32)
    img = scene(48, 48, boxes)
    holes = np.array([[0, 0, 12, 48]])
    for fill in ("noise", "grey"):
        out, *_ = erase(img, boxes, [0], None, holes, np.random.default_rng(1), fill=fill)
        mask = hole_mask(holes, 48, 48)
        np.testing.assert_array_equal(out[~mask], img[~mask])
        if fill == "grey":
            assert (out[mask] == GREY).all()
        else:
            assert len(np.unique(out[mask])) > 100  # uniform noise
    with pytest.raises(ValueError, match="fill"):
        erase(img, boxes, [0], None, holes, np.random.default_rng(0), fill="black")


def _naive_visible(box, mask):
    x1, y1, x2, y2 = (int(v) for v in box)
    region = mask[y1:y2, x1:x2]
    return 1 - region.mean() if region.size else 0.0


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 100_000), st.integers(1, 6), st.floats(0.0, 1.0))
def test_kept_exactly_when_the_visible_pixels_reach_the_threshold(seed, count, min_visible):
    rng = np.random.default_rng(seed)
    boxes = random_blocks(rng, 64, 80, 6, lo=2, hi=16)
    img = scene(64, 80, boxes)
    holes = random_holes(rng, 80, 64, count, max_area=0.15)
    out, b, c, _ = erase(img, boxes, np.arange(len(boxes)), None, holes, rng, min_visible, fill="grey")
    mask = hole_mask(holes, 80, 64)
    np.testing.assert_allclose(visible_fraction(boxes, mask), [_naive_visible(x, mask) for x in boxes])
    for i, box in enumerate(boxes):
        area = float((box[2] - box[0]) * (box[3] - box[1]))
        assert (i in c) == (object_pixels(out, i) / area >= min_visible)  # measured on the output image
    kept = c.astype(int)
    np.testing.assert_array_equal(b, boxes[kept])
    # the pixels of a kept object that survived are still its own (no label moved off its pixels)
    for box, i in zip(b.astype(int), kept):
        region = out[box[1] : box[3], box[0] : box[2]].reshape(-1, 3)
        assert ((region == colour(i)).all(1) | (region == GREY).all(1)).all()


def test_random_holes_stay_inside_and_follow_the_area_range():
    rng = np.random.default_rng(0)
    holes = random_holes(rng, 200, 100, 500, max_area=0.2)
    assert (holes[:, 0] >= 0).all() and (holes[:, 2] <= 200).all() and (holes[:, 1] >= 0).all() and (holes[:, 3] <= 100).all()
    area = (holes[:, 2] - holes[:, 0]) * (holes[:, 3] - holes[:, 1]) / 20_000
    assert area.min() > 0.01 and area.max() < 0.25 and 0.08 < area.mean() < 0.13  # U(0.02, 0.2) up to rounding/clipping


def test_random_erase_carries_keypoints_of_kept_objects():
    boxes = np.array([[2, 2, 6, 6], [30, 30, 60, 60]], np.float32)
    kps = np.array([[[4.0, 4.0, 2.0]], [[45.0, 45.0, 2.0]]], np.float32)
    for seed in range(20):
        out, b, c, k = random_erase(scene(64, 64, boxes), boxes, [0, 1], kps, np.random.default_rng(seed), count=3)
        assert len(k) == len(b) == len(c)
        for ci, ki in zip(c.astype(int), k):
            np.testing.assert_array_equal(ki, kps[ci])
