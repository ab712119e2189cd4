"""`tinydet train`: train a zoo model or YAML on a YOLO dataset, optionally with a small-object recipe."""

from __future__ import annotations

from tinydet.cli.common import parse_overrides

# Recipe options: (flag, dest, type, help). Defaults live in tinydet.train.recipe.Recipe; flags default to None
# so that only the ones given override a --recipe-file.
RECIPE_FLAGS = (
    ("--recipe", "recipe", str, "default | pose-aux: train the config's pose twin on box-centre keypoints with "
     "low box/DFL gains, then convert to a detect model with zero inference overhead (weights/best_detect.pt)"),
    ("--box-loss", "box_loss", str, "ciou | diou | giou | nwd | nwd-ciou (default ciou)"),
    ("--nwd-c", "nwd_c", float, "NWD constant C in pixels (default 12.8, Wang et al. 2021)"),
    ("--nwd-ratio", "nwd_ratio", float, "weight of NWD in the nwd-ciou blend (default 0.5)"),
    ("--assigner-metric", "assigner_metric", str, "iou | nwd: localisation term of the task-aligned assigner"),
    ("--assigner", "assigner", str, "tal | atss: which anchors learn each box; atss = adaptive training sample "
     "selection (Zhang et al. 2020), default tal"),
    ("--atss-topk", "atss_topk", int, "ATSS: candidate anchors per pyramid level and box (default 9)"),
    ("--tal-alpha", "tal_alpha", float, "task-aligned assigner: exponent of the class score (default 0.5)"),
    ("--tal-beta", "tal_beta", float, "task-aligned assigner: exponent of the IoU (default 6.0)"),
    ("--tal-topk", "tal_topk", int, "task-aligned assigner: candidates per box (default 10)"),
    ("--cls-loss", "cls_loss", str, "bce | focal | varifocal | qfl (default bce)"),
    ("--focal-gamma", "focal_gamma", float, "gamma of focal/varifocal/qfl (default: the paper's, 2.0)"),
    ("--focal-alpha", "focal_alpha", float, "alpha of focal (0.25) / varifocal (0.75)"),
    ("--label-smoothing", "label_smoothing", float, "EPS: targets t -> t(1-EPS) + EPS/2 (default 0)"),
    ("--pose-box-gain", "pose_box_gain", float, "pose-aux: box loss gain of the pose run (default 0.01)"),
    ("--pose-dfl-gain", "pose_dfl_gain", float, "pose-aux: DFL loss gain of the pose run (default 0.01)"),
    ("--geo-mixup", "geo_mixup", float, "probability of geometry-preserving mixup, ratio ~ Beta(1.5, 1.5)"),
    ("--small-copy-paste", "small_copy_paste", float, "probability of pasting small objects where they overlap nothing"),
    ("--copy-paste-max", "copy_paste_max", int, "at most this many pasted objects per image (default 10)"),
    ("--copy-paste-max-size", "copy_paste_max_size", float, "paste only objects with sqrt(area) <= this (px, default 32)"),
    ("--fitness", "fitness", str, "metric that picks best.pt: ultralytics (default) or a tinydet metric, e.g. APs; "
     "computed on sliced predictions with --val-slice"),
    # the toolbox (docs/toolbox.md)
    ("--ssd-expand", "ssd_expand", float, "probability of SSD zoom-out: mean-colour canvas up to --ssd-expand-max "
     "times larger, resized back"),
    ("--ssd-expand-max", "ssd_expand_max", float, "largest SSD expand ratio (default 4)"),
    ("--ssd-crop", "ssd_crop", float, "probability of SSD's minimum-IoU random crop, resized back to the long side"),
    ("--ssd-crop-min-scale", "ssd_crop_min_scale", float, "smallest crop side as a fraction of the image's (default 0.3)"),
    ("--scale-jitter", "scale_jitter", float, "probability of rescaling by s ~ U(--scale-jitter-min, --scale-jitter-max)"),
    ("--scale-jitter-min", "scale_jitter_min", float, "lower end of the scale range (default 0.5)"),
    ("--scale-jitter-max", "scale_jitter_max", float, "upper end of the scale range (default 1.5)"),
    ("--min-object-size", "min_object_size", float, "px, sqrt(w*h): SSD expand and scale jitter never shrink an "
     "object below it (default 8; 0 = no limit)"),
    ("--erase", "erase", float, "probability of random erasing; objects left less than --erase-min-visible lose "
     "their label"),
    ("--erase-holes", "erase_holes", int, "rectangles erased per image (default 1)"),
    ("--erase-max-area", "erase_max_area", float, "largest hole as a fraction of the image area (default 0.2)"),
    ("--erase-min-visible", "erase_min_visible", float, "visible fraction below which an erased object loses its "
     "label (default 0.5)"),
    ("--erase-fill", "erase_fill", str, "noise | grey (default noise)"),
    ("--albumentations", "albumentations", str, "YAML file with a list of albumentations transforms, handed to "
     "ultralytics' augmentations argument (needs albumentations installed)"),
    ("--repeat-factor-t", "repeat_factor_t", float, "repeat-factor sampling threshold t (LVIS): images with rare "
     "classes repeated max(1, sqrt(t/f)) times (default 0 = off)"),
    ("--distill-from", "distill_from", str, "teacher checkpoint (.pt, same classes) to distil from: class and DFL "
     "box KL plus neck feature MSE at the strides both share (docs/compress.md)"),
    ("--distill-logit", "distill_logit", float, "weight of the class + box-distribution KL terms (default 1.0)"),
    ("--distill-feature", "distill_feature", float, "weight of the neck feature MSE term (default 1.0)"),
    ("--distill-t", "distill_t", float, "temperature of the KL terms (default 2.0)"),
    ("--class-weight-power", "class_weight_power", float, "ultralytics' cls_pw: classification loss weights "
     "(1/n_c)^P, normalised to mean 1 (default 0 = off)"),
)


# Sliced validation (recipe fields val_*, tinydet/train/sliced_val.py): `tinydet train` only.
SLICED_VAL_FLAGS = (
    ("--val-slice", "val_slice", str, "after each validation also predict the val split in tiles of this "
     "size (as `tinydet val --slice`) and pick best.pt / stop early on --fitness of those predictions; "
     "results.csv gets sliced/<metric> columns"),
    ("--val-overlap", "val_overlap", float, "overlap ratio of the validation tiles (default 0.2, as val --overlap)"),
    ("--val-slice-imgsz", "val_slice_imgsz", int, "network input of a validation tile in px (default: the tile's "
     "own size, as val --slice without --imgsz)"),
    ("--val-merge", "val_merge", str, "how validation tile predictions are merged (default greedy-nmm, as "
     "val --merge)"),
    ("--val-slice-every", "val_slice_every", int, "validate sliced every K epochs and at the last; other epochs "
     "cannot become best.pt (default 1)"),
)


def add_recipe_flags(parser, title: str):
    """The recipe flags (RECIPE_FLAGS and --random-interp) as an argument group of `parser`; returns the group."""
    group = parser.add_argument_group(title)
    for flag, dest, kind, text in RECIPE_FLAGS:
        group.add_argument(flag, dest=dest, type=kind, default=None, help=text)
    group.add_argument("--random-interp", dest="random_interp", action="store_true", default=None,
                       help="resize training images with a random interpolation method")
    return group


def register(sub, formatter) -> None:
    p = sub.add_parser(
        "train",
        help="train a model (zoo name, YAML or checkpoint) on a dataset",
        description="Train with ultralytics' trainer into one run folder (weights/best.pt, weights/last.pt, "
        "results.csv with tinydet's small-object metrics every epoch, tinydet_run.yaml with every option).\n"
        "An interrupted run continues with --resume RUN_DIR.\n\n"
        "Recipe options come from --recipe-file (YAML: these options by name, plus an 'ultralytics:' mapping),\n"
        "then from the flags below, which win. Any ultralytics argument passes through with --set KEY=VALUE:\n"
        "e.g. cos_lr=true warmup_epochs=3 (cosine LR with warmup), nbs=64 (gradient accumulation to a nominal\n"
        "batch), multi_scale=0.5 (multi-scale training range), mixup=0.1 (ultralytics' same-size mixup).\n"
        "EMA of the weights is always on in ultralytics. The toolbox options are explained in docs/toolbox.md.",
        formatter_class=formatter,
    )
    p.add_argument("--data", help="dataset: YOLO data.yaml, COCO .json, or a VOC/VisDrone folder (non-YOLO data "
                   "is converted into RUN/data first)")
    p.add_argument("--model", default="yolov8n", help="zoo name (see `tinydet models`), model YAML or .pt checkpoint")
    p.add_argument("--epochs", type=int, default=100)
    p.add_argument("--imgsz", type=int, default=640, help="training image size in pixels")
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--out", default="runs/train", help="run folder to create (must be new)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default=None, help="cpu, 0, 0,1 ... (default: first GPU if any, else cpu)")
    p.add_argument("--workers", type=int, default=4, help="dataloader workers (ultralytics uses 0 on CPU)")
    p.add_argument("--patience", type=int, default=100, help="stop after this many epochs without improvement")
    p.add_argument("--resume", metavar="RUN_DIR", default=None, help="continue an interrupted run")
    p.add_argument("--skip-bad", action="store_true",
                   help="warn about bad labels/images and train on a cleaned copy (RUN/data) instead of stopping")
    p.add_argument("--recipe-file", default=None, help="YAML recipe (e.g. the best trial written by `tinydet tune`)")
    group = add_recipe_flags(p, "recipe options (default: plain ultralytics training)")
    group.add_argument("--no-sync-bn", dest="sync_bn", action="store_false", default=None,
                       help="keep plain BatchNorm under multi-GPU DDP (default: SyncBatchNorm)")
    sliced = p.add_argument_group("sliced validation (best.pt chosen on tiled predictions; see docs/training.md)")
    metavars = {"val_slice": "W[xH]", "val_overlap": "R", "val_slice_imgsz": "PX", "val_merge": "NAME",
                "val_slice_every": "K"}
    for flag, dest, kind, text in SLICED_VAL_FLAGS:
        sliced.add_argument(flag, dest=dest, type=kind, default=None, metavar=metavars[dest], help=text)
    p.add_argument(
        "--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
        help="any other ultralytics train argument, e.g. --set mosaic=0.5 --set lr0=0.02 (repeatable)",
    )
    p.set_defaults(run=run)


def recipe_from_args(args):
    """The Recipe of a `tinydet train` command line: --recipe-file first, then the flags that were given."""
    from tinydet.train.recipe import Recipe, load_recipe_file

    base = load_recipe_file(args.recipe_file).to_dict() if args.recipe_file else {}
    dests = [dest for _, dest, _, _ in RECIPE_FLAGS + SLICED_VAL_FLAGS] + ["random_interp", "sync_bn"]
    base.update({d: getattr(args, d) for d in dests if getattr(args, d, None) is not None})
    return Recipe.from_dict(base)


def run(args) -> int:
    from tinydet.errors import TinydetError
    from tinydet.train.api import TrainOptions, resume, train

    if args.resume:
        result = resume(args.resume)
    else:
        if not args.data:
            raise TinydetError("--data is required (a data.yaml), unless you --resume a run")
        opts = TrainOptions(
            data=args.data, model=args.model, epochs=args.epochs, imgsz=args.imgsz, batch=args.batch,
            out=args.out, seed=args.seed, device=args.device, workers=args.workers, patience=args.patience,
            skip_bad=args.skip_bad, recipe=recipe_from_args(args), overrides=parse_overrides(args.overrides),
        )
        result = train(opts)
    print(f"best checkpoint: {result.best}")
    return 0
