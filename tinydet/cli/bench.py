"""`tinydet bench`: median latency per stage and throughput of checkpoints on the inference backends."""

from __future__ import annotations

DESCRIPTION = """\
Time checkpoints on inference backends (onnxruntime and openvino export the checkpoint once, cached beside
it): median preprocess / inference / postprocess milliseconds per image and images per second, one image per
forward pass, after warm-up passes. Images: --data's val split, else synthetic images of --imgsz.

examples:
  tinydet bench --model best.pt --backends torch,onnxruntime,openvino --imgsz 640
  tinydet bench --model a.pt b.pt --runs 50 --json bench.json
"""


def register(sub, formatter) -> None:
    p = sub.add_parser("bench", help="latency table of checkpoints on inference backends", description=DESCRIPTION,
                       formatter_class=formatter)
    p.add_argument("--model", required=True, nargs="+", help="checkpoints (.pt)")
    p.add_argument("--backends", default="torch,onnxruntime,openvino", help="comma-separated backends")
    p.add_argument("--imgsz", type=int, default=640, help="square input size in pixels")
    p.add_argument("--runs", type=int, default=20, help="timed passes over the images")
    p.add_argument("--warmup", type=int, default=3, help="untimed passes first")
    p.add_argument("--data", default=None, help="data.yaml whose val images to time on (default: synthetic)")
    p.add_argument("--images", type=int, default=4, help="images per pass")
    p.add_argument("--json", default=None, metavar="FILE", help="also write the rows as JSON")
    p.set_defaults(run=run)


def run(args) -> int:
    import json
    import platform
    from pathlib import Path

    import torch

    from tinydet.cli.common import check_output_file
    from tinydet.errors import TinydetError
    from tinydet.export.bench import bench, format_table
    from tinydet.export.runtime import dataset_images, synthetic_images
    from tinydet.infer.backends import BACKENDS
    from tinydet.infer.outputs import write_atomic

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
