"""Per-epoch reporting and pruning: an ultralytics callback that feeds each epoch's metric to an optuna trial
and stops training cleanly (ultralytics' own `trainer.stop`) when the pruner says the trial is hopeless."""

from __future__ import annotations

from dataclasses import dataclass

from tinydet.errors import TinydetError
from tinydet.tune.metrics import Metric

PRUNERS = ("median", "none")


@dataclass(frozen=True)
class PrunerOptions:
    """median: stop a trial whose best metric so far is below the median of completed trials at the same epoch,
    once `startup_trials` trials have completed and never in its first `warmup_epochs` epochs; none: never stop."""

    kind: str = "median"
    startup_trials: int = 5
    warmup_epochs: int = 1

    def __post_init__(self) -> None:
        if self.kind not in PRUNERS:
            raise TinydetError(f"--pruner must be one of {', '.join(PRUNERS)}, got '{self.kind}'")
        if self.startup_trials < 0 or self.warmup_epochs < 0:
            raise TinydetError("--prune-startup-trials and --prune-warmup-epochs must be >= 0")


def make_pruner(options: PrunerOptions):
    import optuna  # optional: tinydet[tune]

    if options.kind == "none":
        return optuna.pruners.NopPruner()
    # Steps are epochs counted from 1 and optuna prunes from step == n_warmup_steps: warmup N spares epochs 1..N.
    return optuna.pruners.MedianPruner(n_startup_trials=options.startup_trials,
                                       n_warmup_steps=options.warmup_epochs + 1)


class EpochReporter:
    """ultralytics `on_fit_epoch_end` callback for one trial.

    Every epoch: read the metric from `trainer.metrics`, `trial.report(value, epoch)` (epochs counted from 1),
    and when `trial.should_prune()` set `trainer.stop = True`, which ends ultralytics' loop after this epoch
    (last.pt and best.pt are saved as usual). ultralytics calls the same event once more after the loop, for
    its final validation of best.pt; that call is recognised (training had already stopped at the previous
    call) and recorded as `final`, not reported as an epoch.
    """

    event = "on_fit_epoch_end"

    def __init__(self, trial, metric: Metric):
        self.trial, self.metric = trial, metric
        self.values: dict[int, float] = {}
        self.final: float | None = None
        self.pruned_at: int | None = None
        self._stopped = False

    def __call__(self, trainer) -> None:
        value = self.metric.read(trainer.metrics)
        if self._stopped:
            self.final = value
            return
        epoch = int(trainer.epoch) + 1
        self.values[epoch] = value
        self.trial.report(value, epoch)
        if not trainer.stop and self.trial.should_prune():
            trainer.stop = True
            self.pruned_at = epoch
        self._stopped = bool(trainer.stop)

    @property
    def pruned(self) -> bool:
        return self.pruned_at is not None

    def objective(self) -> float:
        """The trial's score: the metric of best.pt's final validation, else the best epoch's."""
        if self.final is not None:
            return self.final
        if not self.values:
            raise TinydetError(f"training reported no {self.metric.name} (no validation ran)")
        return max(self.values.values())

    def prune_message(self) -> str:
        value = self.values[self.pruned_at]
        name = self.metric.name
        return f"pruned after epoch {self.pruned_at}: {name} {value:.4g} is below the median of earlier trials"
