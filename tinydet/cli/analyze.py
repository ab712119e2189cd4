"""`tinydet analyze`: what a dataset holds, what is wrong with it, and what to do about it."""

from __future__ import annotations

from tinydet.cli.dataopts import add_dataset_arguments


def register(sub, formatter) -> None:
    p = sub.add_parser(
        "analyze",
        help="validate a dataset, report object sizes, recommend imgsz / P2 / slicing / anchors",
        description="Read and validate a dataset (YOLO, COCO, VOC or VisDrone), list every problem with file and "
        "line, and report images, instances per class, objects per image, box sizes at native resolution and at "
        "the training imgsz, COCO and AI-TOD size buckets, and recommendations with reasons: training imgsz, "
        "P2 head, slice size and overlap, k-means anchors, class-imbalance handling.\n"
        "A fatal problem stops with exit status 2 unless --skip-bad or --fix is given.",
        formatter_class=formatter,
    )
    add_dataset_arguments(p)
    p.add_argument("--imgsz", type=int, default=640, help="training / inference image size to analyse for (px)")
    p.add_argument("--anchors", type=int, default=9, help="number of k-means anchors")
    p.add_argument("--json", default=None, help="also write the analysis to this JSON file")
    p.add_argument("--plots", default=None, help="write sizes.png, centres.png and classes.png into this folder")
    p.add_argument("--fix", default=None, metavar="OUT",
                   help="write a cleaned copy (bad lines and images left out, duplicates removed, boxes clipped) "
                   "in the same format to this new folder, and analyse that")
