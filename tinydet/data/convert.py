"""Writing a Dataset in any format, and `convert` (read + validate + write) behind `tinydet convert`.

Every writer writes into a new folder, built in a temporary sibling and renamed into place; image files are
copied (never linked), so nothing done to the output can reach the source.
"""

from __future__ import annotations

from pathlib import Path

from tinydet.data.dataset import Dataset
from tinydet.data.formats import FORMATS
from tinydet.data.options import ReadOptions, WriteOptions
from tinydet.data.outdir import new_folder
from tinydet.errors import TinydetError

TARGETS = FORMATS + ("pose",)


def write_into(dataset: Dataset, root: Path, fmt: str, options: WriteOptions = WriteOptions()) -> Path:
    """Write `dataset` in `fmt` into the existing empty folder `root`; returns the main output file or folder."""
    if fmt == "yolo":
        from tinydet.data.formats.yolo import write_yolo

        return write_yolo(dataset, root)
    if fmt == "coco":
        from tinydet.data.formats.coco import write_coco

        return write_coco(dataset, root, options)
    if fmt == "voc":
        from tinydet.data.formats.voc import write_voc

        return write_voc(dataset, root)
    if fmt == "visdrone":
        from tinydet.data.formats.visdrone import write_visdrone

        return write_visdrone(dataset, root)
    raise TinydetError(f"unknown output format '{fmt}' (known: {', '.join(FORMATS)})")


def write_dataset(dataset: Dataset, out: str | Path, fmt: str, options: WriteOptions = WriteOptions()) -> Path:
    """Write `dataset` in `fmt` to the new folder `out` (atomically). Returns data.yaml for YOLO, else `out`."""
    if fmt not in FORMATS:
        raise TinydetError(f"unknown output format '{fmt}' (known: {', '.join(FORMATS)})")
    with new_folder(out, dataset) as tmp:
        written = write_into(dataset, tmp, fmt, options)
        final = Path(out).expanduser().absolute() / written.relative_to(tmp)
    return final


def convert(src: str | Path, out: str | Path, to: str, src_fmt: str = "auto", skip_bad: bool = False,
            read_options: ReadOptions = ReadOptions(), write_options: WriteOptions = WriteOptions()) -> Path:
    """Read `src` (validated), write it as `to` ('yolo', 'coco', 'voc', 'visdrone' or 'pose') into `out`."""
    from tinydet.data.loading import load_dataset
    from tinydet.data.outdir import check_new_folder

    if to not in TARGETS:
        raise TinydetError(f"unknown output format '{to}' (known: {', '.join(TARGETS)})")
    check_new_folder(out)  # fail before reading a large dataset
    dataset = load_dataset(src, src_fmt, skip_bad=skip_bad, options=read_options)
    if to == "pose":
        from tinydet.data.pose import with_centre_keypoints

        return write_dataset(with_centre_keypoints(dataset), out, "yolo")
    return write_dataset(dataset, out, to, write_options)
