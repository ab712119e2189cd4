"""Dataset formats: one reader and one writer per format, all through tinydet.data.dataset.

`FORMATS` (formats/registry.py) maps each format name to its reader and writer; importing this package
registers all four. `detect_format` guesses the format of a path.
"""

from __future__ import annotations

from pathlib import Path

from tinydet.data.formats import coco, visdrone, voc, yolo  # noqa: F401  (each registers its format)
from tinydet.data.formats.registry import FORMATS, Format
from tinydet.data.formats.visdrone import is_split_folder
from tinydet.errors import DataError

__all__ = ["FORMATS", "Format", "detect_format"]



def detect_format(path: str | Path) -> str:
    """'yolo' for a .yaml file or a folder with data.yaml, 'coco' for a .json file or a folder of them, 'voc' for
    a folder with Annotations/, 'visdrone' for a folder with images/ + annotations/ (or sub-folders that have)."""
    p = Path(path)
    if not p.exists():
        raise DataError("dataset not found", p)
    if p.is_file():
        if p.suffix.lower() in (".yaml", ".yml"):
            return "yolo"
        if p.suffix.lower() == ".json":
            return "coco"
        raise DataError("cannot tell the dataset format from this file (expected a data.yaml or a COCO .json); "
                        "pass --from", p)
    if (p / "data.yaml").is_file():
        return "yolo"
    if (p / "Annotations").is_dir():
        return "voc"
    if any((p / "annotations").glob("*.json")) or any(p.glob("*.json")):
        return "coco"
    if is_split_folder(p) or any(c.is_dir() and is_split_folder(c) for c in p.iterdir()):
        return "visdrone"
    if (p / "images").is_dir() and (p / "labels").is_dir():
        raise DataError("YOLO layout without a data.yaml: write one (train, val, names) and pass it", p)
    raise DataError("cannot tell the dataset format of this folder; pass --from yolo|coco|voc|visdrone", p)
