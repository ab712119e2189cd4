"""Running `tinydet val` (its arguments: tinydet/cli/val.py)."""

from __future__ import annotations

from tinydet.cli.commands.eval import eval_options
from tinydet.cli.common import check_output_file
from tinydet.data.synth import parse_size
from tinydet.errors import TinydetError
from tinydet.eval.format import format_result
from tinydet.eval.io import write_result_json
from tinydet.eval.validate import ValOptions, sliced_predictor, validate
from tinydet.ops.slicing import overlap_problem


def run(args) -> int:
    check_output_file(args.json, "--json", (".json",), [args.model, args.data])
    options = ValOptions(split=args.split, imgsz=args.imgsz or 640, conf=args.conf, iou=args.iou,
                         max_det=args.max_det, device=args.device, nms_free=args.nms_free, eval=eval_options(args))
    predictor = None
    if args.slice:
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
