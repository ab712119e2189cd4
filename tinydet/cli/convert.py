"""`tinydet convert`: from one dataset format to another, or detection labels to centre-keypoint pose labels."""

from __future__ import annotations

from tinydet.cli.dataopts import add_dataset_arguments


def register(sub, formatter) -> None:
    p = sub.add_parser(
        "convert",
        help="convert a dataset between YOLO, COCO, VOC, VisDrone, or to centre-keypoint pose labels",
        description="Read and validate a dataset, then write it in another format to a new folder (images are "
        "copied; the source is never modified).\n"
        "--to pose writes a YOLO pose dataset whose boxes each carry their centre as one keypoint "
        "(`cls cx cy w h cx cy 2`, kpt_shape [1, 3], flip_idx [0]) for the pose-auxiliary recipe.\n"
        "COCO output: annotations/instances_<split>.json with category id = class index (0-based) unless "
        "--coco-first-id or --coco-keep-ids.",
        formatter_class=formatter,
    )
    add_dataset_arguments(p, positional="data")
    p.add_argument("out", help="new folder to write (must not exist or be empty)")
    p.add_argument("--to", required=True, choices=("yolo", "coco", "voc", "visdrone", "pose"), help="output format")
    p.add_argument("--coco-first-id", type=int, default=0, help="COCO category id of class 0")
    p.add_argument("--coco-keep-ids", action="store_true",
                   help="COCO -> COCO: keep the source's category ids")
