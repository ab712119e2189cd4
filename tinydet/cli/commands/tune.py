"""Running `tinydet tune` (its arguments: tinydet/cli/tune.py)."""

from __future__ import annotations

import signal

from tinydet.cli.common import parse_overrides
from tinydet.errors import TinydetError
from tinydet.train.api import TrainOptions
from tinydet.train.recipe import Recipe, load_recipe_file
from tinydet.tune import PrunerOptions, SearchOptions, StorageOptions, TuneOptions, tune


def options_from_args(args):
    plan = TrainOptions(
        data=args.data, model=args.model, epochs=args.epochs, imgsz=args.imgsz, batch=args.batch, seed=args.seed,
        device=args.device, workers=args.workers, skip_bad=args.skip_bad,
        recipe=load_recipe_file(args.recipe_file) if args.recipe_file else Recipe(),
        overrides=parse_overrides(args.overrides),
    )
    return TuneOptions(
        plan=plan, out=args.out,
        search=SearchOptions(trials=args.trials, metric=args.metric, space=args.space, seed=args.seed,
                             startup_trials=args.startup_trials, max_failures=args.max_failures),
        storage=StorageOptions(url=args.storage, study=args.study, heartbeat_interval=args.heartbeat_interval,
                               grace_period=args.grace_period, max_retries=args.max_retries),
        pruner=PrunerOptions(kind=args.pruner, startup_trials=args.prune_startup_trials,
                             warmup_epochs=args.prune_warmup_epochs),
    )


def _interrupt_on_sigterm() -> None:
    """SIGTERM (a scheduler stopping the job) ends the worker like Ctrl-C: the running trial is re-queued."""
    def handler(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


def run(args) -> int:
    try:
        import optuna  # noqa: F401
    except ImportError:
        raise TinydetError("tinydet tune needs optuna: pip install 'tinydet[tune]'") from None

    options = options_from_args(args)
    _interrupt_on_sigterm()
    result = tune(options, log=lambda line: print(f"tinydet tune: {line}", flush=True))
    p = result.progress
    print(f"study '{result.study}' ({result.storage}): {p.complete} completed, {p.pruned} pruned, {p.failed} failed; "
          f"{result.trials_run} run by this worker")
    if result.best_number is None and p.complete:
        print(f"every completed trial scored 0 on {options.search.metric}: nothing was learned, so no trial is best; "
              "train longer (--epochs) or at a larger --imgsz, then tune again")
    elif result.best_number is None:
        print("no trial has completed yet, so there is no best recipe")
    else:
        print(f"best: trial {result.best_number}, {options.search.metric} = {result.best_value:.4g}, "
              f"{result.best_params}")
        print(f"best recipe: {result.files.best_recipe}")
    print(f"trials: {result.files.trials_md}, {result.files.trials_csv}")
    return 0
