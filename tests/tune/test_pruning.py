"""The per-epoch callback against a fake ultralytics trainer: reports every epoch, prunes a trial whose metric
is poor by stopping the trainer, never reports ultralytics' final validation as an epoch."""

from __future__ import annotations

from types import SimpleNamespace

import optuna
import pytest

from tinydet.errors import TinydetError
from tinydet.tune.metrics import resolve_metric
from tinydet.tune.pruning import EpochReporter, PrunerOptions, make_pruner

METRIC = resolve_metric("mAP50-95")
KEY = METRIC.key


class FakeTrainer:
    """What the callback reads and writes of ultralytics' trainer: metrics, epoch (from 0) and stop."""

    def __init__(self, epochs: int):
        self.epochs, self.epoch, self.stop, self.metrics = epochs, 0, False, {}

    def fit(self, values, callback, final=None):
        """Drive `callback` like ultralytics' loop: one call per epoch, stop set on the last epoch, then one call
        for the final validation of best.pt (epoch + 1), as BaseTrainer._do_train/final_eval do."""
        for epoch, value in enumerate(values):
            self.epoch, self.metrics = epoch, {KEY: value, "metrics/mAP50(B)": 0.0}
            self.stop = self.stop or epoch + 1 >= self.epochs
            callback(self)
            if self.stop:
                break
        self.epoch += 1
        self.metrics = {KEY: final if final is not None else self.metrics[KEY]}
        callback(self)
        self.epoch -= 1


def study_with_history(values_per_trial, pruner_options=PrunerOptions(startup_trials=2, warmup_epochs=0)):
    study = optuna.create_study(direction="maximize", pruner=make_pruner(pruner_options))
    for values in values_per_trial:
        trial = study.ask()
        for epoch, value in enumerate(values, start=1):
            trial.report(value, epoch)
        study.tell(trial, values[-1])
    return study


def test_a_poor_trial_is_pruned_and_training_stops_after_that_epoch():
    study = study_with_history([[0.4, 0.5, 0.6], [0.5, 0.6, 0.7]])
    trial = study.ask()
    reporter, trainer = EpochReporter(trial, METRIC), FakeTrainer(epochs=3)
    trainer.fit([0.01, 0.9, 0.9], reporter, final=0.02)
    assert reporter.pruned and reporter.pruned_at == 1
    assert reporter.values == {1: 0.01}  # epochs 2 and 3 never ran
    assert trainer.stop
    assert study.trials[-1].intermediate_values == {1: 0.01}  # the final validation is not an epoch
    assert "pruned after epoch 1" in reporter.prune_message()


def test_a_good_trial_runs_to_the_end_and_scores_its_final_validation():
    study = study_with_history([[0.4, 0.5, 0.6], [0.5, 0.6, 0.7]])
    trial = study.ask()
    reporter, trainer = EpochReporter(trial, METRIC), FakeTrainer(epochs=3)
    trainer.fit([0.6, 0.7, 0.8], reporter, final=0.75)
    assert not reporter.pruned
    assert reporter.values == {1: 0.6, 2: 0.7, 3: 0.8}
    assert study.trials[-1].intermediate_values == {1: 0.6, 2: 0.7, 3: 0.8}
    assert reporter.objective() == 0.75  # best.pt's validation, not the last epoch's


def test_no_pruning_before_enough_trials_completed_nor_in_warmup_nor_with_pruner_none():
    cases = [
        ([[0.5, 0.6]], PrunerOptions(startup_trials=2, warmup_epochs=0)),  # 1 completed trial < 2
        ([[0.5, 0.6], [0.5, 0.6]], PrunerOptions(startup_trials=2, warmup_epochs=2)),  # both epochs are warmup
        ([[0.5, 0.6], [0.5, 0.6]], PrunerOptions(kind="none")),
    ]
    for history, options in cases:
        study = study_with_history(history, options)
        reporter, trainer = EpochReporter(study.ask(), METRIC), FakeTrainer(epochs=2)
        trainer.fit([0.0, 0.0], reporter)
        assert not reporter.pruned and reporter.values == {1: 0.0, 2: 0.0}, options


def test_warmup_spares_only_the_first_epochs():
    study = study_with_history([[0.5, 0.6], [0.5, 0.6]], PrunerOptions(startup_trials=2, warmup_epochs=1))
    reporter, trainer = EpochReporter(study.ask(), METRIC), FakeTrainer(epochs=3)
    trainer.fit([0.0, 0.0, 0.0], reporter)
    assert reporter.pruned_at == 2


def test_missing_metric_is_a_clear_error():
    reporter = EpochReporter(optuna.create_study(direction="maximize").ask(), resolve_metric("APs"))
    trainer = FakeTrainer(epochs=1)
    trainer.metrics = {KEY: 0.1}
    with pytest.raises(TinydetError, match=r"--metric APs: the validator did not report metrics/APs\(T\)"):
        reporter(trainer)


def test_objective_without_final_validation_is_the_best_epoch():
    reporter = EpochReporter(SimpleNamespace(report=lambda v, s: None, should_prune=lambda: False), METRIC)
    for epoch, value in enumerate([0.2, 0.5, 0.3]):
        reporter(SimpleNamespace(metrics={KEY: value}, epoch=epoch, stop=False))
    assert reporter.objective() == 0.5
    with pytest.raises(TinydetError, match="no validation ran"):
        EpochReporter(None, METRIC).objective()


@pytest.mark.slow
def test_a_pruned_run_stops_cleanly_in_real_training(tune_data, tmp_path):
    """With ultralytics' real trainer: pruning after epoch 1 of 3 ends training there, with checkpoints and
    the final validation of best.pt, and nothing reported beyond epoch 1."""
    from tinydet.train.api import TrainOptions, train

    class AlwaysPrune:
        def __init__(self):
            self.reports = []

        def report(self, value, step):
            self.reports.append(step)

        def should_prune(self):
            return True

    trial = AlwaysPrune()
    reporter = EpochReporter(trial, METRIC)
    run = tmp_path / "run"
    train(TrainOptions(data=str(tune_data), epochs=3, imgsz=64, batch=8, workers=0, out=str(run),
                       overrides={"plots": False}), callbacks={reporter.event: [reporter]})
    assert reporter.pruned_at == 1 and trial.reports == [1]
    assert reporter.final is not None  # ultralytics' final validation of best.pt ran and was recognised
    assert len((run / "results.csv").read_text().strip().splitlines()) == 2  # header + epoch 1
    assert (run / "weights" / "best.pt").is_file() and (run / "weights" / "last.pt").is_file()
