"""Running `tinydet compare` (its arguments: tinydet/cli/compare.py)."""

from __future__ import annotations

import sys
from pathlib import Path

from tinydet.cli.common import check_output_file
from tinydet.eval.compare import markdown_table
from tinydet.eval.params import EvalOptions
from tinydet.eval.runs import evaluate_run
from tinydet.files import write_atomic


def run(args) -> int:
    check_output_file(args.out, "--out", (".md", ".txt"))
    log = lambda msg: print(msg, file=sys.stderr)  # noqa: E731  (stdout is the table)
    evals = [evaluate_run(r, args.split, args.refresh, EvalOptions(blocks=("coco", "aitod")), log) for r in args.runs]
    table = markdown_table(evals)
    print(table)
    if args.out:
        write_atomic(Path(args.out), table + "\n")
    return 0
