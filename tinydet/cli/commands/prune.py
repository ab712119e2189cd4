"""Running `tinydet prune` (its arguments: tinydet/cli/prune.py)."""

from __future__ import annotations

from tinydet.compress.checkpoint import PruneOptions, prune_checkpoint


def run(args) -> int:
    options = PruneOptions(ratio=args.ratio, criterion=args.criterion, min_channels=args.min_channels,
                           round_to=args.round_to, imgsz=args.imgsz)
    result = prune_checkpoint(args.model, args.out, options)
    print(result.table())
    print(f"pruned checkpoint: {result.path} (fine-tune it: tinydet train --model {result.path} --data ...)")
    return 0
