"""Running `tinydet augment-preview` (its arguments: tinydet/cli/augment_preview.py)."""

from __future__ import annotations

from tinydet.cli.commands.train import recipe_from_args
from tinydet.cli.common import parse_overrides
from tinydet.train.api import TrainOptions
from tinydet.train.preview import augment_preview


def run(args) -> int:
    opts = TrainOptions(data=args.data, model=args.model, imgsz=args.imgsz, seed=args.seed, out=args.out,
                        skip_bad=args.skip_bad, recipe=recipe_from_args(args),
                        overrides=parse_overrides(args.overrides))
    print(f"preview: {augment_preview(opts, args.out, args.samples, args.columns)}")
    return 0
