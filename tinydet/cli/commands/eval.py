"""Running `tinydet eval` (its arguments: tinydet/cli/eval.py)."""

from __future__ import annotations

from tinydet.cli.common import check_output_file
from tinydet.eval.format import format_result
from tinydet.eval.io import evaluate_files, write_result_json
from tinydet.eval.params import EvalOptions


def eval_options(args, **extra):
    blocks = tuple(b.strip() for b in args.blocks.split(",") if b.strip())
    return EvalOptions(blocks=blocks, max_dets=args.max_dets, **extra)


def run(args) -> int:
    check_output_file(args.json, "--json", (".json",), [args.gt, args.pred])
    result = evaluate_files(args.gt, args.pred, args.split, eval_options(args), args.category_offset)
    print(format_result(result))
    if args.json:
        write_result_json(args.json, result, gt=args.gt, pred=args.pred, split=args.split)
    return 0
