"""Search spaces: the default space, the YAML format's errors (file and key named), and study values ->
training settings."""

from __future__ import annotations

import optuna
import pytest
import yaml

from tinydet.errors import TinydetError
from tinydet.train.recipe import Recipe
from tinydet.tune.space import inert_parameters, load_space, parse_space


def test_default_space_is_valid_and_every_value_builds_a_recipe():
    space = load_space()
    assert {"imgsz", "box", "dfl", "cls", "box_loss", "nwd_ratio", "nwd_c", "cls_loss", "label_smoothing",
            "mosaic", "mixup", "geo_mixup", "small_copy_paste", "lr0"} <= set(space.names)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    for _ in range(20):
        values = space.suggest(study.ask())
        settings = space.settings(values, base_imgsz=640)
        Recipe(**settings.recipe)  # every sampled recipe option is valid
        assert settings.ultralytics["imgsz"] in (640, 800, 960)
        assert set(settings.recipe) | set(settings.ultralytics) == set(space.names)


def test_targets_are_inferred_and_relative_imgsz_rounds_to_the_stride(tmp_path):
    space = parse_space({"parameters": {
        "imgsz": {"type": "categorical", "choices": [1.0, 1.3], "relative": True},
        "nwd_c": {"type": "float", "low": "1e-1", "high": 20},  # YAML reads 1e-1 as a string
        "dfl": {"type": "int", "low": 1, "high": 3},
    }}, "s.yaml")
    assert [p.target for p in space.params] == ["ultralytics", "recipe", "ultralytics"]
    assert space.params[1].low == 0.1
    settings = space.settings({"imgsz": 1.3, "nwd_c": 5.0, "dfl": 2}, base_imgsz=100)
    assert settings.ultralytics == {"imgsz": 128, "dfl": 2}  # 130 -> nearest multiple of 32
    assert space.params[0].setting(1.25, 64) == 96 and space.params[0].setting(0.1, 64) == 32  # 80 -> 96; >= 32
    assert settings.recipe == {"nwd_c": 5.0}


def test_round_trip_through_to_dict():
    space = load_space()
    assert parse_space(space.to_dict(), "again") == parse_space(space.to_dict(), "again")
    assert parse_space(space.to_dict(), "again").params == space.params


@pytest.mark.parametrize("params, message", [
    ({"box": {"type": "float", "low": 1}}, "parameter 'box': type float needs low and high"),
    ({"box": {"type": "real", "low": 1, "high": 2}}, "parameter 'box': type must be one of"),
    ({"box": {"type": "float", "low": 2, "high": 1}}, "parameter 'box': low must be below high"),
    ({"box": {"type": "float", "low": 0, "high": 1, "log": True}}, "parameter 'box': log: true needs low > 0"),
    ({"box": {"type": "float", "low": 1, "high": 2, "lo": 3}}, "parameter 'box': unknown key(s) lo"),
    ({"box": {"type": "float", "low": "x", "high": 2}}, "parameter 'box': low must be a number"),
    ({"boxx": {"type": "float", "low": 1, "high": 2}}, "parameter 'boxx': 'boxx' is neither a tinydet recipe option nor an ultralytics argument (did you mean box"),
    ({"epochs": {"type": "int", "low": 1, "high": 2}}, None),  # allowed (an ultralytics argument)
    ({"data": {"type": "categorical", "choices": ["a"]}}, "parameter 'data': 'data' is set by the tune command"),
    ({"box_loss": {"type": "categorical", "choices": ["ciou", "l1"]}}, "parameter 'box_loss': value 'l1' is not allowed"),
    ({"nwd_ratio": {"type": "float", "low": 0.5, "high": 1.5}}, "parameter 'nwd_ratio': value 1.5 is not allowed"),
    ({"mosaic": {"type": "float", "low": 0.5, "high": 1.5}}, "parameter 'mosaic': value 1.5 is not allowed"),
    ({"box": {"type": "float", "low": 1, "high": 2, "target": "recipe"}}, "parameter 'box': 'box' is not a tinydet recipe option"),
    ({"box": {"type": "categorical", "choices": []}}, "parameter 'box': categorical needs a non-empty list"),
    ({"box": {"type": "int", "low": 1.5, "high": 3}}, "parameter 'box': low must be an integer"),
    ({"box": [1, 2]}, "parameter 'box': expected a mapping"),
    ({"dfl": {"type": "float", "low": 1, "high": 2, "relative": True}}, "parameter 'dfl': relative: true is only for imgsz"),
])
def test_malformed_space_names_file_and_key(tmp_path, params, message):
    path = tmp_path / "bad_space.yaml"
    path.write_text(yaml.safe_dump({"parameters": params}))
    if message is None:
        load_space(path)
        return
    with pytest.raises(TinydetError) as error:
        load_space(path)
    assert str(error.value).startswith(f"{path}: {message}"), str(error.value)


@pytest.mark.parametrize("text, message", [
    ("parameters: [1, 2]", "'parameters' must map at least one name"),
    ("box: {type: float, low: 1, high: 2}", "a space file is a mapping with one key, 'parameters'"),
    ("parameters: {box: {type: float, low: 1, high: [}", "not valid YAML"),
])
def test_malformed_space_file(tmp_path, text, message):
    path = tmp_path / "space.yaml"
    path.write_text(text)
    with pytest.raises(TinydetError, match="space.yaml: " + message.replace("(", r"\(").replace("[", r"\[")):
        load_space(path)


def test_missing_space_file(tmp_path):
    with pytest.raises(TinydetError, match="space file not found"):
        load_space(tmp_path / "nope.yaml")


def test_inert_knobs_are_reported():
    space = parse_space({"parameters": {"mosaic": {"type": "float", "low": 0, "high": 1},
                                        "lr0": {"type": "float", "low": 0.001, "high": 0.01}}}, "s")
    warnings = inert_parameters(space, epochs=5, fixed={})
    assert len(warnings) == 2 and "mosaic" in warnings[0] and "lr0" in warnings[1]
    assert inert_parameters(space, epochs=11, fixed={"optimizer": "SGD"}) == []
    assert inert_parameters(space, epochs=5, fixed={"optimizer": "SGD", "close_mosaic": 0}) == []


def test_the_example_in_the_docs_is_a_valid_space(tmp_path):
    import re
    from pathlib import Path

    docs = (Path(__file__).resolve().parents[2] / "docs" / "scaling.md").read_text()
    example = re.search(r"```yaml\n(.*?)```", docs, re.S).group(1)
    (tmp_path / "space.yaml").write_text(example)
    space = load_space(tmp_path / "space.yaml")
    assert {"imgsz", "box_loss", "copy_paste_max"} <= set(space.names)
