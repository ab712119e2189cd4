"""Running `tinydet export` (its arguments: tinydet/cli/export.py)."""

from __future__ import annotations

from tinydet.errors import TinydetError
from tinydet.export import ExportSpec, export_model


def run(args) -> int:
    if args.images < 1:
        raise TinydetError(f"--images must be at least 1, got {args.images}")
    spec = ExportSpec(format=args.format, imgsz=args.imgsz, half=args.half, int8=args.int8, data=args.data,
                      dynamic=args.dynamic)
    report = export_model(args.model, spec, args.out, check=not args.no_check, parity_images=args.images,
                          conf=args.conf)
    print(f"exported {args.model} -> {report.artifact.path} ({args.format}, {spec.precision})")
    if report.parity is None:
        print("parity: not checked (tinydet cannot run TensorRT engines itself)")
    else:
        print(report.parity.summary())
        for failure in report.parity.failures:
            print(f"  warning: {failure}")
    if report.int8 is not None:
        print(report.int8.summary())
    return 0
