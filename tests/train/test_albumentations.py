"""An albumentations pipeline written as YAML reaches ultralytics' own `augmentations` argument, and its spatial
transforms keep the boxes on their objects. Needs albumentations (not in the shared venv on purpose: installing it
changes ultralytics' default pipeline); the error for a missing package is tested everywhere."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import yaml
from drawing import assert_labels_on_pixels

from tinydet.errors import TinydetError
from tinydet.train.albumentations_yaml import build_transforms

PIPELINE = """\
- CLAHE: {clip_limit: 2.0, p: 0.1}
- GaussianBlur: {blur_limit: [3, 5], p: 0.1}
- GaussNoise: {std_range: [0.02, 0.1], p: 0.1}
- RandomBrightnessContrast: {p: 0.3}
- OneOf:
    p: 0.2
    transforms: [{MotionBlur: {p: 1}}, {MedianBlur: {blur_limit: 3, p: 1}}]
- HorizontalFlip
- Affine: {rotate: [-10, 10], p: 0.3}
"""


def test_missing_package_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "albumentations", None)  # import fails as if not installed
    path = tmp_path / "aug.yaml"
    path.write_text(PIPELINE)
    with pytest.raises(TinydetError, match="needs the albumentations package"):
        build_transforms(str(path))


@pytest.mark.parametrize(
    "text, message",
    [
        ("CLAHE: {p: 1}\n", "a YAML list of transforms"),
        ("- [1, 2]\n", "item 1: expected a transform name"),
        ("- {CLAHE: {p: 1}, Blur: {p: 1}}\n", "item 1: expected a transform name"),
        ("- {CLAHE: 3}\n", "item 1: expected a transform name"),
        ("- Blur\n- OneOf: {transforms: Blur}\n", "item 2: OneOf's 'transforms:' must be a list"),
        ("- OneOf: {transforms: [Blur, 7]}\n", "item 1 (OneOf): item 2: expected a transform name"),
        ("[]\n", "the list of transforms is empty"),
        ("- CLAHE: [\n", "not valid YAML"),
    ],
)
def test_structure_errors_name_the_file_and_item(tmp_path, text, message):
    """Checked before albumentations is imported: the same errors with or without the package."""
    path = tmp_path / "aug.yaml"
    path.write_text(text)
    with pytest.raises(TinydetError, match=__import__("re").escape(message)) as e:
        build_transforms(str(path))
    assert str(path) in str(e.value)


def test_missing_file(tmp_path):
    with pytest.raises(TinydetError, match="albumentations pipeline file not found"):
        build_transforms(str(tmp_path / "nope.yaml"))


# ---------------------------------------------------------------------------------------------- with albumentations
def test_the_documented_pipeline_builds(tmp_path):
    A = pytest.importorskip("albumentations")  # noqa: N806
    path = tmp_path / "aug.yaml"
    path.write_text(PIPELINE)
    built = build_transforms(str(path))
    assert [type(t).__name__ for t in built] == ["CLAHE", "GaussianBlur", "GaussNoise", "RandomBrightnessContrast",
                                                 "OneOf", "HorizontalFlip", "Affine"]
    assert built[0].p == 0.1 and built[5].p == 0.5  # a bare name takes albumentations' defaults
    assert [type(t).__name__ for t in built[4].transforms] == ["MotionBlur", "MedianBlur"]
    assert isinstance(built[6], A.DualTransform)  # spatial: ultralytics will move the boxes with it
    assert build_transforms(yaml.safe_load(PIPELINE))[1].blur_limit == built[1].blur_limit  # inline list, same result


@pytest.mark.parametrize(
    "items, message",
    [
        ([{"GausianBlur": {"p": 1}}], "no transform 'GausianBlur' (did you mean GaussianBlur"),
        ([{"GaussianBlur": {"blur_limit": "big"}}], "item 1: GaussianBlur(blur_limit)"),
        ([{"GaussianBlur": {"colour": 3}}], "item 1: GaussianBlur(colour)"),
        (["Lambda"], "Lambda is not allowed"),
        (["Compose"], "use Sequential"),
        ([{"OneOf": {"p": 1}}], "OneOf needs 'transforms:'"),
        ([{"OneOf": {"transforms": [{"Blurr": None}]}}], "item 1 (OneOf): item 1: albumentations"),
        ([{"Blur": {"transforms": ["Blur"]}}], "Blur is not a composition"),
        (["BboxParams"], "has no transform 'BboxParams'"),
    ],
)
def test_transform_errors(items, message):
    pytest.importorskip("albumentations")
    with pytest.raises(TinydetError, match=__import__("re").escape(message)):
        build_transforms(items, source="recipe")


def test_ultralytics_gets_the_list_and_boxes_follow_spatial_transforms(blocks_data, tmp_path):
    """Through tinydet's training arguments into ultralytics' trainer: exact spatial transforms (flips, 90-degree
    rotations) move the boxes with the pixels; ultralytics' own steps that resample pixels are off."""
    pytest.importorskip("albumentations")
    from test_preview import EXACT_ULTRALYTICS

    from tinydet.train.api import TrainOptions
    from tinydet.train.preview import network_view, training_dataset
    from tinydet.train.recipe import Recipe

    pipeline = [{"HorizontalFlip": {"p": 0.5}}, {"VerticalFlip": {"p": 0.5}}, {"RandomRotate90": {"p": 1.0}}]
    options = dict(EXACT_ULTRALYTICS, fliplr=0.0, flipud=0.0)
    opts = TrainOptions(data=str(blocks_data), imgsz=128, batch=4, recipe=Recipe(albumentations=pipeline), overrides=options)
    dataset, _, _ = training_dataset(opts, tmp_path / "work")
    steps = [t for t in dataset.transforms.transforms if type(t).__name__ == "Albumentations"]
    assert len(steps) == 1 and steps[0].contains_spatial
    assert [type(t).__name__ for t in steps[0].transform.transforms] == ["HorizontalFlip", "VerticalFlip", "RandomRotate90"]
    np.random.seed(0)
    for index in list(range(len(dataset))) * 2:
        img, boxes, classes = network_view(dataset[index])
        assert_labels_on_pixels(img, boxes, classes, min_pixels=0, strays="ring")


def test_the_run_record_holds_the_pipeline_not_the_file(tmp_path):
    pytest.importorskip("albumentations")
    from tinydet.train.run import TrainOptions, ultralytics_args, with_inline_albumentations
    from tinydet.train.recipe import Recipe

    path = tmp_path / "aug.yaml"
    path.write_text(PIPELINE)
    opts = with_inline_albumentations(TrainOptions(data="d.yaml", recipe=Recipe(albumentations=str(path))))
    assert opts.recipe.albumentations == yaml.safe_load(PIPELINE)
    args = ultralytics_args(opts, tmp_path / "d.yaml", tmp_path / "run")
    assert [type(t).__name__ for t in args["augmentations"]][:2] == ["CLAHE", "GaussianBlur"]


def test_without_a_pipeline_ultralytics_defaults_stay_off_when_the_package_is_installed(blocks_data, tmp_path):
    """ultralytics adds Blur/MedianBlur/ToGray/CLAHE whenever albumentations is importable; tinydet trains the
    same way on every machine, so a run without a pipeline gets an empty one."""
    pytest.importorskip("albumentations")
    from tinydet.train.api import TrainOptions
    from tinydet.train.preview import training_dataset

    dataset, _, _ = training_dataset(TrainOptions(data=str(blocks_data), imgsz=128, batch=4), tmp_path / "work")
    steps = [t for t in dataset.transforms.transforms if type(t).__name__ == "Albumentations"]
    assert len(steps) == 1 and list(steps[0].transform.transforms) == []
