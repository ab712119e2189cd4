"""Running `tinydet mine-negatives` (its arguments: tinydet/cli/mine_negatives.py)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from tqdm import tqdm

from tinydet.cli.commands.dataopts import data_warnings_printed, load
from tinydet.data.negatives import MANIFEST, MiningOptions, mine_negatives
from tinydet.data.outdir import check_new_folder
from tinydet.errors import TinydetError
from tinydet.infer.sliced import SlicedPredictor, SliceOptions


def make_predictor(args):
    """predict(files) -> (file, Detections in its pixels), whole images through the checkpoint."""
    if not Path(args.model).is_file():
        raise TinydetError(f"--model: checkpoint not found: {args.model}")
    predictor = SlicedPredictor(args.model, SliceOptions(slice=None, imgsz=args.imgsz, conf=args.conf,
                                                          device=args.device))

    def predict(files):
        for file in tqdm(files, desc="mine-negatives", unit="img"):
            yield file, predictor(file)

    return predict


def run(args) -> int:
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
