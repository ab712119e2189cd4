"""Repeat-factor sampling: the LVIS formula, stochastic rounding with the right expectation, and a training list
that ultralytics reads with its duplicates and whose label cache stays out of the user's dataset."""

from __future__ import annotations

import math

import numpy as np
import pytest
import yaml
from drawing import snapshot
from hypothesis import given, settings
from hypothesis import strategies as st

from tinydet.data.sampling import (
    class_image_frequency,
    expanded_class_frequency,
    repeat_factor_dataset,
    repeat_factors,
    stochastic_repeats,
)
from tinydet.integrations.ultralytics.env import label_cache_dir


def test_repeat_factors_follow_lvis():
    # 10 images: class 0 in all, class 1 in one, class 2 in two; one image without labels
    classes = [np.array(c, np.int64) for c in ([0, 1], [0, 2], [0, 2], [0], [0], [0], [0], [0], [0], [])]
    f = class_image_frequency(classes, 3)
    np.testing.assert_allclose(f, [0.9, 0.1, 0.2])
    r = repeat_factors(classes, 3, t=0.4)
    # r_1 = sqrt(0.4 / 0.1) = 2, r_2 = sqrt(0.4 / 0.2) = 1.414, r_0 = max(1, sqrt(0.4 / 0.9)) = 1
    np.testing.assert_allclose(r, [2.0, math.sqrt(2), math.sqrt(2), 1, 1, 1, 1, 1, 1, 1])


@settings(max_examples=50, deadline=None)
@given(st.lists(st.lists(st.integers(0, 4), max_size=4), min_size=1, max_size=30), st.floats(0.01, 1.0))
def test_repeat_factor_laws(per_image, t):
    classes = [np.unique(np.array(c, np.int64)) for c in per_image]
    f = class_image_frequency(classes, 5)
    r = repeat_factors(classes, 5, t)
    assert (r >= 1).all()
    for c, ri in zip(classes, r):
        expected = max([1.0] + [math.sqrt(t / f[k]) for k in c])
        assert ri == pytest.approx(expected)
        if all(f[k] >= t for k in c):
            assert ri == 1.0  # no rare class in the image: never repeated


def test_stochastic_rounding_has_the_factor_as_expectation():
    r = np.array([1.0, 1.25, 1.5, 2.0, 2.7, 3.9])
    rng = np.random.default_rng(0)
    draws = np.stack([stochastic_repeats(r, rng) for _ in range(4000)])
    assert (draws >= np.floor(r)).all() and (draws <= np.ceil(r)).all()
    sigma = np.sqrt((r - np.floor(r)) * (1 - (r - np.floor(r))) / len(draws))
    assert (np.abs(draws.mean(0) - r) <= 4 * sigma + 1e-12).all()


def test_bad_threshold_is_refused():
    with pytest.raises(ValueError, match="t must be in"):
        repeat_factors([np.array([0])], 1, 0.0)


def _list_entries(data_yaml):
    config = yaml.safe_load(data_yaml.read_text())
    listed = data_yaml.parent / "train.txt"
    assert config["train"] == str(listed)
    return [line for line in listed.read_text().splitlines() if line]


def test_training_list_repeats_rare_images_and_ultralytics_keeps_the_duplicates(imbalanced_data, tmp_path):
    from ultralytics.utils import callbacks

    from tinydet.integrations.ultralytics.training.trainer import RecipeDetectionTrainer

    root = imbalanced_data.parent
    before = snapshot(root)
    new = repeat_factor_dataset(imbalanced_data, tmp_path / "rfs", t=0.5, seed=3)
    entries = _list_entries(new)
    names = [e.rsplit("/", 1)[-1] for e in entries]
    # r = sqrt(0.5 / 0.1) = 2.236 for the class-1 image, sqrt(0.5 / 0.2) = 1.58 for the class-2 images, else 1
    assert names.count("000.png") in (2, 3) and names.count("001.png") in (1, 2) and names.count("003.png") == 1
    assert names.count("009.png") == 1  # no labels: r = 1
    table = (new.parent / "repeat_factors.csv").read_text().splitlines()
    assert table[0] == "image,classes,repeat_factor,copies" and len(table) == 11

    trainer = RecipeDetectionTrainer(overrides=dict(model="yolov8n.yaml", data=str(new), imgsz=128, device="cpu",
                                                    project=str(tmp_path), name="t", workers=0),
                                     _callbacks=callbacks.get_default_callbacks())
    trainer.model = trainer.get_model(cfg="yolov8n.yaml", verbose=False)
    dataset = trainer.build_dataset(trainer.data["train"], mode="train", batch=4)
    assert len(dataset) == len(entries)  # duplicates kept
    seen = [f.rsplit("/", 1)[-1] for f in dataset.im_files]
    assert sorted(seen) == sorted(names)
    labels = {f.rsplit("/", 1)[-1]: sorted(lb["cls"].reshape(-1).astype(int).tolist()) for f, lb in zip(dataset.im_files, dataset.labels)}
    assert labels["000.png"] == [0, 1] and labels["001.png"] == [0, 2] and labels["009.png"] == []  # read through the links
    assert snapshot(root) == before  # no cache or anything else written into the user's dataset
    assert list(label_cache_dir().glob("*.cache"))  # ultralytics' cache went to tinydet's folder


def test_sampling_raises_the_rare_class_frequency(imbalanced_data, tmp_path):
    """Averaged over seeds, each image appears r times: the rare classes' share of the list grows as predicted."""
    from tinydet.data.loading import load_dataset
    from tinydet.data.sampling import image_classes

    classes = image_classes(load_dataset(imbalanced_data, splits="train").images("train"))
    r = repeat_factors(classes, 3, 0.5)
    counts = []
    for seed in range(30):
        names = [e.rsplit("/", 1)[-1] for e in _list_entries(repeat_factor_dataset(imbalanced_data, tmp_path / f"r{seed}", 0.5, seed))]
        counts.append([names.count(f"{i:03d}.png") for i in range(10)])
    mean = np.mean(counts, 0)
    sigma = np.sqrt((r - np.floor(r)) * (1 - (r - np.floor(r))) / len(counts))
    assert (np.abs(mean - r) <= 4 * sigma + 1e-12).all()
    expanded = expanded_class_frequency(classes, np.round(mean).astype(int), 3)
    assert expanded[1] > class_image_frequency(classes, 3)[1]


def test_an_existing_output_folder_is_refused(imbalanced_data, tmp_path):
    from tinydet.errors import TinydetError

    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "x").write_text("mine")
    with pytest.raises(TinydetError, match="not empty"):
        repeat_factor_dataset(imbalanced_data, tmp_path / "taken", 0.5)
    assert (tmp_path / "taken" / "x").read_text() == "mine"
