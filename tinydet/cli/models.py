"""`tinydet models`: list the model zoo, each model built and measured."""

from __future__ import annotations


def register(sub, formatter) -> None:
    p = sub.add_parser(
        "models",
        help="list the model zoo (params, GFLOPs, strides, task)",
        description="List the zoo's models: tinydet's small-object configs and the stock ultralytics ones, each built "
        "(with --nc classes) to count parameters and GFLOPs at --imgsz.\nAny listed name works as --model in "
        "`tinydet train`; in Python, `YOLO(tinydet.models.zoo.resolve_model(name))` after `import tinydet` "
        "(see docs/models.md).",
        formatter_class=formatter,
    )
    p.add_argument("--task", choices=("detect", "pose", "segment"), default=None, help="only this task (default: every task)")
    p.add_argument("--scale", default="n", help="scale letter n, s, m, ..., or 'all' (building every scale is slow)")
    p.add_argument("--filter", dest="contains", default=None, metavar="TEXT", help="only names containing TEXT")
    p.add_argument("--nc", type=int, default=80, help="number of classes to build with")
    p.add_argument("--imgsz", type=int, default=640, help="image size for GFLOPs")
    p.add_argument("--json", action="store_true", help="print a JSON list instead of a table")
