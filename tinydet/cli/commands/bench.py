"""Running `tinydet bench` (its arguments: tinydet/cli/bench.py)."""

from __future__ import annotations

import json
import platform
from pathlib import Path

import torch

from tinydet.cli.common import check_output_file
from tinydet.errors import TinydetError
from tinydet.export.bench import bench, format_table
from tinydet.export.runtime import dataset_images, synthetic_images
from tinydet.files import write_atomic
from tinydet.infer.backends import BACKENDS


def run(args) -> int:
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    unknown = [b for b in backends if b not in BACKENDS]
    if not backends or unknown:
        raise TinydetError(f"unknown backend(s) {', '.join(unknown) or '(none given)'} (choose from {', '.join(BACKENDS)})")
    if args.runs < 1 or args.warmup < 0 or args.images < 1 or args.imgsz < 32:
        raise TinydetError("--runs and --images must be at least 1, --warmup at least 0, --imgsz at least 32")
    for model in args.model:
        if not Path(model).is_file():
            raise TinydetError(f"model not found: {model}")
    check_output_file(args.json, "--json", (".json",), [*args.model, args.data])
    images = dataset_images(args.data, args.images) if args.data else synthetic_images(args.images, args.imgsz)
    rows = bench(args.model, backends, args.imgsz, args.runs, args.warmup, images)
    print(format_table(rows))
    if args.json:
        doc = {"device": "cpu", "threads": torch.get_num_threads(), "processor": platform.processor() or platform.machine(),
               "rows": [r.to_dict() for r in rows]}
        write_atomic(Path(args.json), json.dumps(doc, indent=2) + "\n")
        print(f"written to {args.json}")
    return 0
