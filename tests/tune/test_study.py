"""The worker loop on a real SQLite study with a stand-in objective (no training): reaching the target,
re-queueing interrupted trials and trials of dead workers, and giving up on errors that every trial would hit."""

from __future__ import annotations

import time

import optuna
import pytest
from optuna.trial import TrialState

from tinydet.errors import TinydetError
from tinydet.tune.sampler import TrialSeededTPESampler
from tinydet.tune.storage import StorageOptions, open_storage
from tinydet.tune.study import (
    WorkerOptions,
    check_record,
    open_study,
    progress,
    run_worker,
)


class Objective:
    """Suggests one parameter; then returns it, or raises what `fail` says for the given call."""

    def __init__(self, fail=None):
        self.fail, self.calls, self.current = fail or {}, 0, None

    def __call__(self, trial):
        self.current = trial.number
        value = trial.suggest_float("x", 0.0, 1.0)
        self.calls += 1
        error = self.fail.get(self.calls)
        if error is not None:
            raise error
        return value


def make_study(tmp_path, name="s", heartbeat=1, grace=2):
    storage = open_storage(StorageOptions(study=name, heartbeat_interval=heartbeat, grace_period=grace), tmp_path)
    return open_study(storage, name, TrialSeededTPESampler(0), optuna.pruners.NopPruner())


def states(study):
    return [t.state for t in study.get_trials(deepcopy=False)]


def test_runs_until_the_target_and_a_second_run_adds_nothing(tmp_path):
    study = make_study(tmp_path)
    reports = []
    assert run_worker(study, Objective(), WorkerOptions(target=3), after_trial=lambda: reports.append(1)) == 3
    assert states(study) == [TrialState.COMPLETE] * 3 and len(reports) == 3
    assert run_worker(make_study(tmp_path), Objective(), WorkerOptions(target=3)) == 0  # resumed: nothing to do
    assert run_worker(make_study(tmp_path), Objective(), WorkerOptions(target=4)) == 1  # raised target: one more


def test_user_errors_stop_at_once_other_errors_after_max_failures(tmp_path):
    study = make_study(tmp_path, "user")
    with pytest.raises(TinydetError, match="bad metric"):
        run_worker(study, Objective({1: TinydetError("bad metric")}), WorkerOptions(target=3))
    assert states(study) == [TrialState.FAIL]

    study = make_study(tmp_path, "crash")
    crash = {i: RuntimeError("CUDA out of memory") for i in (2, 3, 4)}
    with pytest.raises(TinydetError, match="3 trials in a row failed; the last error: RuntimeError: CUDA out of memory"):
        run_worker(study, Objective(crash), WorkerOptions(target=5, max_failures=3))
    assert states(study) == [TrialState.COMPLETE] + [TrialState.FAIL] * 3

    study = make_study(tmp_path, "flaky")  # failures that are not in a row do not stop the worker
    run_worker(study, Objective({2: RuntimeError("x"), 4: RuntimeError("y")}), WorkerOptions(target=3, max_failures=2))
    assert progress(study).complete == 3 and progress(study).failed == 2


def test_an_interrupted_trial_is_queued_again_with_its_parameters(tmp_path):
    study = make_study(tmp_path)
    with pytest.raises(KeyboardInterrupt):
        run_worker(study, Objective({2: KeyboardInterrupt()}), WorkerOptions(target=3))
    trials = study.get_trials()
    assert [t.state for t in trials] == [TrialState.COMPLETE, TrialState.FAIL, TrialState.WAITING]
    assert trials[2].params == trials[1].params and trials[2].system_attrs["failed_trial"] == 1

    run_worker(make_study(tmp_path), Objective(), WorkerOptions(target=3))
    trials = make_study(tmp_path).get_trials()
    assert [t.state for t in trials] == [TrialState.COMPLETE, TrialState.FAIL] + [TrialState.COMPLETE] * 2
    assert trials[2].params == trials[1].params  # the re-queued trial ran first, with the interrupted values
    assert trials[0].value == study.get_trials()[0].value  # the finished trial was kept


@pytest.mark.filterwarnings("ignore:Heartbeat of storage is supposed to be used with Study.optimize")
def test_a_dead_workers_trial_is_failed_after_the_grace_period_and_run_again(tmp_path):
    study = make_study(tmp_path, heartbeat=1, grace=2)
    dead = study.ask()  # a worker started this trial, sent one heartbeat, and died
    dead.suggest_float("x", 0.0, 1.0)
    study._storage.record_heartbeat(dead._trial_id)
    start = time.monotonic()
    run_worker(study, Objective(), WorkerOptions(target=1, poll_seconds=0.2))
    assert time.monotonic() - start >= 2.0  # it waited for the grace period rather than overshooting
    trials = study.get_trials()
    assert [t.state for t in trials] == [TrialState.FAIL, TrialState.COMPLETE]
    assert trials[1].system_attrs["failed_trial"] == 0 and trials[1].params == trials[0].params


def test_workers_of_one_study_must_search_the_same_thing(tmp_path):
    study = make_study(tmp_path)
    check_record(study, {"epochs": 2, "metric": "metrics/APs(T)", "space": {"a": (1, 2)}})
    check_record(make_study(tmp_path), {"epochs": 2, "metric": "metrics/APs(T)", "space": {"a": (1, 2)}})
    with pytest.raises(TinydetError, match=r"study 's' was started with other settings \(epochs: study has 2, this worker 3\)"):
        check_record(make_study(tmp_path), {"epochs": 3, "metric": "metrics/APs(T)", "space": {"a": (1, 2)}})
