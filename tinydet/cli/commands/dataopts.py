"""Running `tinydet dataopts` (its arguments: tinydet/cli/dataopts.py)."""

from __future__ import annotations

import sys
import warnings
from contextlib import contextmanager
from pathlib import Path

from tinydet.data.loading import read_dataset
from tinydet.data.options import ReadOptions
from tinydet.data.validate import DataWarning, fatal_error, summarize


def read_options(args):
    names = tuple(n.strip() for n in args.names.split(",")) if args.names else None
    return ReadOptions(names=names, images=Path(args.images) if args.images else None,
                       visdrone_ignored=args.visdrone_ignored, visdrone_others=args.visdrone_others,
                       voc_difficult=args.voc_difficult, decode=args.decode)


def print_problems(command: str, problems, skipped: bool) -> None:
    for line in summarize(problems, skipped=skipped):
        print(f"tinydet {command}: warning: {line}", file=sys.stderr)


@contextmanager
def data_warnings_printed(command: str):
    """Print DataWarnings raised inside (e.g. by writers) as one-line warnings on stderr."""
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
    dataset = read_dataset(args.data, args.fmt, args.split, read_options(args))
    fatal = [p for p in dataset.problems if p.fatal]
    print_problems(command, dataset.problems, skipped=args.skip_bad)
    if fatal and not args.skip_bad:
        raise fatal_error(dataset.problems)
    return dataset
