"""Dataset arguments shared by analyze, convert and slice: format, splits, format options, --skip-bad.

Also how these commands report validation problems: one line per kind of problem on stderr (count and first
example), then either the one-line error (exit status 2) or, with --skip-bad, on with the bad items skipped.
"""

from __future__ import annotations

import sys
import warnings
from contextlib import contextmanager

FORMAT_CHOICES = ("auto", "yolo", "coco", "voc", "visdrone")


def add_dataset_arguments(p, positional: str = "data") -> None:
    p.add_argument(positional, help="dataset: a data.yaml, a COCO .json, or a dataset folder (any format)")
    p.add_argument("--from", dest="fmt", default="auto", choices=FORMAT_CHOICES, help="format of the dataset")
    p.add_argument("--split", action="append", default=None, help="read only this split (repeatable)")
    p.add_argument("--skip-bad", action="store_true",
                   help="skip bad label lines and unreadable images with a warning instead of stopping")
    p.add_argument("--decode", action="store_true", help="decode every image fully to find corrupt ones (slower)")
    g = p.add_argument_group("format options")
    g.add_argument("--names", default=None,
                   help="comma-separated class names in index order (VOC: class order; VisDrone: categories 1, 2, ...)")
    g.add_argument("--images", default=None, help="COCO: folder that the images' file_name entries are relative to")
    g.add_argument("--visdrone-ignored", default="ignore", choices=("ignore", "drop"),
                   help="VisDrone category 0 (ignored regions): keep as ignore regions, or drop")
    g.add_argument("--visdrone-others", default="ignore", choices=("ignore", "drop", "class"),
                   help="VisDrone category 11 (others): ignore regions, drop, or an 11th class 'others'")
    g.add_argument("--voc-difficult", default="keep", choices=("keep", "ignore", "drop"),
                   help="VOC objects marked difficult: ordinary boxes, ignore regions, or dropped")


def read_options(args):
    from pathlib import Path

    from tinydet.data.options import ReadOptions

    names = tuple(n.strip() for n in args.names.split(",")) if args.names else None
    return ReadOptions(names=names, images=Path(args.images) if args.images else None,
                       visdrone_ignored=args.visdrone_ignored, visdrone_others=args.visdrone_others,
                       voc_difficult=args.voc_difficult, decode=args.decode)


def print_problems(command: str, problems, skipped: bool) -> None:
    from tinydet.data.validate import summarize

    for line in summarize(problems, skipped=skipped):
        print(f"tinydet {command}: warning: {line}", file=sys.stderr)


@contextmanager
def data_warnings_printed(command: str):
    """Print DataWarnings raised inside (e.g. by writers) as one-line warnings on stderr."""
    from tinydet.data.validate import DataWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DataWarning)
        try:
            yield
        finally:
            for w in caught:
                if issubclass(w.category, DataWarning):
                    print(f"tinydet {command}: warning: {w.message}", file=sys.stderr)
                else:
                    warnings.showwarning(w.message, w.category, w.filename, w.lineno)


def load(command: str, args):
    """Read and validate the dataset named by `args`; print its problems; stop on a fatal one unless --skip-bad."""
    from tinydet.data.loading import read_dataset
    from tinydet.data.validate import fatal_error

    dataset = read_dataset(args.data, args.fmt, args.split, read_options(args))
    fatal = [p for p in dataset.problems if p.fatal]
    print_problems(command, dataset.problems, skipped=args.skip_bad)
    if fatal and not args.skip_bad:
        raise fatal_error(dataset.problems)
    return dataset
