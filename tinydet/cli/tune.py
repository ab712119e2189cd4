"""`tinydet tune`: one worker of a hyperparameter search (Optuna TPE + pruning) over small-object knobs."""

from __future__ import annotations

from tinydet.cli.common import parse_overrides


def register(sub, formatter) -> None:
    p = sub.add_parser(
        "tune",
        help="search training hyperparameters (Optuna), on one machine or many",
        description="Search the small-object knobs (imgsz, loss gains and kinds, NWD, augmentation, lr0; see\n"
        "--space) for the best validation --metric. Each trial trains into OUT/trials/<number>/ with tinydet's\n"
        "trainer and reports its metric every epoch; poor trials are pruned. Results: OUT/trials.md,\n"
        "OUT/trials.csv and OUT/best_recipe.yaml (use it with `tinydet train --recipe-file`).\n\n"
        "The study lives in OUT/study.db (SQLite) unless --storage names a database: start the same command\n"
        "with the same --storage and --study on several machines to share one search. Run it again to resume\n"
        "an interrupted study; trials of a worker that died are re-queued after --grace-period seconds.",
        formatter_class=formatter,
    )
    p.add_argument("--data", required=True, help="data.yaml of a YOLO dataset (or its folder)")
    p.add_argument("--model", default="yolov8n", help="zoo name, model YAML or .pt checkpoint")
    p.add_argument("--trials", type=int, default=20,
                   help="finished (completed or pruned) trials the study should reach, over all workers")
    p.add_argument("--metric", default="APs", help="objective, maximised: a tinydet metric (APs, APvt, APt, AP50, ...) or "
                   "ultralytics' mAP50 / mAP50-95")
    p.add_argument("--space", default=None, help="search space YAML (default: tinydet/tune/default_space.yaml)")
    p.add_argument("--epochs", type=int, default=30, help="epochs per trial")
    p.add_argument("--imgsz", type=int, default=640, help="base image size (a relative imgsz in the space multiplies it)")
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--out", default="runs/tune", help="folder for trials/, reports and the default SQLite study")
    p.add_argument("--storage", default=None, help="database URL shared by workers, e.g. postgresql://user:pw@host:5432/db "
                   "(default: sqlite file OUT/study.db)")
    p.add_argument("--study", default="tinydet", help="study name inside the storage")
    p.add_argument("--seed", type=int, default=0, help="seed of the sampler and of every trial's training")
    p.add_argument("--device", default=None, help="cpu, 0, 1 ... (default: first GPU if any, else cpu)")
    p.add_argument("--workers", type=int, default=4, help="dataloader workers per trial")
    p.add_argument("--skip-bad", action="store_true",
                   help="warn about bad labels/images and let each trial train on a cleaned copy instead of stopping")
    p.add_argument("--recipe-file", default=None, help="base recipe YAML the search starts from")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="fixed ultralytics train argument for every trial (repeatable)")
    g = p.add_argument_group("search and pruning")
    g.add_argument("--startup-trials", type=int, default=10, help="random trials before TPE takes over")
    g.add_argument("--pruner", default="median", help="median | none")
    g.add_argument("--prune-startup-trials", type=int, default=5, help="completed trials before any pruning")
    g.add_argument("--prune-warmup-epochs", type=int, default=1, help="epochs of each trial never pruned")
    g.add_argument("--max-failures", type=int, default=3, help="stop after this many failed trials in a row")
    g = p.add_argument_group("workers and heartbeats")
    g.add_argument("--heartbeat-interval", type=int, default=30, help="seconds between a running trial's heartbeats")
    g.add_argument("--grace-period", type=int, default=120,
                   help="a running trial without a heartbeat for this long is failed and re-queued")
    g.add_argument("--max-retries", type=int, default=3, help="re-queue a dead worker's trial at most this often")
    p.set_defaults(run=run)


def options_from_args(args):
    from tinydet.train.recipe import Recipe, load_recipe_file
    from tinydet.train.api import TrainOptions
    from tinydet.tune import PrunerOptions, SearchOptions, StorageOptions, TuneOptions

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
    import signal

    def handler(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


def run(args) -> int:
    from tinydet.errors import TinydetError

    try:
        import optuna  # noqa: F401
    except ImportError:
        raise TinydetError("tinydet tune needs optuna: pip install 'tinydet[tune]'") from None
    from tinydet.tune import tune

    options = options_from_args(args)
    _interrupt_on_sigterm()
    result = tune(options, log=lambda line: print(f"tinydet tune: {line}", flush=True))
    p = result.progress
    print(f"study '{result.study}' ({result.storage}): {p.complete} completed, {p.pruned} pruned, {p.failed} failed; "
          f"{result.trials_run} run by this worker")
    if result.best_number is None:
        print("no trial has completed yet, so there is no best recipe")
    else:
        print(f"best: trial {result.best_number}, {options.search.metric} = {result.best_value:.4g}, "
              f"{result.best_params}")
        print(f"best recipe: {result.files.best_recipe}")
    print(f"trials: {result.files.trials_md}, {result.files.trials_csv}")
    return 0
