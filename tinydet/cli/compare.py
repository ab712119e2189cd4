"""`tinydet compare`: a markdown table of training runs."""

from __future__ import annotations


def register(sub, formatter) -> None:
    p = sub.add_parser(
        "compare",
        help="markdown table of training runs (model, mAP50, mAP50-95, AP small, params, GFLOPs)",
        description="Evaluate each run's weights/best.pt on its val split (or reuse RUN_DIR/tinydet_eval/) and print\n"
        "a markdown table: model, mAP50, mAP50-95, AP small (COCO), AP very tiny and tiny (AI-TOD), params, GFLOPs.",
        formatter_class=formatter,
    )
    p.add_argument("runs", nargs="+", metavar="RUN_DIR", help="training run folders (ultralytics layout)")
    p.add_argument("--split", default="val", help="dataset split to evaluate on")
    p.add_argument("--refresh", action="store_true", help="ignore cached evaluations and predict again")
    p.add_argument("--out", default=None, help="also write the table to this file")
