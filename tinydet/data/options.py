"""Options for reading and writing datasets (small frozen dataclasses; the CLI fills them from its flags)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tinydet.errors import TinydetError

VISDRONE_IGNORED = ("ignore", "drop")
VISDRONE_OTHERS = ("ignore", "drop", "class")
VOC_DIFFICULT = ("keep", "ignore", "drop")


@dataclass(frozen=True)
class ReadOptions:
    """How to read a dataset.

    Attributes:
        names: class names in index order. VOC: the class order (default: `labels.txt` in the dataset folder,
            else the sorted names found in the XML files); objects with other names are errors. VisDrone: names
            of categories 1, 2, ... (default: `classes.txt` if present, else the ten VisDrone-DET classes).
        images: COCO only: the folder that the `file_name` entries are relative to (default: searched for,
            see docs/data.md).
        visdrone_ignored: VisDrone category 0 "ignored regions": 'ignore' keeps them as ignore regions for
            every class (COCO iscrowd when written as COCO; dropped by YOLO), 'drop' discards them.
        visdrone_others: VisDrone category 11 "others": 'ignore' keeps them as ignore regions, 'drop'
            discards them, 'class' makes them an eleventh class named "others".
        voc_difficult: VOC objects marked difficult: 'keep' as ordinary boxes, 'ignore' as ignore regions of
            their class, 'drop' discards them.
        decode: decode every image fully to find corrupt data (slower; by default headers and JPEG end
            markers are checked).
    """

    names: tuple[str, ...] | None = None
    images: Path | None = None
    visdrone_ignored: str = "ignore"
    visdrone_others: str = "ignore"
    voc_difficult: str = "keep"
    decode: bool = False

    def __post_init__(self) -> None:
        for name, value, allowed in (
            ("visdrone_ignored", self.visdrone_ignored, VISDRONE_IGNORED),
            ("visdrone_others", self.visdrone_others, VISDRONE_OTHERS),
            ("voc_difficult", self.voc_difficult, VOC_DIFFICULT),
        ):
            if value not in allowed:
                raise TinydetError(f"{name} must be one of {', '.join(allowed)}, got '{value}'")
        if self.names is not None:
            if not self.names or len(set(self.names)) != len(self.names):
                raise TinydetError(f"class names must be non-empty and distinct, got {list(self.names)}")


@dataclass(frozen=True)
class WriteOptions:
    """How to write a dataset.

    Attributes:
        coco_first_id: COCO category id of class index 0 (class i gets id i + coco_first_id; default 0, so
            ids equal class indices, which is what tinydet's evaluation expects).
        coco_keep_ids: when the dataset was read from COCO, write its original category ids instead.
    """

    coco_first_id: int = 0
    coco_keep_ids: bool = False
