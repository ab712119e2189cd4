"""Running `tinydet analyze` (its arguments: tinydet/cli/analyze.py)."""

from __future__ import annotations

import sys

from tinydet.cli.commands.dataopts import data_warnings_printed, read_options
from tinydet.cli.common import check_output_file
from tinydet.data.analysis import analyze
from tinydet.data.convert import write_dataset
from tinydet.data.loading import read_dataset
from tinydet.data.outdir import check_new_folder
from tinydet.data.plots import check_plots_folder, write_plots
from tinydet.data.recommend import AnalysisOptions
from tinydet.data.summary import format_analysis
from tinydet.data.validate import fatal_error
from tinydet.errors import TinydetError

MAX_LISTED = 100  # problems printed one per line; all of them go to --json (problem_list)


def run(args) -> int:
    if args.anchors < 1:
        raise TinydetError(f"--anchors must be at least 1, got {args.anchors}")
    check_output_file(args.json, "--json", (".json",), [args.data])
    if args.plots:
        check_plots_folder(args.plots)
    if args.fix:
        check_new_folder(args.fix)
    dataset = read_dataset(args.data, args.fmt, args.split, read_options(args))
    for problem in dataset.problems[:MAX_LISTED]:
        level = ("skipped" if args.skip_bad or args.fix else "problem") if problem.fatal else "warning"
        print(f"tinydet analyze: {level}: {problem}", file=sys.stderr)
    if len(dataset.problems) > MAX_LISTED:
        print(f"tinydet analyze: ... and {len(dataset.problems) - MAX_LISTED} more problems (all in --json)",
              file=sys.stderr)
    if any(p.fatal for p in dataset.problems) and not (args.skip_bad or args.fix):
        raise fatal_error(dataset.problems)
    with data_warnings_printed("analyze"):
        if args.fix:
            written = write_dataset(dataset, args.fix, dataset.format)
            print(f"cleaned copy: {written}", file=sys.stderr)
        analysis = analyze(dataset, args.imgsz, AnalysisOptions(anchors=args.anchors))
        print(format_analysis(analysis))
        if args.json:
            print(f"json: {analysis.write_json(args.json)}", file=sys.stderr)
        if args.plots:
            for path in write_plots(analysis, args.plots):
                print(f"plot: {path}", file=sys.stderr)
    return 0
