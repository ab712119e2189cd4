"""Running `tinydet compare` (its arguments: tinydet/cli/compare.py)."""

from __future__ import annotations

import sys
from pathlib import Path

from tinydet.cli.common import check_output_file
from tinydet.eval.compare import by_images, markdown_tables
from tinydet.eval.params import EvalOptions
from tinydet.eval.runs import evaluate_run
from tinydet.files import write_atomic


def run(args) -> int:
    check_output_file(args.out, "--out", (".md", ".txt"))
    log = lambda msg: print(msg, file=sys.stderr)  # noqa: E731  (stdout is the table)
    evals = [evaluate_run(r, args.split, args.refresh, EvalOptions(blocks=("coco", "aitod")), log) for r in args.runs]
    sets = len(by_images(evals))
    if sets > 1:
        log(f"tinydet compare: warning: the runs were evaluated on {sets} different image sets (datasets or "
            "splits); one table per set, since numbers across sets are not comparable")
    table = markdown_tables(evals, args.split)
    print(table)
    if args.out:
        write_atomic(Path(args.out), table + "\n")
    return 0
