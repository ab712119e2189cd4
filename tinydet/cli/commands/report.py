"""Running `tinydet report` (its arguments: tinydet/cli/report.py)."""

from __future__ import annotations

from tinydet.cli.common import check_output_file
from tinydet.eval.report import write_report


def run(args) -> int:
    check_output_file(args.out, "--out", (".html", ".htm"))
    out = write_report(args.runs, args.out, split=args.split, refresh=args.refresh, n_samples=args.samples)
    print(f"report written to {out}")
    return 0
