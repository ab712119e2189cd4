"""Running `tinydet slice` (its arguments: tinydet/cli/slice.py)."""

from __future__ import annotations

import json
import sys

from tinydet.cli.commands.dataopts import data_warnings_printed, load
from tinydet.data.outdir import check_new_folder
from tinydet.data.tiling import MANIFEST, SliceOptions, slice_dataset


def run(args) -> int:
    opts = SliceOptions(size=args.size, overlap=args.overlap, min_visibility=args.min_visibility,
                        empty_ratio=args.empty_ratio, seed=args.seed, tile_format=args.tile_format)
    check_new_folder(args.out)
    with data_warnings_printed("slice"):
        dataset = load("slice", args)
        data_yaml = slice_dataset(dataset, args.out, opts)
    stats = json.loads((data_yaml.parent / MANIFEST).read_text())["stats"]
    print(", ".join(f"{k.replace('_', ' ')} {v}" for k, v in stats.items()), file=sys.stderr)
    print(data_yaml)
    return 0
