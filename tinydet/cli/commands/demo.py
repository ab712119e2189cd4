"""Running `tinydet demo` (its arguments: tinydet/cli/demo.py)."""

from __future__ import annotations

from tinydet.demo.options import DemoOptions
from tinydet.demo.run import run_demo


def run(args) -> int:
    run_demo(DemoOptions(out=args.out, images=args.images, val_images=args.val_images, size=args.imgsz,
                         density=args.density,
                         epochs=args.epochs, imgsz=args.imgsz, batch=args.batch, seed=args.seed,
                         models=tuple(args.models), device=args.device))
    return 0
