"""`tinydet val`: predict a dataset split with a checkpoint and evaluate it with tinydet's metrics."""

from __future__ import annotations

from tinydet.cli.eval import add_eval_options, eval_options


def register(sub, formatter) -> None:
    p = sub.add_parser(
        "val",
        help="evaluate a checkpoint on a dataset split",
        description="Predict every image of a split of a YOLO dataset (whole, or sliced with --slice) and report\n"
        "the coco, aitod and center blocks, per-class AP and the best-F1 point (see `tinydet eval --help`).",
        formatter_class=formatter,
    )
    p.add_argument("--model", required=True, help="checkpoint (.pt)")
    p.add_argument("--data", required=True, help="data.yaml of a YOLO dataset")
    p.add_argument("--split", default="val", choices=("train", "val", "test"))
    p.add_argument("--imgsz", type=int, default=None, metavar="PX",
                   help="network input size (default: 640 for whole images; each tile's own size with --slice)")
    p.add_argument("--conf", type=float, default=0.001, help="confidence threshold (keep low for mAP)")
    p.add_argument("--iou", type=float, default=0.7, help="NMS IoU threshold")
    p.add_argument("--max-det", type=int, default=300, help="boxes the model keeps per image (prediction)")
    p.add_argument("--device", default=None)
    p.add_argument("--nms-free", action="store_true",
                   help="YOLO26-style models: boxes from the end-to-end (one-to-one) head, with no NMS "
                   "(default: the one-to-many head and NMS, as ultralytics does)")
    p.add_argument("--slice", default=None, metavar="W[xH]", help="predict on tiles of this size (sliced inference)")
    p.add_argument("--overlap", type=float, default=None, metavar="R", help="overlap ratio of tiles (with --slice)")
    p.add_argument("--merge", default=None, metavar="NAME", help="how tile predictions are merged (with --slice)")
    add_eval_options(p)
    p.add_argument("--json", default=None, help="also write all metrics to this JSON file")
    p.set_defaults(run=run)


def run(args) -> int:
    from tinydet.cli.common import check_output_file
    from tinydet.errors import TinydetError
    from tinydet.eval.format import format_result
    from tinydet.eval.io import write_result_json
    from tinydet.eval.validate import ValOptions, sliced_predictor, validate

    check_output_file(args.json, "--json", (".json",), [args.model, args.data])
    options = ValOptions(split=args.split, imgsz=args.imgsz or 640, conf=args.conf, iou=args.iou,
                         max_det=args.max_det, device=args.device, nms_free=args.nms_free, eval=eval_options(args))
    predictor = None
    if args.slice:
        from tinydet.data.synth import parse_size
        from tinydet.ops.slicing import overlap_problem

        overlap = 0.2 if args.overlap is None else args.overlap
        if overlap_problem(overlap):
            raise TinydetError(overlap_problem(overlap))
        predictor = sliced_predictor(args.model, parse_size(args.slice), overlap, args.merge, options,
                                     imgsz=args.imgsz)
    elif args.overlap is not None or args.merge is not None:
        raise TinydetError("--overlap and --merge apply to sliced validation: add --slice W[xH]")
    result = validate(args.model, args.data, options, predictor=predictor, progress=True)
    print(format_result(result))
    if args.json:
        imgsz = args.imgsz if args.slice else options.imgsz  # None with --slice: each tile at its own size
        write_result_json(args.json, result, model=args.model, data=args.data, split=args.split, imgsz=imgsz,
                          slice=args.slice or "")
    return 0
