"""`tinydet val`: evaluate a checkpoint on a dataset split."""

from __future__ import annotations


def register(sub, formatter) -> None:
    p = sub.add_parser(
        "val",
        help="evaluate a checkpoint on a dataset split",
        description="Predict on a split of a YOLO dataset and report mAP50, mAP50-95 and small-object metrics.",
        formatter_class=formatter,
    )
    p.add_argument("--model", required=True, help="checkpoint (.pt)")
    p.add_argument("--data", required=True, help="data.yaml of a YOLO dataset")
    p.add_argument("--split", default="val", choices=("train", "val", "test"))
    p.add_argument("--imgsz", type=int, default=640)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--conf", type=float, default=0.001, help="confidence threshold (keep low for mAP)")
    p.add_argument("--iou", type=float, default=0.7, help="NMS IoU threshold")
    p.add_argument("--device", default=None)
    p.add_argument("--json", default=None, help="also write the metrics to this JSON file")
    p.set_defaults(run=run)


def run(args) -> int:
    import json
    from pathlib import Path

    from tinydet.eval.validate import ValOptions, validate

    metrics = validate(
        args.model, args.data, ValOptions(split=args.split, imgsz=args.imgsz, batch=args.batch, conf=args.conf,
                                          iou=args.iou, device=args.device)
    )
    for key, value in metrics.items():
        print(f"{key:>12}: {value:.4f}")
    if args.json:
        from tinydet.infer.outputs import write_atomic

        write_atomic(Path(args.json), json.dumps(metrics, indent=1))
    return 0
