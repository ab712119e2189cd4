"""End to end on SQLite, in this process: a 2-trial study is interrupted in the middle of a trial's training,
resumes without losing its finished trial, completes, and writes a best recipe that `tinydet train` reads."""

from __future__ import annotations

import csv

import optuna
import pytest
import yaml
from optuna.trial import TrialState

from tinydet.cli import build_parser
from tinydet.cli.commands.train import recipe_from_args
from tinydet.train import api as train_api
from tinydet.train.api import TrainOptions
from tinydet.train.recipe import load_recipe_file
from tinydet.tune import (
    PrunerOptions,
    SearchOptions,
    TuneOptions,
    load_space,
    trial_setup,
    tune,
)
from tinydet.tune.report import learned


class InterruptSecondRun:
    """Wraps tinydet.train.api.train: the second run gets Ctrl-C after its first training batch."""

    def __init__(self, train):
        self.train, self.calls = train, 0

    def __call__(self, opts, callbacks=None):
        self.calls += 1
        if self.calls == 2:
            def interrupt(trainer):
                raise KeyboardInterrupt

            callbacks = {**(callbacks or {}), "on_train_batch_end": [interrupt]}
        return self.train(opts, callbacks)


@pytest.mark.slow
def test_sqlite_study_survives_an_interruption_and_hands_its_best_trial_to_train(
        tune_data, tiny_space, tmp_path):
    out = tmp_path / "tune"
    plan = TrainOptions(data=str(tune_data), epochs=1, imgsz=64, batch=8, workers=0,
                     overrides={"optimizer": "SGD", "plots": False})
    options = TuneOptions(plan=plan, out=str(out), pruner=PrunerOptions(kind="none"),
                          search=SearchOptions(trials=2, metric="APs", space=str(tiny_space), seed=3))
    interrupt = InterruptSecondRun(train_api.train)
    with pytest.MonkeyPatch.context() as patch, pytest.raises(KeyboardInterrupt):
        patch.setattr(train_api, "train", interrupt)
        tune(options, log=lambda line: None)
    assert interrupt.calls == 2

    storage = f"sqlite:///{out / 'study.db'}"
    before = optuna.load_study(study_name="tinydet", storage=storage).get_trials()
    assert [t.state for t in before] == [TrialState.COMPLETE, TrialState.FAIL, TrialState.WAITING]
    assert before[2].params == before[1].params  # the interrupted trial is queued again
    assert (out / "trials" / "0" / "weights" / "best.pt").is_file()
    assert [r["state"] for r in csv.DictReader((out / "trials.csv").open())] == ["COMPLETE", "FAIL", "WAITING"]

    result = tune(options, log=lambda line: None)  # resume: same --out, --study and default storage
    after = optuna.load_study(study_name="tinydet", storage=storage).get_trials()
    assert [t.state for t in after] == [TrialState.COMPLETE, TrialState.FAIL, TrialState.COMPLETE]
    assert result.trials_run == 1 and result.progress.complete == 2
    assert after[0].value == before[0].value and after[0].params == before[0].params  # kept, not re-run
    assert after[2].params == before[1].params and after[2].system_attrs["failed_trial"] == 1
    for trial in (after[0], after[2]):
        assert trial.intermediate_values.keys() == {1}  # one epoch reported
        run = yaml.safe_load((out / "trials" / str(trial.number) / "tinydet_run.yaml").read_text())
        assert run["recipe"]["box_loss"] == trial.params["box_loss"]  # trained with the trial's recipe
        assert run["tinydet"]["overrides"]["box"] == trial.params["box"]

    if not learned([after[0].value, after[2].value]):  # one epoch at 64 px may learn nothing: no trial is best
        assert result.best_number is None and not (out / "best_recipe.yaml").exists()
        return
    best = max((after[0], after[2]), key=lambda t: t.value)  # ties: optuna keeps the first
    assert result.best_number == best.number
    recipe = load_recipe_file(out / "best_recipe.yaml")
    assert recipe == trial_setup(plan, load_space(tiny_space), best.params).as_recipe()
    assert recipe.box_loss == best.params["box_loss"] and recipe.ultralytics["lr0"] == best.params["lr0"]
    args = build_parser().parse_args(["train", "--data", str(tune_data), "--recipe-file", str(out / "best_recipe.yaml")])
    assert recipe_from_args(args) == recipe  # exactly what `tinydet train --recipe-file` would train with
    rows = list(csv.DictReader((out / "trials.csv").open()))
    assert [r["state"] for r in rows] == ["COMPLETE", "FAIL", "COMPLETE"] and rows[2]["retry_of"] == "1"
    assert "| 2 | COMPLETE |" in (out / "trials.md").read_text()
