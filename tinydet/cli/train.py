"""`tinydet train`: train a zoo model or YAML on a dataset, optionally with a small-object recipe.

Every flag comes from the options table (tinydet/train/options.py), grouped as it groups them. Recipe flags
default to None here, so that only the flags given override a --recipe-file; their help shows the real default.
"""

from __future__ import annotations

from tinydet.train.options import GROUPS, OPTIONS, Option

DESCRIPTION = """\
Train with ultralytics' trainer into one run folder (weights/best.pt, weights/last.pt, results.csv with tinydet's
small-object metrics every epoch, tinydet_run.yaml with every option). An interrupted run continues with
--resume RUN_DIR.

Recipe options come from --recipe-file (YAML: these options by name, plus an 'ultralytics:' mapping), then from
the flags, which win. Any ultralytics argument passes through with --set KEY=VALUE: e.g. cos_lr=true
warmup_epochs=3 (cosine LR with warmup), nbs=64 (gradient accumulation to a nominal batch), multi_scale=0.5
(multi-scale training range), mixup=0.1 (ultralytics' same-size mixup). EMA of the weights is always on in
ultralytics. docs/training.md has the options table; docs/toolbox.md explains the toolbox options.

examples:
  tinydet train --data data.yaml --model yolov8n-p2-nop5 --box-loss nwd --assigner-metric nwd --epochs 100
  tinydet train --data data.yaml --model yolov8n-p2 --val-slice 640 --fitness APs
  tinydet train --resume runs/train
"""


def _help(o: Option) -> str:
    default = "none" if o.default is None else str(o.default).lower() if isinstance(o.default, bool) else o.default
    allowed = f"; {' | '.join(map(str, o.choices))}" if o.choices and len(o.choices) > 2 else ""
    return f"{o.help}{allowed} (default: {default})"


def add_option(group, o: Option, recipe_default_none: bool = True) -> None:
    """One option of the table as a flag of `group`. Recipe options default to None (only given flags count)."""
    if o.kind is bool:
        # a flag that turns a default-on option off is spelt --no-<name>; others turn it on
        action = "store_false" if o.flag and o.flag.startswith("--no-") else "store_true"
        default = None if o.where == "recipe" and recipe_default_none else o.default
        group.add_argument(o.cli_flag, dest=o.name, action=action, default=default, help=_help(o))
        return
    default = None if o.where == "recipe" and recipe_default_none else o.default
    group.add_argument(o.cli_flag, dest=o.name, type=o.kind, default=default, metavar=o.metavar,
                       choices=list(o.choices) if o.choices else None, help=_help(o))


def add_recipe_flags(parser, title_suffix: str = "") -> None:
    """The recipe options of the table as `parser`'s argument groups (also used by `augment-preview`)."""
    for key, title in GROUPS.items():
        rows = [o for o in OPTIONS if o.group == key and o.where == "recipe"]
        if rows:
            group = parser.add_argument_group(f"{title}{title_suffix}")
            for o in rows:
                add_option(group, o)


def register(sub, formatter) -> None:
    p = sub.add_parser("train", help="train a model (zoo name, YAML or checkpoint) on a dataset",
                       description=DESCRIPTION, formatter_class=formatter)
    for key, title in GROUPS.items():
        rows = [o for o in OPTIONS if o.group == key]
        group = p.add_argument_group(title)
        for o in rows:
            add_option(group, o)
        if key == "run":
            group.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                               help="any other ultralytics train argument, e.g. --set mosaic=0.5 --set lr0=0.02 "
                               "(repeatable)")
