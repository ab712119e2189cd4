"""`tinydet train`: train a zoo model or YAML on a YOLO dataset."""

from __future__ import annotations

from tinydet.cli.common import parse_overrides


def register(sub, formatter) -> None:
    p = sub.add_parser(
        "train",
        help="train a model (zoo name, YAML or checkpoint) on a dataset",
        description="Train with ultralytics' trainer into one run folder (weights/best.pt, weights/last.pt, "
        "results.csv). An interrupted run continues with --resume RUN_DIR.",
        formatter_class=formatter,
    )
    p.add_argument("--data", help="data.yaml of a YOLO dataset (or its folder)")
    p.add_argument("--model", default="yolov8n", help="zoo name (see `tinydet models`), model YAML or .pt checkpoint")
    p.add_argument("--epochs", type=int, default=100)
    p.add_argument("--imgsz", type=int, default=640, help="training image size in pixels")
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--out", default="runs/train", help="run folder to create (must be new)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default=None, help="cpu, 0, 0,1 ... (default: first GPU if any, else cpu)")
    p.add_argument("--workers", type=int, default=4, help="dataloader workers (ultralytics uses 0 on CPU)")
    p.add_argument("--patience", type=int, default=100, help="stop after this many epochs without improvement")
    p.add_argument("--resume", metavar="RUN_DIR", default=None, help="continue an interrupted run")
    p.add_argument(
        "--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
        help="any other ultralytics train argument, e.g. --set mosaic=0.5 --set lr0=0.02 (repeatable)",
    )
    p.set_defaults(run=run)


def run(args) -> int:
    from tinydet.errors import TinydetError
    from tinydet.train.api import TrainOptions, resume, train

    if args.resume:
        result = resume(args.resume)
    else:
        if not args.data:
            raise TinydetError("--data is required (a data.yaml), unless you --resume a run")
        opts = TrainOptions(
            data=args.data, model=args.model, epochs=args.epochs, imgsz=args.imgsz, batch=args.batch,
            out=args.out, seed=args.seed, device=args.device, workers=args.workers, patience=args.patience,
            overrides=parse_overrides(args.overrides),
        )
        result = train(opts)
    print(f"best checkpoint: {result.best}")
    return 0
