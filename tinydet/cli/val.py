"""`tinydet val`: predict a dataset split with a checkpoint and evaluate it with tinydet's metrics."""

from __future__ import annotations

from tinydet.cli.eval import add_eval_options


def register(sub, formatter) -> None:
    p = sub.add_parser(
        "val",
        help="evaluate a checkpoint on a dataset split",
        description="Predict every image of a split of a YOLO dataset (whole, or sliced with --slice) and report\n"
        "the coco, aitod and center blocks, per-class AP and the best-F1 point (see `tinydet eval --help`).",
        formatter_class=formatter,
    )
    p.add_argument("--model", required=True, help="checkpoint (.pt)")
    p.add_argument("--data", required=True, help="data.yaml of a YOLO dataset")
    p.add_argument("--split", default="val", choices=("train", "val", "test"))
    p.add_argument("--imgsz", type=int, default=None, metavar="PX",
                   help="network input size (default: 640 for whole images; each tile's own size with --slice)")
    p.add_argument("--conf", type=float, default=0.001, help="confidence threshold (keep low for mAP)")
    p.add_argument("--iou", type=float, default=0.7, help="NMS IoU threshold")
    p.add_argument("--max-det", type=int, default=300, help="boxes the model keeps per image (prediction)")
    p.add_argument("--device", default=None)
    p.add_argument("--nms-free", action="store_true",
                   help="YOLO26-style models: boxes from the end-to-end (one-to-one) head, with no NMS "
                   "(default: the one-to-many head and NMS, as ultralytics does)")
    p.add_argument("--slice", default=None, metavar="W[xH]", help="predict on tiles of this size (sliced inference)")
    p.add_argument("--overlap", type=float, default=None, metavar="R", help="overlap ratio of tiles (with --slice)")
    p.add_argument("--merge", default=None, metavar="NAME", help="how tile predictions are merged (with --slice)")
    add_eval_options(p)
    p.add_argument("--json", default=None, help="also write all metrics to this JSON file")
