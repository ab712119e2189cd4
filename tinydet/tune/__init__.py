"""Hyperparameter search for small-object training on Optuna: TPE, per-epoch pruning, SQLite or PostgreSQL
storage shared by many workers, heartbeats that re-queue the trials of dead workers, and the best trial handed
to `tinydet train` as a recipe file. See docs/scaling.md.

    from tinydet.train.api import TrainOptions
    from tinydet.tune import TuneOptions, SearchOptions, tune
    result = tune(TuneOptions(TrainOptions(data="data.yaml", epochs=30), out="runs/tune",
                              search=SearchOptions(trials=50, metric="APs")))
"""

from tinydet.tune.api import SearchOptions, TuneOptions, TuneResult, tune
from tinydet.tune.metrics import Metric, resolve_metric
from tinydet.tune.pruning import EpochReporter, PrunerOptions
from tinydet.tune.space import Param, SearchSpace, load_space, parse_space
from tinydet.tune.storage import StorageOptions
from tinydet.tune.trial import trial_setup

__all__ = [
    "EpochReporter", "Metric", "Param", "PrunerOptions", "SearchOptions", "SearchSpace", "StorageOptions",
    "TuneOptions", "TuneResult", "load_space", "parse_space", "resolve_metric", "trial_setup", "tune",
]
