"""Running `tinydet train` (its arguments: tinydet/cli/train.py)."""

from __future__ import annotations

from tinydet.cli.common import parse_overrides
from tinydet.errors import TinydetError
from tinydet.train.api import TrainOptions, resume, train
from tinydet.train.options import RECIPE_OPTIONS, RUN_OPTIONS
from tinydet.train.recipe import Recipe, load_recipe_file


def recipe_from_args(args) -> Recipe:
    """The Recipe of a command line: --recipe-file first, then the recipe flags that were given."""
    base = load_recipe_file(args.recipe_file).to_dict() if args.recipe_file else {}
    base.update({o.name: getattr(args, o.name) for o in RECIPE_OPTIONS if getattr(args, o.name, None) is not None})
    return Recipe.from_dict(base)


def options_from_args(args) -> TrainOptions:
    """The TrainOptions of a `tinydet train` command line (every run option of the table, the recipe, --set)."""
    if not args.data:
        raise TinydetError("--data is required (a data.yaml), unless you --resume a run")
    run = {o.name: getattr(args, o.name) for o in RUN_OPTIONS}
    return TrainOptions(**run, recipe=recipe_from_args(args), overrides=parse_overrides(args.overrides))


def run(args) -> int:
    result = resume(args.resume) if args.resume else train(options_from_args(args))
    print(f"best checkpoint: {result.best}")
    return 0
