"""The toolbox's data and loss options reach ultralytics: class weights as cls_pw, repeat-factor lists as the
training split; and a short real training run with them."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from drawing import snapshot

from tinydet.errors import TinydetError
from tinydet.train.run import TrainOptions, sampled_data, ultralytics_args
from tinydet.train.recipe import Recipe


def test_class_weight_power_becomes_cls_pw(tmp_path):
    opts = TrainOptions(data="d.yaml", recipe=Recipe(class_weight_power=0.5))
    assert ultralytics_args(opts, tmp_path / "d.yaml", tmp_path / "run")["cls_pw"] == 0.5
    plain = ultralytics_args(TrainOptions(data="d.yaml"), tmp_path / "d.yaml", tmp_path / "run")
    assert "cls_pw" not in plain  # ultralytics' default (0: no weights)
    with pytest.raises(TinydetError, match="class weights once"):
        ultralytics_args(TrainOptions(data="d.yaml", recipe=Recipe(class_weight_power=0.5), overrides={"cls_pw": 1.0}),
                          tmp_path / "d.yaml", tmp_path / "run")


@pytest.mark.slow
def test_class_weight_power_gives_the_criterion_the_documented_weights(imbalanced_data, tmp_path):
    """docs/toolbox.md: with --class-weight-power P the classification loss weighs class c by (1 / n_c) ** P,
    normalised to mean 1 (n_c: instances of c in the training labels). Checked on the model the criterion reads,
    in a real run started by tinydet, against the counts of the label files (10, 1 and 2 instances)."""
    import numpy as np

    seen = []
    callbacks = {"on_train_epoch_start": [lambda trainer: seen.append(trainer.model.class_weights.cpu().numpy())]}
    from tinydet.train.api import train

    train(TrainOptions(data=str(imbalanced_data), model="yolov8n", epochs=1, imgsz=64, batch=4, workers=0,
                       out=str(tmp_path / "run"), recipe=Recipe(class_weight_power=0.5),
                       overrides={"plots": False, "val": False}), callbacks)
    counts = np.zeros(3)
    for label in (imbalanced_data.parent / "labels" / "train").glob("*.txt"):
        for line in label.read_text().split("\n"):
            if line.strip():
                counts[int(line.split()[0])] += 1
    assert counts.tolist() == [10, 1, 2]
    expected = (1 / counts) ** 0.5
    np.testing.assert_allclose(seen[0], expected / expected.mean(), rtol=1e-6)


def test_sampled_data_is_the_original_without_t_and_a_list_with_it(imbalanced_data, tmp_path):
    from tinydet.data.datayaml import load_data_yaml

    data = load_data_yaml(imbalanced_data)
    assert sampled_data(TrainOptions(data=str(imbalanced_data)), data, tmp_path / "run") is data
    sampled = sampled_data(TrainOptions(data=str(imbalanced_data), recipe=Recipe(repeat_factor_t=0.5), seed=1), data,
                           tmp_path / "run")
    assert sampled.splits["train"] == [tmp_path / "run" / "repeat_factor" / "train.txt"]
    assert sampled.splits["val"] == data.splits["val"] and sampled.names == data.names


@pytest.mark.slow
def test_a_short_training_run_with_the_toolbox_options(imbalanced_data, tmp_path):
    """One epoch: the augmentation hook, the repeat-factor list and cls_pw all in ultralytics' real trainer."""
    from tinydet.train.api import train

    root = imbalanced_data.parent
    before = snapshot(root)
    recipe = Recipe(repeat_factor_t=0.5, class_weight_power=0.5, ssd_crop=0.5, ssd_expand=0.5, scale_jitter=0.5,
                    erase=0.5, min_object_size=2)
    result = train(TrainOptions(data=str(imbalanced_data), model="yolov8n", epochs=1, imgsz=64, batch=4,
                                out=str(tmp_path / "run"), workers=0, recipe=recipe, overrides={"plots": False}))
    run = Path(result.run_dir)
    args = yaml.safe_load((run / "args.yaml").read_text())
    assert args["cls_pw"] == 0.5 and args["data"] == str(run / "repeat_factor" / "data.yaml")
    entries = (run / "repeat_factor" / "train.txt").read_text().split()
    assert len(entries) > 10  # 10 images, the rare ones repeated
    record = yaml.safe_load((run / "tinydet_run.yaml").read_text())["recipe"]
    assert record["repeat_factor_t"] == 0.5 and record["ssd_crop"] == 0.5
    assert result.best.is_file()
    assert snapshot(root) == before  # no label cache or anything else written into the dataset
