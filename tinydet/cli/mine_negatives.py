"""`tinydet mine-negatives`: add background that fools a model as labelled-empty training images."""

from __future__ import annotations

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
    from tinydet.cli.dataopts import add_dataset_arguments

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
    p.set_defaults(run=run)


def make_predictor(args):
    """predict(files) -> (file, Detections in its pixels), whole images through the checkpoint."""
    from pathlib import Path

    from tqdm import tqdm

    from tinydet.errors import TinydetError
    from tinydet.infer.sliced import SliceOptions, SlicedPredictor

    if not Path(args.model).is_file():
        raise TinydetError(f"--model: checkpoint not found: {args.model}")
    predictor = SlicedPredictor(args.model, SliceOptions(slice=None, imgsz=args.imgsz, conf=args.conf,
                                                          device=args.device))

    def predict(files):
        for file in tqdm(files, desc="mine-negatives", unit="img"):
            yield file, predictor(file)

    return predict


def run(args) -> int:
    import json
    import sys

    from tinydet.cli.dataopts import data_warnings_printed, load
    from tinydet.data.negatives import MANIFEST, MiningOptions, mine_negatives
    from tinydet.data.outdir import check_new_folder
    from tinydet.errors import TinydetError

    if not args.data:
        raise TinydetError("--data is required (the dataset whose training images are mined)")
    if not 0 <= args.conf <= 1:
        raise TinydetError(f"--conf must be in [0, 1], got {args.conf}")
    options = MiningOptions(iou=args.iou, crop=args.crop, max_per_image=args.max_per_image, margin=args.margin)
    check_new_folder(args.out)  # before reading the data or loading the model
    with data_warnings_printed("mine-negatives"):
        dataset = load("mine-negatives", args)
        predict = make_predictor(args)
        info = {"model": str(args.model), "conf": args.conf, "imgsz": args.imgsz}
        data_yaml = mine_negatives(dataset, predict, args.out, options, info)
    manifest = json.loads((data_yaml.parent / MANIFEST).read_text())
    print(f"{manifest['negative_images']} negative images ({manifest['windows']} windows) from "
          f"{manifest['train_images']} training images", file=sys.stderr)
    print(data_yaml)
    return 0
