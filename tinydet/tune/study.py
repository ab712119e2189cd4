"""A study shared by any number of workers, and the loop one worker runs until the study has its trials.

A worker starts a trial only while the finished (completed or pruned) and running trials are fewer than the
target, runs re-queued trials first (optuna hands out WAITING trials before sampling new ones), and leaves
once the target is reached and no trial is running anywhere, so that the last worker to leave never leaves a
trial RUNNING. Workers that start trials at the same moment can overshoot the target by one trial each.
"""

from __future__ import annotations

import json
import time
import warnings
from dataclasses import dataclass
from typing import Any, Callable

import optuna
from optuna.trial import TrialState

from tinydet.errors import TinydetError

RECORD_KEY = "tinydet_tune"


@dataclass(frozen=True)
class Progress:
    complete: int = 0
    pruned: int = 0
    failed: int = 0
    running: int = 0
    waiting: int = 0

    @property
    def finished(self) -> int:
        return self.complete + self.pruned


def progress(study: optuna.Study) -> Progress:
    states = [t.state for t in study.get_trials(deepcopy=False)]
    return Progress(*(states.count(s) for s in (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL,
                                                  TrialState.RUNNING, TrialState.WAITING)))


def open_study(storage, name: str, sampler, pruner) -> optuna.Study:
    """Create the study, or join it when another worker (or an earlier run) created it."""
    study = optuna.create_study(study_name=name, storage=storage, sampler=sampler, pruner=pruner,
                                direction="maximize", load_if_exists=True)
    if study.direction != optuna.study.StudyDirection.MAXIMIZE:
        raise TinydetError(f"study '{name}' minimises; tinydet's metrics are maximised: use a new --study")
    return study


def check_record(study: optuna.Study, record: dict[str, Any]) -> None:
    """Every worker of a study must search the same thing: the first stores `record` (model, budget, metric,
    space, base recipe) in the study; later ones must match it."""
    record = json.loads(json.dumps(record))  # the form it has once stored (tuples become lists)
    stored = study.user_attrs.get(RECORD_KEY)
    if stored is None:
        study.set_user_attr(RECORD_KEY, record)
        return
    differ = sorted(k for k in set(record) | set(stored) if record.get(k) != stored.get(k))
    if differ:
        shown = "; ".join(f"{k}: study has {_short(stored.get(k))}, this worker {_short(record.get(k))}"
                          for k in differ)
        raise TinydetError(
            f"study '{study.study_name}' was started with other settings ({shown}); every worker of a study "
            "needs the same model, epochs, imgsz, batch, metric, space and recipe; use a new --study for a new search"
        )


def _short(value: Any, limit: int = 60) -> str:
    text = json.dumps(value, sort_keys=True)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def fail_stale_trials(study: optuna.Study) -> None:
    """Mark trials of dead workers (heartbeat older than the grace period) FAIL, which re-queues them."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)


def requeue(study: optuna.Study, number: int | None, max_retries: int) -> bool:
    """Put trial `number` back in the queue with its parameters if it ended FAIL (e.g. interrupted); True if so."""
    if number is None:
        return False
    trial = next((t for t in study.get_trials(deepcopy=True) if t.number == number), None)
    if trial is None or trial.state != TrialState.FAIL:
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        before = progress(study).waiting
        optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=max_retries)(study, trial)
    return progress(study).waiting > before


@dataclass(frozen=True)
class WorkerOptions:
    target: int  # finished (completed + pruned) trials the study should reach
    max_failures: int = 3  # consecutive failed trials in this worker before it gives up
    poll_seconds: float = 5.0
    max_retries: int = 3


def run_worker(study: optuna.Study, objective, options: WorkerOptions,
               after_trial: Callable[[], None] = lambda: None, log: Callable[[str], None] = print) -> int:
    """Run trials until the study is finished; returns how many trials this worker finished.

    A TinydetError from a trial (a problem with the user's settings, the same for every trial) ends the worker
    at once; other errors fail that trial and the worker goes on, up to `max_failures` in a row. Ctrl-C puts
    the interrupted trial back in the queue before stopping.
    """
    finished = failures = 0
    waiting_said = False
    while True:
        fail_stale_trials(study)
        state = progress(study)
        if state.finished >= options.target and state.running == 0:
            return finished
        enough_started = state.waiting == 0 and state.finished + state.running >= options.target
        if state.finished >= options.target or enough_started:
            if not waiting_said:
                log(f"{state.running} trial(s) still running in other workers; waiting for them")
                waiting_said = True
            time.sleep(options.poll_seconds)
            continue
        waiting_said = False
        try:
            study.optimize(objective, n_trials=1, gc_after_trial=True)
            finished, failures = finished + 1, 0
        except TinydetError:
            raise
        except KeyboardInterrupt:
            if requeue(study, getattr(objective, "current", None), options.max_retries):
                log(f"trial {objective.current} interrupted; it is queued again for the next run")
            raise
        except Exception as e:  # one trial failed (optuna marked it FAIL)
            failures += 1
            log(f"trial failed ({failures} in a row): {' '.join(str(e).split()) or type(e).__name__}")
            if failures >= options.max_failures:
                raise TinydetError(f"{failures} trials in a row failed; the last error: {type(e).__name__}: {e}") from e
        finally:
            after_trial()
