"""Reports of a study: the trials table (CSV and markdown) and the best trial as a recipe file that
`tinydet train --recipe-file` reads."""

from __future__ import annotations

import csv

import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution
from optuna.trial import TrialState, create_trial

from tinydet.train.api import TrainOptions
from tinydet.train.recipe import Recipe, load_recipe_file
from tinydet.tune.report import write_atomic, write_reports
from tinydet.tune.space import parse_space
from tinydet.tune.trial import trial_setup

SPACE = parse_space({"parameters": {
    "imgsz": {"type": "categorical", "choices": [1.0, 1.5], "relative": True},
    "box": {"type": "float", "low": 1.0, "high": 10.0},
    "box_loss": {"type": "categorical", "choices": ["ciou", "nwd-ciou"]},
}}, "test space")
DISTRIBUTIONS = {"imgsz": CategoricalDistribution([1.0, 1.5]), "box": FloatDistribution(1.0, 10.0),
                 "box_loss": CategoricalDistribution(["ciou", "nwd-ciou"])}
PLAN = TrainOptions(data="unused.yaml", model="yolov8n", epochs=2, imgsz=64, batch=8,
                 recipe=Recipe(cls_loss="focal", ultralytics={"cos_lr": True}), overrides={"optimizer": "SGD"})


def make_study():
    study = optuna.create_study(direction="maximize")
    rows = [(TrialState.COMPLETE, 0.30, 1.0, 2.0, "ciou"), (TrialState.COMPLETE, 0.55, 1.5, 7.5, "nwd-ciou"),
            (TrialState.PRUNED, None, 1.0, 9.0, "ciou"), (TrialState.FAIL, None, 1.5, 3.0, "ciou")]
    for state, value, imgsz, box, loss in rows:
        study.add_trial(create_trial(state=state, value=value, params={"imgsz": imgsz, "box": box, "box_loss": loss},
                                     distributions=DISTRIBUTIONS, intermediate_values={1: 0.1},
                                     user_attrs={"worker": "host:1", "run_dir": "/r"}))
    return study


def test_tables_list_every_trial(tmp_path):
    files = write_reports(make_study(), PLAN, SPACE, "APs", tmp_path)
    rows = list(csv.DictReader(files.trials_csv.open()))
    assert [r["state"] for r in rows] == ["COMPLETE", "COMPLETE", "PRUNED", "FAIL"]
    assert [r["value"] for r in rows] == ["0.3", "0.55", "", ""]
    assert rows[1]["box"] == "7.5" and rows[1]["box_loss"] == "nwd-ciou" and rows[1]["worker"] == "host:1"
    md = files.trials_md.read_text().splitlines()
    assert md[2].startswith("| number | state | value | epochs | seconds | imgsz | box | box_loss |")
    assert len(md) == 4 + 4 and "| 1 | COMPLETE | 0.55 |" in md[5]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best_recipe.yaml", "trials.csv", "trials.md"]


def test_best_recipe_is_a_train_recipe_file(tmp_path):
    files = write_reports(make_study(), PLAN, SPACE, "APs", tmp_path)
    recipe = load_recipe_file(files.best_recipe)  # what `tinydet train --recipe-file` does
    assert recipe.box_loss == "nwd-ciou" and recipe.cls_loss == "focal"  # searched + base recipe
    assert recipe.ultralytics == {"cos_lr": True, "optimizer": "SGD", "box": 7.5, "imgsz": 96}
    assert "trial 1, APs = 0.55" in files.best_recipe.read_text().splitlines()[0]
    # The recipe reproduces the trial's own settings.
    setup = trial_setup(PLAN, SPACE, {"imgsz": 1.5, "box": 7.5, "box_loss": "nwd-ciou"})
    assert recipe == setup.as_recipe() and setup.imgsz == 96 and "imgsz" not in setup.overrides


def test_no_best_recipe_before_a_trial_completes(tmp_path):
    study = optuna.create_study(direction="maximize")
    study.add_trial(create_trial(state=TrialState.PRUNED, params={"box": 2.0},
                                 distributions={"box": FloatDistribution(1.0, 10.0)}))
    files = write_reports(study, PLAN, SPACE, "APs", tmp_path)
    assert files.best_recipe is None and not (tmp_path / "best_recipe.yaml").exists()
    assert "PRUNED" in files.trials_md.read_text()


def test_no_best_recipe_when_every_trial_scored_zero(tmp_path):
    study = optuna.create_study(direction="maximize")
    for box in (2.0, 3.0):
        study.add_trial(create_trial(state=TrialState.COMPLETE, value=0.0, params={"box": box},
                                     distributions={"box": FloatDistribution(1.0, 10.0)}))
    files = write_reports(study, PLAN, SPACE, "APs", tmp_path)
    assert files.best_recipe is None and not (tmp_path / "best_recipe.yaml").exists()
    study.add_trial(create_trial(state=TrialState.COMPLETE, value=0.01, params={"box": 4.0},
                                 distributions={"box": FloatDistribution(1.0, 10.0)}))
    assert write_reports(study, PLAN, SPACE, "APs", tmp_path).best_recipe.is_file()


def test_atomic_write_keeps_the_old_file_when_writing_fails(tmp_path):
    path = tmp_path / "t.md"
    write_atomic(path, "old\n")
    with pytest.raises(TypeError):
        write_atomic(path, 123)  # fails while writing
    assert path.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["t.md"]  # no temporary file left behind
