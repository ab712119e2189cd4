"""`tinydet report`: one self-contained HTML page comparing training runs."""

from __future__ import annotations


def register(sub, formatter) -> None:
    p = sub.add_parser(
        "report",
        help="HTML report of one or more training runs",
        description="Evaluate each run's weights/best.pt on its dataset's val split (or reuse the cached\n"
        "evaluation in RUN_DIR/tinydet_eval/) and write one self-contained HTML page: metrics per size bucket,\n"
        "PR curves per bucket, recall against object size, error breakdown, confusion matrices, per-class AP,\n"
        "sample pictures with true positives, false positives and misses, runs side by side.",
        formatter_class=formatter,
    )
    p.add_argument("runs", nargs="+", metavar="RUN_DIR", help="training run folders (ultralytics layout)")
    p.add_argument("--out", default="report.html", help="HTML file to write")
    p.add_argument("--split", default="val", help="dataset split to evaluate on")
    p.add_argument("--samples", type=int, default=6, help="sample pictures per run")
    p.add_argument("--refresh", action="store_true", help="ignore cached evaluations and predict again")
