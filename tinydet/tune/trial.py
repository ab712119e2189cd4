"""One trial: the search space's values turned into a Recipe and ultralytics arguments, trained with
`tinydet.train.api.train` into OUT/trials/<number>/, scored on the metric, pruned on the way if it lags.

What every trial of a study shares (data, model, epochs, imgsz, batch, seed, device, the base recipe and fixed
ultralytics arguments) is a `TrainOptions`, the plan; each trial trains a copy with its own settings and run
folder (the plan's `out` is not used)."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable

from tinydet.train import api as train_api
from tinydet.train.api import TrainOptions
from tinydet.train.recipe import Recipe
from tinydet.tune.metrics import Metric
from tinydet.tune.pruning import EpochReporter
from tinydet.tune.space import SearchSpace

TRIALS_DIR = "trials"
# Searchable ultralytics arguments that TrainOptions holds as fields (so the run record shows the real value).
_OPTION_FIELDS = ("imgsz", "batch")


@dataclass(frozen=True)
class TrialSetup:
    """A trial's training settings: the Recipe, the ultralytics arguments beyond it, image size and batch."""

    recipe: Recipe
    overrides: dict[str, Any]
    imgsz: int
    batch: int

    def as_recipe(self) -> Recipe:
        """Everything in one Recipe (ultralytics arguments, imgsz included, under `ultralytics`), as a recipe
        file for `tinydet train --recipe-file` holds it."""
        ultra = {**self.recipe.ultralytics, **self.overrides, "imgsz": self.imgsz}
        return replace(self.recipe, ultralytics=ultra)


def trial_setup(plan: TrainOptions, space: SearchSpace, values: dict[str, Any]) -> TrialSetup:
    """The settings of the trial whose study values are `values` (pure: used to train and to report)."""
    settings = space.settings(values, plan.imgsz)
    recipe = Recipe.from_dict({**plan.recipe.to_dict(), **settings.recipe}, source="tune trial")
    overrides = {**plan.overrides, **settings.ultralytics}
    sizes = {name: int(overrides.pop(name, getattr(plan, name))) for name in _OPTION_FIELDS}
    return TrialSetup(recipe, overrides, sizes["imgsz"], sizes["batch"])


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class Objective:
    """The function optuna calls per trial. `current` is the number of the trial in progress (for requeueing
    it when the worker is interrupted)."""

    def __init__(self, plan: TrainOptions, space: SearchSpace, metric: Metric, out: Path,
                 log: Callable[[str], None] = print):
        self.plan, self.space, self.metric, self.out, self.log = plan, space, metric, Path(out), log
        self.current: int | None = None

    def run_dir(self, number: int) -> Path:
        return self.out / TRIALS_DIR / str(number)

    def __call__(self, trial) -> float:
        import optuna  # optional: tinydet[tune]

        self.current = trial.number
        setup = trial_setup(self.plan, self.space, self.space.suggest(trial))
        run_dir = self.run_dir(trial.number)
        trial.set_user_attr("run_dir", str(run_dir))
        trial.set_user_attr("worker", worker_id())
        self.log(f"trial {trial.number}: training into {run_dir}")
        reporter = EpochReporter(trial, self.metric)
        options = replace(self.plan, out=str(run_dir), imgsz=setup.imgsz, batch=setup.batch,
                          patience=self.plan.epochs, recipe=setup.recipe, overrides=setup.overrides)
        train_api.train(options, callbacks={reporter.event: [reporter]})
        trial.set_user_attr("epochs", len(reporter.values))
        if reporter.pruned:
            raise optuna.TrialPruned(reporter.prune_message())
        return reporter.objective()
