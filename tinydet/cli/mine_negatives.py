"""`tinydet mine-negatives`: add background that fools a model as labelled-empty training images."""

from __future__ import annotations

from tinydet.cli.dataopts import add_dataset_arguments

DESCRIPTION = """\
Hard-negative mining (docs/toolbox.md). Predicts every training image with --model; a prediction whose IoU with
every ground-truth box (any class, ignore regions included) is below --iou is a false positive on background.
Around the false positives, --crop px windows that stay clear of every labelled object are cut out and placed
on a grey canvas of the source image's size (the scale the model saw is kept). Writes a new YOLO dataset to --out:
the original, copied, plus those images with empty label files under images/train/tinydet_negatives/, and
negatives.json listing every window. The original dataset is only read. Train on --out/data.yaml.

example:
  tinydet mine-negatives --model runs/train/weights/best.pt --data data.yaml --out data_negatives --conf 0.25
"""


def register(sub, formatter) -> None:
    p = sub.add_parser("mine-negatives", help="add the background a model fires on as empty-label training images",
                       description=DESCRIPTION, formatter_class=formatter)
    p.add_argument("--model", required=True, help="checkpoint (.pt) whose false positives are mined")
    add_dataset_arguments(p, positional="--data")
    p.add_argument("--out", required=True, help="new folder for the dataset with negatives (must not exist or be empty)")
    p.add_argument("--iou", type=float, default=0.1,
                   help="a prediction with IoU below this with every ground-truth box is a false positive")
    p.add_argument("--crop", type=int, default=256, help="window side in pixels")
    p.add_argument("--max-per-image", type=int, default=4, help="windows per training image")
    p.add_argument("--margin", type=float, default=2.0, help="pixels a window keeps clear of every labelled box")
    p.add_argument("--conf", type=float, default=0.25, help="confidence threshold of the predictions")
    p.add_argument("--imgsz", type=int, default=640, help="network input size (long side) for prediction")
    p.add_argument("--device", default=None, help="cpu, 0, cuda:0, mps (default: first GPU if any, else cpu)")
