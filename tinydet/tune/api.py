"""`tune()`: one worker of a hyperparameter search. Run it once for a local search (SQLite in OUT), or on
several machines with the same --storage (a PostgreSQL URL) and --study to share one search."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

import sqlalchemy.exc
from optuna.trial import TrialState

from tinydet.data.datayaml import load_data_yaml
from tinydet.data.loading import load_dataset
from tinydet.errors import TinydetError
from tinydet.models.zoo import resolve_model
from tinydet.train.api import TrainOptions, check_override_keys
from tinydet.tune.metrics import DEFAULT_METRIC, resolve_metric
from tinydet.tune.pruning import PrunerOptions, make_pruner
from tinydet.tune.report import ReportFiles, learned, write_reports
from tinydet.tune.sampler import TrialSeededTPESampler
from tinydet.tune.space import inert_parameters, load_space
from tinydet.tune.storage import (
    StorageOptions,
    describe_error,
    open_storage,
    redact,
    storage_url,
    with_driver,
)
from tinydet.tune.study import (
    Progress,
    WorkerOptions,
    check_record,
    open_study,
    progress,
    run_worker,
)
from tinydet.tune.trial import Objective


@dataclass(frozen=True)
class SearchOptions:
    """trials: finished (completed or pruned) trials the study should reach, over all workers; metric: the
    objective, maximised; space: a space YAML (None: the default space); seed: the sampler's seed;
    startup_trials: random trials before TPE models the results."""

    trials: int = 20
    metric: str = DEFAULT_METRIC
    space: str | None = None
    seed: int = 0
    startup_trials: int = 10
    max_failures: int = 3

    def __post_init__(self) -> None:
        if self.trials < 1:
            raise TinydetError(f"--trials must be at least 1, got {self.trials}")
        if self.startup_trials < 0 or self.max_failures < 1:
            raise TinydetError("--startup-trials must be >= 0 and --max-failures >= 1")


@dataclass(frozen=True)
class TuneOptions:
    """plan: what every trial trains (data, model, epochs, imgsz, batch, seed, device, base recipe, fixed
    ultralytics arguments); each trial trains a copy with its own settings into OUT/trials/<number>/."""

    plan: TrainOptions
    out: str = "runs/tune"
    search: SearchOptions = field(default_factory=SearchOptions)
    storage: StorageOptions = field(default_factory=StorageOptions)
    pruner: PrunerOptions = field(default_factory=PrunerOptions)


@dataclass(frozen=True)
class TuneResult:
    study: str
    storage: str  # URL without its password
    progress: Progress
    trials_run: int  # by this worker
    best_number: int | None
    best_value: float | None
    best_params: dict[str, Any]
    files: ReportFiles


def _record(options: TuneOptions, space, metric) -> dict[str, Any]:
    plan = options.plan
    return {
        "model": plan.model, "epochs": plan.epochs, "imgsz": plan.imgsz, "batch": plan.batch, "seed": plan.seed,
        "metric": metric.key, "space": space.to_dict(), "recipe": plan.recipe.to_dict(), "overrides": plan.overrides,
    }


def _check_plan(plan: TrainOptions, out: str | Path) -> None:
    """What would fail every trial fails once, before the study: the model, the overrides, the data (a bad label
    or image too, unless the trials skip them), the folder."""
    resolve_model(plan.model)
    check_override_keys({**plan.recipe.ultralytics, **plan.overrides})
    if plan.skip_bad:  # each trial warns about what it skips; only the data.yaml must be right
        load_data_yaml(plan.data)
    else:
        load_dataset(plan.data)  # reads the data.yaml too
    if Path(out).expanduser().exists() and not Path(out).expanduser().is_dir():
        raise TinydetError(f"--out {out} is a file; tune needs a folder (for trials/, reports and the study)")


def tune(options: TuneOptions, log: Callable[[str], None] = print) -> TuneResult:
    """Join (or start) the study and run trials until it has `options.search.trials` finished trials; write
    OUT/trials.md, OUT/trials.csv and OUT/best_recipe.yaml after every trial and at the end."""
    metric = resolve_metric(options.search.metric)
    space = load_space(options.search.space)
    _check_plan(options.plan, options.out)
    fixed = {**options.plan.recipe.ultralytics, **options.plan.overrides}
    for warning in inert_parameters(space, options.plan.epochs, fixed):
        log(f"warning: {warning}")
    out = Path(options.out).expanduser().resolve()
    url = with_driver(storage_url(options.storage.url, out))
    storage = open_storage(options.storage, out)
    sampler = TrialSeededTPESampler(options.search.seed, options.search.startup_trials)
    try:
        study = open_study(storage, options.storage.study, sampler, make_pruner(options.pruner))
        check_record(study, _record(options, space, metric))
        log(f"study '{study.study_name}' in {redact(url)}: {asdict(progress(study))}, target {options.search.trials}")
        objective = Objective(options.plan, space, metric, out, log=log)

        def report() -> ReportFiles:
            return write_reports(study, options.plan, space, metric.name, out)

        worker = WorkerOptions(options.search.trials, options.search.max_failures,
                               poll_seconds=min(5.0, options.storage.heartbeat_interval),
                               max_retries=options.storage.max_retries)
        ran = run_worker(study, objective, worker, after_trial=report, log=log)
        files = report()
        state = progress(study)
        complete = [t.value for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))]
        best = study.best_trial if learned(complete) else None
    except sqlalchemy.exc.SQLAlchemyError as e:
        raise TinydetError(f"lost the study storage {redact(url)}: {describe_error(e, url)}") from None
    return TuneResult(study.study_name, redact(url), state, ran, best.number if best else None,
                      best.value if best else None, dict(best.params) if best else {}, files)
