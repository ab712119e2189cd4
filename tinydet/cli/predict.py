"""`tinydet predict`: run a checkpoint on images or videos, whole or sliced into tiles, and write the boxes."""

from __future__ import annotations

from tinydet.infer.backends import BACKENDS
from tinydet.ops.methods import MERGES

DESCRIPTION = """\
Predict on an image or video file, a folder or a glob, whole or sliced into overlapping tiles whose boxes are
merged (tiny objects in large images). Writes YOLO txt files (with confidences), a COCO results JSON and/or
images (videos) with boxes drawn.

examples:
  tinydet predict --model best.pt photos/ --save-json
  tinydet predict --model best.pt big.tif --slice 640 --overlap 0.2 --save-img
  tinydet predict --model best.pt val/ --slice auto --data data.yaml --full-image --merge wbf
  tinydet predict --model best.pt 'drone/*.jpg' --slice 512x512 --backend openvino --save-txt
  tinydet predict --model a.pt b.pt photos/ --slice 640 --tta --tta-scales 0.83 1 1.25 --save-json
  tinydet predict --model best.pt photos/ --slice 640 --save-txt --ray --ray-address 10.0.0.1:6379
"""


def register(sub, formatter) -> None:
    p = sub.add_parser("predict", help="predict boxes on images or videos, whole or sliced", description=DESCRIPTION,
                       formatter_class=formatter)
    p.add_argument("source", nargs="?", help="image or video file, folder or glob pattern (quote it)")
    p.add_argument("--model", required=True, nargs="+", metavar="PT",
                   help="checkpoint (.pt); several: an ensemble whose boxes are fused per image")
    p.add_argument("--slice", default=None, metavar="W[xH]|auto",
                   help="tile size in pixels; 'auto' takes it from the dataset analysis of --data; "
                   "not given: predict whole images")
    p.add_argument("--overlap", type=float, default=None,
                   help="overlap between neighbouring tiles, 0-1 (default: 0.2, or the analysis' with --slice auto)")
    p.add_argument("--full-image", action="store_true", help="also predict the whole image and merge it with the tiles")
    p.add_argument("--data", default=None, help="dataset (data.yaml) for --slice auto")
    p.add_argument("--merge", default="greedy-nmm", choices=list(MERGES), help="how boxes of different tiles are merged")
    p.add_argument("--match", default=None, choices=["iou", "ios", "diou"],
                   help="similarity the merge matches boxes by (default: ios for nmm/greedy-nmm, iou otherwise)")
    p.add_argument("--agnostic", action="store_true", help="merge boxes of different classes too")
    p.add_argument("--conf", type=float, default=0.25, help="confidence threshold")
    p.add_argument("--iou", type=float, default=None,
                   help="merge threshold when slicing (default: 0.5); NMS IoU for whole images (default: 0.7)")
    p.add_argument("--tile-iou", type=float, default=0.7, help="NMS IoU inside each tile when slicing")
    p.add_argument("--imgsz", type=int, default=None,
                   help="network input size (default: tiles at their own size, whole images at 640)")
    p.add_argument("--max-det", type=int, default=300, help="boxes kept per tile (per image when not slicing)")
    p.add_argument("--nms-free", action="store_true",
                   help="YOLO26-style models: boxes from the end-to-end (one-to-one) head, with no NMS "
                   "(default: the one-to-many head and NMS, as ultralytics does)")
    p.add_argument("--batch", type=int, default=4, help="tiles per forward pass")
    p.add_argument("--backend", default="torch", choices=list(BACKENDS),
                   help="onnxruntime/openvino export the checkpoint once (cached next to it)")
    p.add_argument("--device", default=None, help="cpu, 0, cuda:0, mps (default: first GPU if any, else cpu)")
    p.add_argument("--half", action="store_true",
                   help="reduced precision: fp16 for torch on CUDA, bf16/f16 for openvino (faster, boxes may move slightly)")
    p.add_argument("--max-pixels", type=int, default=None,
                   help="largest image (pixels) decoded whole; TIFFs are read by region (default: 1e9)")
    e = p.add_argument_group("ensembles and test-time augmentation (docs/inference.md)")
    e.add_argument("--ensemble-merge", default="wbf", choices=list(MERGES),
                   help="how the boxes of several models / TTA views are fused")
    e.add_argument("--ensemble-match", default=None, choices=["iou", "ios", "diou"],
                   help="similarity of that fusion (default: the merge's own)")
    e.add_argument("--ensemble-iou", type=float, default=0.55, help="match threshold of that fusion")
    e.add_argument("--ensemble-conf", default="avg", choices=["avg", "max"], help="WBF's fused score")
    e.add_argument("--no-vote", action="store_true",
                   help="keep fused scores as they are (default: times the share of passes that found the box)")
    e.add_argument("--tta", action="store_true", help="test-time augmentation: add mirrored views (and --tta-scales)")
    e.add_argument("--tta-scales", type=float, nargs="+", default=None, metavar="S",
                   help="image scales of the views (default with --tta: 0.83 1 1.25; without --tta: 1)")
    r = p.add_argument_group("batch inference on a Ray cluster (docs/scaling.md; needs tinydet[ray])")
    r.add_argument("--ray", action="store_true", help="spread the images over the workers of a Ray cluster")
    r.add_argument("--ray-address", default=None, metavar="ADDRESS",
                   help="cluster to join (host:port, ray://host:10001, auto); default: $RAY_ADDRESS, a cluster "
                   "started on this machine with `ray start`, or a new local one")
    r.add_argument("--ray-workers", type=int, default=None,
                   help="workers (each loads the models once; default: the cluster's CPUs / --ray-cpus)")
    r.add_argument("--ray-cpus", type=float, default=1.0, help="CPUs per worker (its torch threads)")
    r.add_argument("--ray-gpus", type=float, default=0.0, help="GPUs per worker (0.5: two workers share one)")
    p.add_argument("--out", default=None,
                   help="output folder (default: runs/predict, or runs/predict2, ... when that exists); a run that "
                   "would overwrite files there, or write two sources' outputs to one file, stops before it starts")
    p.add_argument("--exist-ok", action="store_true",
                   help="overwrite outputs of an earlier run in --out (source images are never overwritten)")
    p.add_argument("--skip-bad", action="store_true",
                   help="warn about an unreadable image and go on (default: stop at it, without predictions.json)")
    p.add_argument("--save-txt", action="store_true", help="labels/<image>.txt: class cx cy w h conf (normalised)")
    p.add_argument("--save-json", action="store_true",
                   help="predictions.json, COCO results (image_id = file name, category_id = class index, "
                   "unless --coco-gt)")
    p.add_argument("--coco-gt", default=None, metavar="FILE",
                   help="COCO ground truth whose image and category ids predictions.json should use")
    p.add_argument("--save-img", action="store_true", help="images (and videos) with boxes drawn")
