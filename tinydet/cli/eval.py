"""`tinydet eval`: evaluate predictions against ground truth (COCO, AI-TOD buckets, centre distance)."""

from __future__ import annotations


def add_eval_options(p) -> None:
    """Options shared by `eval` and `val`: detection cap of the tiny-object blocks and which blocks to compute."""
    p.add_argument("--max-dets", type=int, default=1500,
                   help="detections per image and class for the aitod and center blocks (AI-TOD uses 1500); "
                        "the coco block always uses 1/10/100")
    p.add_argument("--blocks", default="coco,aitod,center", help="comma-separated subset of coco,aitod,center")


def register(sub, formatter) -> None:
    p = sub.add_parser(
        "eval",
        help="evaluate predictions against ground truth",
        description="Evaluate predictions against ground truth and print three blocks of metrics:\n"
        "  coco    pycocotools' 12 numbers (AP, AP50, AP75, APs/m/l, AR1/10/100, ARs/m/l), exactly\n"
        "  aitod   AP/AR with AI-TOD's tiny-object buckets (very tiny < 8 px, tiny 8-16, small 16-32, medium 32-64)\n"
        "  center  AP with centre-distance matching instead of IoU (tau x object size)\n"
        "plus per-class AP and precision/recall/F1 at the best-F1 confidence.\n\n"
        "GT: a COCO JSON, or a YOLO data.yaml (with --split).\n"
        "PRED: a COCO results JSON, or a folder of YOLO txt files `class cx cy w h conf` (normalised).\n"
        "Category ids: YOLO class i is category id i (0-based); with a COCO GT JSON, prediction category ids\n"
        "must be its category ids (ultralytics' predictions JSON counts from 1: use --category-offset -1).",
        formatter_class=formatter,
    )
    p.add_argument("--gt", required=True, help="COCO ground-truth JSON or YOLO data.yaml")
    p.add_argument("--pred", required=True, help="COCO results JSON or folder of YOLO txt files with confidences")
    p.add_argument("--split", default="val", help="split of a YOLO dataset")
    p.add_argument("--category-offset", type=int, default=0, help="added to every category_id of a results JSON")
    add_eval_options(p)
    p.add_argument("--json", default=None, help="also write all metrics to this JSON file")
