"""`tinydet analyze`: what a dataset holds, what is wrong with it, and what to do about it."""

from __future__ import annotations

from tinydet.cli.dataopts import add_dataset_arguments

MAX_LISTED = 100  # problems printed one per line; all of them go to --json (problem_list)


def register(sub, formatter) -> None:
    p = sub.add_parser(
        "analyze",
        help="validate a dataset, report object sizes, recommend imgsz / P2 / slicing / anchors",
        description="Read and validate a dataset (YOLO, COCO, VOC or VisDrone), list every problem with file and "
        "line, and report images, instances per class, objects per image, box sizes at native resolution and at "
        "the training imgsz, COCO and AI-TOD size buckets, and recommendations with reasons: training imgsz, "
        "P2 head, slice size and overlap, k-means anchors, class-imbalance handling.\n"
        "A fatal problem stops with exit status 2 unless --skip-bad or --fix is given.",
        formatter_class=formatter,
    )
    add_dataset_arguments(p)
    p.add_argument("--imgsz", type=int, default=640, help="training / inference image size to analyse for (px)")
    p.add_argument("--anchors", type=int, default=9, help="number of k-means anchors")
    p.add_argument("--json", default=None, help="also write the analysis to this JSON file")
    p.add_argument("--plots", default=None, help="write sizes.png, centres.png and classes.png into this folder")
    p.add_argument("--fix", default=None, metavar="OUT",
                   help="write a cleaned copy (bad lines and images left out, duplicates removed, boxes clipped) "
                   "in the same format to this new folder, and analyse that")
    p.set_defaults(run=run)


def run(args) -> int:
    import sys

    from tinydet.cli.common import check_output_file
    from tinydet.cli.dataopts import data_warnings_printed, read_options
    from tinydet.data.analysis import analyze
    from tinydet.data.loading import read_dataset
    from tinydet.data.outdir import check_new_folder
    from tinydet.data.plots import check_plots_folder
    from tinydet.data.recommend import AnalysisOptions
    from tinydet.data.summary import format_analysis
    from tinydet.data.validate import fatal_error
    from tinydet.errors import TinydetError

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
            from tinydet.data.convert import write_dataset

            written = write_dataset(dataset, args.fix, dataset.format)
            print(f"cleaned copy: {written}", file=sys.stderr)
        analysis = analyze(dataset, args.imgsz, AnalysisOptions(anchors=args.anchors))
        print(format_analysis(analysis))
        if args.json:
            print(f"json: {analysis.write_json(args.json)}", file=sys.stderr)
        if args.plots:
            from tinydet.data.plots import write_plots

            for path in write_plots(analysis, args.plots):
                print(f"plot: {path}", file=sys.stderr)
    return 0
