"""SSD expand and minimum-IoU crop keep every kept label on its pixels, drop what SSD drops, and respect the
small-object size floor."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from drawing import assert_labels_on_pixels, object_pixels, random_blocks, scene
from hypothesis import given, settings
from hypothesis import strategies as st

from tinydet.train import ssd
from tinydet.train.geometry import box_iou_one, object_sizes

EXACT = cv2.INTER_NEAREST_EXACT


@pytest.mark.parametrize("seed", range(6))
def test_expand_keeps_labels_on_pixels_and_the_image_size(seed):
    rng = np.random.default_rng(seed)
    boxes = random_blocks(rng, 96, 128, 6, lo=4)
    img = scene(96, 128, boxes)
    out, new_boxes, _ = ssd.random_expand(img, boxes, None, rng, max_ratio=3.0, min_size=0, interpolation=EXACT)
    assert out.shape == img.shape
    assert_labels_on_pixels(out, new_boxes, np.arange(len(boxes)))
    scale = (new_boxes[:, 2] - new_boxes[:, 0]) / (boxes[:, 2] - boxes[:, 0])
    assert np.all(scale <= 1.0 + 1e-6) and np.allclose(scale, scale[0])  # zoom out, one factor for all


def test_expand_fills_with_the_mean_colour():
    img = np.zeros((40, 40, 3), np.uint8)
    img[:, 20:] = 200  # mean 100
    out, _, _ = ssd.random_expand(img, np.zeros((0, 4)), None, np.random.default_rng(3), max_ratio=4.0, interpolation=EXACT)
    assert set(np.unique(out)) == {0, 100, 200}


def test_expand_keypoints_move_with_the_boxes():
    boxes = np.array([[10, 10, 20, 30]], np.float32)
    kps = np.array([[[15.0, 20.0, 2.0]]], np.float32)
    _, b, k = ssd.random_expand(scene(64, 64, boxes), boxes, kps, np.random.default_rng(0), min_size=0)
    assert k[0, 0, :2].tolist() == pytest.approx([(b[0, 0] + b[0, 2]) / 2, (b[0, 1] + b[0, 3]) / 2], abs=1e-4)
    assert k[0, 0, 2] == 2


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10_000), st.floats(2, 40), st.floats(1, 6))
def test_expand_never_shrinks_an_object_below_min_size(seed, min_size, max_ratio):
    rng = np.random.default_rng(seed)
    boxes = random_blocks(rng, 80, 80, 4, lo=2, hi=30)
    _, out, _ = ssd.random_expand(np.zeros((80, 80, 3), np.uint8), boxes, None, rng, max_ratio, min_size)
    before, after = object_sizes(boxes), object_sizes(out)
    assert after.min() >= min(min_size, before.min()) - 1e-4
    if before.min() <= min_size:
        np.testing.assert_array_equal(out, boxes)  # already small: not expanded at all


def test_crop_keeps_boxes_whose_centre_is_inside_clipped_on_their_pixels():
    boxes = np.array([[4, 4, 14, 12], [30, 30, 50, 44], [56, 20, 76, 30], [60, 48, 80, 58]], np.float32)
    img = scene(64, 96, boxes)
    rect = np.array([20, 10, 68, 58])  # centres inside: box 1 (40, 37) and box 2 (66, 25); box 3 (70, 53) outside
    out, b, c, _ = ssd.crop_sample(img, boxes, np.arange(4), None, rect, interpolation=EXACT)
    assert c.tolist() == [1, 2]
    scale = 96 / 48  # the crop's long side (48) goes back to the image's (96)
    assert out.shape == (96, 96, 3)
    np.testing.assert_allclose(b, (np.clip(boxes[[1, 2]], [20, 10, 20, 10], [68, 58, 68, 58]) - [20, 10, 20, 10]) * scale)
    assert_labels_on_pixels(out, b, c)
    # box 3 is partly visible but unlabelled, as in SSD: at most half of it can be inside the crop
    assert 0 < object_pixels(out, 3) <= 0.5 * 200 * scale**2


def test_crop_moves_keypoints_and_hides_those_outside():
    boxes = np.array([[10, 10, 30, 30]], np.float32)
    kps = np.array([[[20.0, 20.0, 2.0], [29.0, 12.0, 2.0]]], np.float32)
    _, b, _, k = ssd.crop_sample(scene(40, 40, boxes), boxes, [0], kps, np.array([5, 5, 25, 25]))
    assert k[0, 0].tolist() == pytest.approx([30.0, 30.0, 2.0])  # (20 - 5) * 2
    assert k[0, 1, 2] == 0 and k[0, 1, 0] == 40.0  # x 24 px past the crop: clipped to its edge, invisible


@pytest.mark.parametrize("seed", range(8))
def test_random_crop_keeps_labels_on_pixels(seed):
    rng = np.random.default_rng(seed)
    boxes = random_blocks(rng, 96, 128, 8, lo=4, hi=20)
    out, b, c, _ = ssd.random_crop(scene(96, 128, boxes), boxes, np.arange(len(boxes)), None, rng, interpolation=EXACT)
    assert max(out.shape[:2]) == 128 and len(b) >= 1
    assert_labels_on_pixels(out, b, c)


def test_min_iou_modes_only_succeed_for_objects_large_enough(monkeypatch):
    """The documented limit: a 10 px box can never reach IoU 0.1 with a crop of side >= 0.3 x 640 px."""
    monkeypatch.setattr(ssd, "MIN_IOU_MODES", (0.1,))
    tiny = np.array([[100, 100, 110, 110]], np.float32)
    assert ssd.sample_crop(tiny, 640, 640, np.random.default_rng(0)) is None
    large = np.array([[100, 100, 400, 380]], np.float32)
    for seed in range(5):
        rect = ssd.sample_crop(large, 640, 640, np.random.default_rng(seed))
        assert rect is not None and box_iou_one(rect, large).max() >= 0.1
        assert ssd.centres_inside(large, rect).any()
        assert 0 <= rect[0] < rect[2] <= 640 and 0 <= rect[1] < rect[3] <= 640


def test_crop_of_an_image_without_boxes_is_no_crop():
    img = np.zeros((32, 32, 3), np.uint8)
    out, b, c, _ = ssd.random_crop(img, np.zeros((0, 4)), np.zeros(0), None, np.random.default_rng(0))
    assert out is img and len(b) == 0


def test_the_sampler_draws_every_mode():
    """Over many draws on one large object, the whole-image mode (None) and crops both occur."""
    big = np.array([[10, 10, 90, 90]], np.float32)
    rects = [ssd.sample_crop(big, 100, 100, np.random.default_rng(s)) for s in range(200)]
    whole = sum(r is None for r in rects)
    assert 10 < whole < 80  # about 1/7 per round, plus rounds that end in it
    sides = [min(r[2] - r[0], r[3] - r[1]) for r in rects if r is not None]
    assert min(sides) < 60 and max(sides) > 90
