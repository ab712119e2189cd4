"""VisDrone-DET: `images/*.jpg` and `annotations/*.txt`, one line per box:
`bbox_left,bbox_top,bbox_width,bbox_height,score,object_category,truncation,occlusion` (pixels).

Categories: 0 "ignored regions", 1 pedestrian, 2 people, 3 bicycle, 4 car, 5 van, 6 truck, 7 tricycle,
8 awning-tricycle, 9 bus, 10 motor, 11 "others". Categories 1-10 become classes 0-9. Category 0 and 11 follow
`ReadOptions.visdrone_ignored` / `visdrone_others` (by default both become ignore regions for every class).
In ground truth a score of 0 means "ignored in evaluation": such boxes become ignore regions of their class.
Truncation and occlusion are not kept (the writer writes 0).

A dataset folder is either one split (it holds images/ and annotations/; the split is guessed from its name,
e.g. VisDrone2019-DET-val -> val) or a folder of such split folders. A `classes.txt` next to the split folders
(the writer puts one there) gives the names of categories 1, 2, ...
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tinydet.data.dataset import Dataset, ImageLabels
from tinydet.data.datayaml import IMAGE_SUFFIXES
from tinydet.data.formats.common import (
    checked_image,
    copy_image,
    floats,
    number,
    progress,
    read_names,
    read_text,
    relative_paths,
    select_splits,
    split_from_name,
)
from tinydet.data.formats.registry import FORMATS, Format
from tinydet.data.options import ReadOptions
from tinydet.data.validate import ProblemLog, checked_labels
from tinydet.errors import DataError

VISDRONE_NAMES = ("pedestrian", "people", "bicycle", "car", "van", "truck", "tricycle", "awning-tricycle", "bus",
                  "motor")
IGNORED_REGION, OTHERS = 0, 11


def is_split_folder(folder: Path) -> bool:
    return (folder / "images").is_dir() and (folder / "annotations").is_dir()


def split_folders(root: Path) -> dict[str, Path]:
    """Split name -> folder holding images/ and annotations/."""
    if is_split_folder(root):
        return {split_from_name(root.name): root}
    found: dict[str, Path] = {}
    for child in sorted(p for p in root.iterdir() if p.is_dir() and is_split_folder(p)):
        split = split_from_name(child.name)
        if split in found:
            raise DataError(f"two folders for the '{split}' split: {found[split].name} and {child.name}", root)
        found[split] = child
    if not found:
        raise DataError("not a VisDrone folder (no images/ + annotations/ in it or in its sub-folders)", root)
    return found


def _names(root: Path, options: ReadOptions) -> list[str]:
    if options.names:
        return list(options.names)
    for folder in (root, root.parent):
        if (folder / "classes.txt").is_file():
            return read_names(folder / "classes.txt")
    return list(VISDRONE_NAMES)


def read_visdrone(path: str | Path, splits: tuple[str, ...] | None = None, log: ProblemLog | None = None,
                  options: ReadOptions = ReadOptions()) -> Dataset:
    """Read a VisDrone-DET split folder or a folder of split folders."""
    log = log if log is not None else ProblemLog(strict=True)
    root = Path(path).absolute()
    folders = split_folders(root)
    folders = select_splits(folders, splits, root)
    base = _names(root, options)
    names = base + ["others"] if options.visdrone_others == "class" and len(base) == len(VISDRONE_NAMES) else base
    dataset = Dataset(names=names, format="visdrone", source=root)
    for split, folder in folders.items():
        images = sorted(p for p in (folder / "images").rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
        records = []
        for image in progress(images, f"read {split}"):
            labels = _read_one(folder, image, base, names, log, options)
            if labels is not None:
                records.append(labels)
        dataset.splits[split] = records
    return dataset


def _read_one(folder: Path, image: Path, base: list[str], names: list[str], log, options) -> ImageLabels | None:
    size = checked_image(image, log, options.decode)
    if size is None:
        return None
    ann = folder / "annotations" / image.relative_to(folder / "images").with_suffix(".txt")
    rows = []
    if not ann.is_file():
        log.add("missing_labels", f"no annotation file ({ann.name} in {ann.parent}); used as an image without "
                "objects", image, fatal=False)
    else:
        rows = _parse(ann, log)
    boxes, classes, ignore, lines = [], [], [], []
    standard = len(base) == len(VISDRONE_NAMES)
    for line_no, (x, y, w, h, score, cat) in rows:
        if cat == IGNORED_REGION or (cat == OTHERS and standard and options.visdrone_others != "class"):
            option = options.visdrone_ignored if cat == IGNORED_REGION else options.visdrone_others
            if option == "drop":
                continue
            cls, ign = -1, True
        elif 1 <= cat <= len(base) or (cat == OTHERS and standard):
            cls, ign = (cat - 1 if cat <= len(base) else len(names) - 1), score == 0
        else:
            log.add("class_id", f"object_category {cat} is not a category (0-{max(11, len(base))})", ann, line_no)
            continue
        boxes.append((x, y, x + w, y + h))
        classes.append(cls)
        ignore.append(ign)
        lines.append(line_no)
    return checked_labels(image, size[0], size[1], np.array(boxes, np.float64).reshape(-1, 4),
                          np.array(classes, np.int64), len(names), log, lambda i: (ann, lines[i], ""),
                          ignore=np.array(ignore, bool), label_file=ann)


def _parse(path: Path, log: ProblemLog) -> list[tuple[int, tuple]]:
    """Lines of an annotation file -> [(line number, (x, y, w, h, score, category))], bad lines logged."""
    text = read_text(path, log)
    if text is None:
        return []
    rows = []
    for line_no, line in enumerate(text.splitlines(), 1):
        fields = [f.strip() for f in line.strip().rstrip(",").split(",")]
        if fields == [""]:
            continue
        if len(fields) != 8:
            log.add("columns", f"expected 8 comma-separated columns (left,top,width,height,score,category,"
                    f"truncation,occlusion), found {len(fields)}", path, line_no)
            continue
        values = floats(fields, log, path, line_no)
        if values is None:
            continue
        x, y, w, h, score, cat = values[:6]
        if cat != int(cat):
            log.add("class_id", f"object_category must be an integer, got {fields[5]}", path, line_no)
            continue
        rows.append((line_no, (x, y, w, h, score, int(cat))))
    return rows



def visdrone_lines(im: ImageLabels) -> str:
    """Annotation text of one image: ignore regions for every class as category 0, other ignore regions with
    score 0, ordinary boxes with score 1; truncation and occlusion 0."""
    lines = []
    for (x1, y1, x2, y2), c, ign in zip(im.boxes, im.classes, im.ignore_mask):
        category, score = (0, 0) if c < 0 else (int(c) + 1, 0 if ign else 1)
        lines.append(",".join([number(x1), number(y1), number(x2 - x1), number(y2 - y1), str(score),
                               str(category), "0", "0"]))
    return "\n".join(lines) + ("\n" if lines else "")


def write_visdrone(dataset: Dataset, root: Path) -> Path:
    """Write `dataset` into the empty folder `root`: <split>/images, <split>/annotations, classes.txt."""
    for split, images in dataset.splits.items():
        for im, rel in progress(zip(images, relative_paths([im.file for im in images])), f"write {split}",
                                total=len(images)):
            copy_image(im.file, root / split / "images" / rel)
            ann = root / split / "annotations" / rel.with_suffix(".txt")
            ann.parent.mkdir(parents=True, exist_ok=True)
            ann.write_text(visdrone_lines(im))
    (root / "classes.txt").write_text("".join(f"{n}\n" for n in dataset.names))
    return root


FORMATS.add("visdrone", Format(read=read_visdrone, write=lambda dataset, root, options: write_visdrone(dataset, root)))
