"""The toolbox steps inside `augment_sample` (the function the ultralytics hook calls) keep labels on pixels, and
the Recipe validates their options."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from drawing import assert_labels_on_pixels, random_blocks, scene

from tinydet.errors import TinydetError
from tinydet.train import augment
from tinydet.train.erase import GREY
from tinydet.train.pipeline import Sample, augment_sample
from tinydet.train.recipe import Recipe

ALL_ON = dict(ssd_expand=0.7, ssd_expand_max=2.0, ssd_crop=0.7, scale_jitter=0.7, min_object_size=3.0, erase=0.7,
              erase_holes=2, erase_fill="grey")


@pytest.fixture
def exact_resizing(monkeypatch):
    """random_interp makes the pipeline resize with `augment.random_interpolation`: pin it to the exact method."""
    monkeypatch.setattr(augment, "random_interpolation", lambda rng: cv2.INTER_NEAREST_EXACT)


def _sample(seed):
    rng = np.random.default_rng(seed)
    boxes = random_blocks(rng, 96, 128, 8, lo=4, hi=18)
    return Sample(scene(96, 128, boxes), boxes, np.arange(len(boxes), dtype=np.float32))


@pytest.mark.parametrize(
    "step", [dict(ssd_expand=1.0, ssd_expand_max=3.0), dict(ssd_crop=1.0), dict(scale_jitter=1.0), dict(erase=1.0)]
)
def test_each_toolbox_step_keeps_labels_exactly_on_pixels(exact_resizing, step):
    recipe = Recipe(random_interp=True, min_object_size=3.0, erase_holes=2, erase_fill="grey", **step)
    rng = np.random.default_rng(0)
    changed = 0
    for seed in range(12):
        s = _sample(seed)
        out = augment_sample(s, recipe, rng, other=lambda: _sample(999))
        assert_labels_on_pixels(out.img, out.boxes, out.classes, erased=GREY)
        changed += out.img.shape != s.img.shape or not np.array_equal(out.img, s.img)
    assert changed >= 6


def test_all_toolbox_steps_together_keep_labels_on_pixels(exact_resizing):
    """Expand, crop and jitter resize one after another: each resize may move an edge by half a pixel, magnified
    by the later ones (crop zooms in up to 1 / 0.3, jitter up to 1.5), hence a tolerance of 3 px."""
    recipe = Recipe(random_interp=True, **ALL_ON)
    rng = np.random.default_rng(0)
    shapes, counts = set(), []
    for seed in range(40):
        s = _sample(seed)
        out = augment_sample(s, recipe, rng, other=lambda: _sample(999))
        assert_labels_on_pixels(out.img, out.boxes, out.classes, min_pixels=0, erased=GREY, tol=3.0)
        shapes.add(out.img.shape)
        counts.append((len(s.boxes), len(out.boxes)))
    assert len(shapes) > 10  # expand/crop/jitter did change the samples
    assert any(after < before for before, after in counts)  # crops and erasing did drop labels


def test_defaults_leave_the_sample_alone():
    s = _sample(0)
    out = augment_sample(s, Recipe(), np.random.default_rng(0), other=lambda: _sample(1))
    assert out is s and not Recipe().changes_augmentation


@pytest.mark.parametrize("option", ["ssd_expand", "ssd_crop", "scale_jitter", "erase"])
def test_each_option_turns_the_hook_on(option):
    assert Recipe(**{option: 0.5}).changes_augmentation


@pytest.mark.parametrize(
    "options, message",
    [
        (dict(ssd_crop=1.5), "ssd_crop must be in"),
        (dict(erase=-0.1), "erase must be in"),
        (dict(ssd_expand_max=0.5), "ssd_expand_max must be at least 1"),
        (dict(ssd_crop_min_scale=0), "ssd_crop_min_scale"),
        (dict(scale_jitter_min=1.2), r"scale_jitter_min must be in \(0, 1\], got 1.2"),
        (dict(scale_jitter_max=0.9), "scale_jitter_max must be at least 1, got 0.9"),
        (dict(min_object_size=-1), "min_object_size"),
        (dict(erase_holes=0), "erase_holes"),
        (dict(erase_holes=1.5), "erase_holes"),
        (dict(erase_max_area=0), "erase_max_area"),
        (dict(erase_min_visible=1.1), "erase_min_visible"),
        (dict(erase_fill="black"), "erase_fill must be one of noise, grey"),
        (dict(albumentations=3), "albumentations must be"),
        (dict(repeat_factor_t=2), "repeat_factor_t must be in"),
        (dict(class_weight_power=1.5), "class_weight_power must be in"),
        (dict(class_weight_power=0.5, ultralytics={"cls_pw": 0.5}), "class weights once"),
    ],
)
def test_bad_options_are_refused(options, message):
    with pytest.raises(TinydetError, match=message):
        Recipe(**options)
