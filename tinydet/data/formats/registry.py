"""`FORMATS`: every dataset format by name, with its reader and its writer (each format file registers itself).

    FORMATS["coco"].read(path, splits, log, options) -> Dataset
    FORMATS["coco"].write(dataset, root, options) -> the main file or folder written into `root`
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tinydet.data.dataset import Dataset
from tinydet.data.options import ReadOptions, WriteOptions
from tinydet.data.validate import ProblemLog
from tinydet.registry import Registry


@dataclass(frozen=True)
class Format:
    """read(path, splits or None, log, ReadOptions) -> Dataset; write(dataset, empty folder, WriteOptions) -> Path."""

    read: Callable[[Path, tuple[str, ...] | None, ProblemLog, ReadOptions], Dataset]
    write: Callable[[Dataset, Path, WriteOptions], Path]


FORMATS: Registry[Format] = Registry("dataset format")
