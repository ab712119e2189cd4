"""`tinydet augment-preview`: a grid of training samples as the network sees them, boxes drawn."""

from __future__ import annotations

from tinydet.cli.train import add_recipe_flags


def register(sub, formatter) -> None:
    p = sub.add_parser(
        "augment-preview",
        help="draw augmented training samples (the real training pipeline) with their boxes",
        description="Build ultralytics' training dataset exactly as `tinydet train` would (recipe augmentations,\n"
        "then ultralytics' mosaic, affine, mixup, albumentations, HSV and flips) and draw --samples of its\n"
        "outputs with their boxes into OUT/augment_preview.png (plus OUT/augment_preview.yaml). Takes the\n"
        "recipe flags of `tinydet train`. Shows the first epochs' pipeline: --set mosaic=0 shows the last\n"
        "close_mosaic epochs.",
        formatter_class=formatter,
    )
    p.add_argument("data", help="dataset: YOLO data.yaml, COCO .json, or a VOC/VisDrone folder")
    p.add_argument("--out", required=True, help="folder to create (must be new)")
    p.add_argument("--samples", type=int, default=16, help="how many samples to draw")
    p.add_argument("--columns", type=int, default=None, help="tiles per row (default: a near-square grid)")
    p.add_argument("--model", default="yolov8n", help="model whose strides set the padding (zoo name, YAML or .pt)")
    p.add_argument("--imgsz", type=int, default=640, help="training image size in pixels")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--skip-bad", action="store_true",
                   help="warn about bad labels/images and preview the rest instead of stopping")
    p.add_argument("--recipe-file", default=None, help="YAML recipe, as for `tinydet train`")
    add_recipe_flags(p, " (as in `tinydet train`)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="an ultralytics train argument, e.g. --set mosaic=0 --set degrees=10 (repeatable)")
    p.set_defaults(sync_bn=None)
