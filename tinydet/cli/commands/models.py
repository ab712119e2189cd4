"""Running `tinydet models` (its arguments: tinydet/cli/models.py)."""

from __future__ import annotations

import json

from tinydet.errors import TinydetError
from tinydet.models.info import describe_all, format_table, select


def run(args) -> int:
    if args.nc < 1 or args.imgsz < 32:
        raise TinydetError("--nc must be at least 1 and --imgsz at least 32")
    entries = select(task=args.task, scale=None if args.scale == "all" else args.scale, contains=args.contains)
    infos = describe_all(entries, nc=args.nc, imgsz=args.imgsz)
    if args.json:
        print(json.dumps([i.to_dict() for i in infos], indent=1))
    else:
        print(format_table(infos))
        print(f"\n{len(infos)} models, nc={args.nc}, GFLOPs at {args.imgsz}x{args.imgsz}")
    return 0
