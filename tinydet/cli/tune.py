"""`tinydet tune`: one worker of a hyperparameter search (Optuna TPE + pruning) over small-object knobs."""

from __future__ import annotations


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
