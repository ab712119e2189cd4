"""`tinydet demo`: synthetic data, a plain YOLOv8n against tinydet's small-object model, one budget."""

from __future__ import annotations

from tinydet.demo.options import DemoOptions


def register(sub, formatter) -> None:
    d = DemoOptions()
    p = sub.add_parser(
        "demo",
        help="the whole job on built-in synthetic data: train a baseline and a small-object model, compare",
        description="Make a synthetic tiny-object dataset, train YOLOv8n and tinydet's small-object model "
        "under the same budget, evaluate both and print a side-by-side table (mAP50, mAP50-95, AP for objects "
        "under 32x32 px, under 8x8 px). Writes the runs, the table and a picture of predictions under --out.\n"
        "Re-running reuses finished runs.",
        formatter_class=formatter,
    )
    p.add_argument("--out", default=d.out)
    p.add_argument("--images", type=int, default=d.images, help="synthetic training images")
    p.add_argument("--val-images", type=int, default=d.val_images)
    p.add_argument("--density", type=float, default=d.density, help="objects per megapixel of synthetic image")
    p.add_argument("--epochs", type=int, default=d.epochs)
    p.add_argument("--imgsz", type=int, default=d.imgsz)
    p.add_argument("--batch", type=int, default=d.batch)
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--models", nargs="+", default=list(d.models), help="zoo names to compare (first = baseline)")
    p.add_argument("--device", default=None)
