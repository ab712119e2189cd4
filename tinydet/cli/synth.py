"""`tinydet synth`: a deterministic synthetic small-object dataset in YOLO layout."""

from __future__ import annotations


def register(sub, formatter) -> None:
    p = sub.add_parser(
        "synth",
        help="make a synthetic small-object dataset (YOLO layout)",
        description="Write a deterministic synthetic dataset of tiny objects (4 classes, mostly 4-32 px) on "
        "cluttered, textured backgrounds with distractors, in YOLO layout with data.yaml.\n"
        "The same --images/--seed/--size always give identical files.",
        formatter_class=formatter,
    )
    p.add_argument("out", help="new folder to write (must not exist or be empty)")
    p.add_argument("--images", type=int, default=200, help="number of training images")
    p.add_argument("--val-images", type=int, default=None, help="number of validation images (default: images/4, at least 4)")
    p.add_argument("--seed", type=int, default=0, help="random seed")
    p.add_argument("--size", default="320", help="image size, W or WxH in pixels (e.g. 640 or 4000x3000)")
    p.add_argument("--density", type=float, default=120.0, help="objects per megapixel (on average)")
