"""Writing a Dataset in any format, and `convert` (read + validate + write) behind `tinydet convert`.

Every writer writes into a new folder, built in a temporary sibling and renamed into place; image files are
copied (never linked), so nothing done to the output can reach the source.
"""

from __future__ import annotations

from pathlib import Path

from tinydet.data.dataset import Dataset
from tinydet.data.formats import FORMATS
from tinydet.data.loading import load_dataset
from tinydet.data.options import ReadOptions, WriteOptions
from tinydet.data.outdir import check_new_folder, new_folder


def write_into(dataset: Dataset, root: Path, fmt: str, options: WriteOptions = WriteOptions()) -> Path:
    """Write `dataset` in `fmt` into the existing empty folder `root`; returns the main output file or folder."""
    return FORMATS[fmt].write(dataset, root, options)


def write_dataset(dataset: Dataset, out: str | Path, fmt: str, options: WriteOptions = WriteOptions()) -> Path:
    """Write `dataset` in `fmt` to the new folder `out` (atomically). Returns data.yaml for YOLO, else `out`."""
    FORMATS.check(fmt)
    with new_folder(out, dataset) as tmp:
        written = write_into(dataset, tmp, fmt, options)
        final = Path(out).expanduser().absolute() / written.relative_to(tmp)
    return final


def convert(src: str | Path, out: str | Path, to: str, src_fmt: str = "auto", skip_bad: bool = False,
            read_options: ReadOptions = ReadOptions(), write_options: WriteOptions = WriteOptions()) -> Path:
    """Read `src` (validated), write it as `to` ('yolo', 'coco', 'voc' or 'visdrone') into `out`."""
    FORMATS.check(to)
    check_new_folder(out)  # fail before reading a large dataset
    dataset = load_dataset(src, src_fmt, skip_bad=skip_bad, options=read_options)
    return write_dataset(dataset, out, to, write_options)
