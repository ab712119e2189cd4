"""The one way into tinydet for a dataset: read it in any format and validate it.

`load_dataset` is what every command calls. It reads everything, collecting problems (see
tinydet.data.validate), then either stops on the first fatal one with a DataError naming file and line, or,
with `skip_bad=True`, warns (one DataWarning per kind of problem) and returns the dataset without the bad
lines and images. Non-fatal problems (duplicates removed, boxes clipped to the image, images without label
files) are always warned about. The problems are kept in `Dataset.problems`.
"""

from __future__ import annotations

from pathlib import Path

from tinydet.data.dataset import Dataset
from tinydet.data.formats import FORMATS, detect_format
from tinydet.data.options import ReadOptions
from tinydet.data.validate import ProblemLog, fatal_error
from tinydet.errors import DataError


def read_dataset(path: str | Path, fmt: str = "auto", splits=None, options: ReadOptions = ReadOptions(),
                 log: ProblemLog | None = None) -> Dataset:
    """Read a dataset, logging every problem (nothing raised for bad lines or images; they are left out).

    Args:
        path: a data.yaml, a COCO .json file, or a dataset folder (any format).
        fmt: 'auto' (guess from the path), 'yolo', 'coco', 'voc' or 'visdrone'.
        splits: split names to read (default: all the dataset has).
        options: format options (VisDrone categories, VOC difficult objects, class names, image checks).
        log: where problems go (default: a new log, available afterwards as `dataset.problems`).
    """
    log = log if log is not None else ProblemLog()
    path = Path(path).expanduser()
    fmt = detect_format(path) if fmt == "auto" else FORMATS.check(fmt)
    if not path.exists():
        raise DataError("dataset not found", path)
    splits = None if splits is None else tuple([splits] if isinstance(splits, str) else splits)
    if fmt == "yolo" and path.is_dir() and not (path / "data.yaml").is_file():
        raise DataError("no data.yaml in this folder (a YOLO dataset is read from its data.yaml)", path)
    dataset = FORMATS[fmt].read(path, splits, log, options)
    order: dict = {}
    for problem in log.problems:
        order.setdefault(problem.file, len(order))
    log.problems.sort(key=lambda p: (order[p.file], p.line or 0))  # stable: reading order, then line order
    dataset.problems = log.problems
    if not any(dataset.splits.values()):
        if log.fatal:
            raise fatal_error(log.problems)
        raise DataError("the dataset has no usable images", path)
    return dataset


def load_dataset(path: str | Path, fmt: str = "auto", splits=None, skip_bad: bool = False,
                 options: ReadOptions = ReadOptions()) -> Dataset:
    """Read and validate a dataset (see `read_dataset`).

    A fatal problem raises DataError(message, file, line) unless `skip_bad`, in which case the bad lines and
    images are skipped with a warning. Warnings are DataWarnings (one per kind of problem, with a count and
    the first example); all problems stay in `dataset.problems`.
    """
    log = ProblemLog()
    dataset = read_dataset(path, fmt, splits, options, log)
    if log.fatal and not skip_bad:
        raise fatal_error(log.problems)
    log.warn(skipped=True)
    return dataset
