"""Ultralytics YOLO layout: data.yaml, images/<split>/*, labels/<split>/*.txt with `class cx cy w h [kpts]`.

Coordinates in label files are normalised to [0, 1] by the image width and height; keypoints follow the box
as `x y [v]` triples (pose datasets, `kpt_shape: [K, 2 or 3]` in data.yaml). Label files are found by
ultralytics' rule (the last `images` folder of the image path swapped for `labels`, suffix `.txt`). As in
ultralytics, a detection dataset may hold polygon rows (`class x1 y1 x2 y2 ...`, segmentation labels): they
are read as their bounding boxes. A value may lie up to 0.01 outside [0, 1] (ultralytics' tolerance): the box
is then clipped to the image with a warning; further out is an error.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import yaml

from tinydet.data.dataset import Dataset, ImageLabels
from tinydet.data.datayaml import (
    label_path_for,
    list_origins,
    load_data_yaml,
    split_images,
)
from tinydet.data.formats.common import (
    checked_image,
    copy_image,
    floats,
    progress,
    read_text,
    relative_paths,
    warn_dropped_ignore,
)
from tinydet.data.formats.registry import FORMATS, Format
from tinydet.data.images import image_size
from tinydet.data.validate import ProblemLog, checked_labels
from tinydet.errors import DataError

__all__ = ["image_size", "parse_label_file", "read_yolo", "read_yolo_split", "write_yolo", "label_lines",
           "write_data_yaml"]

RANGE_TOLERANCE = 0.01  # ultralytics accepts normalised values in [-0.01, 1.01]
_COLUMN_NAMES = ("class", "cx", "cy", "w", "h")
_NO_LIMIT = 2**62


def _parse_rows(path: Path, kpt_shape, log: ProblemLog):
    """Rows of a label file -> (values float64 [N, C] or polygon boxes, line numbers [N]), bad rows logged and
    skipped. Returns None when the file cannot be read as text at all."""
    k, kdim = tuple(kpt_shape[:2]) if kpt_shape else (0, 0)
    text = read_text(path, log)
    if text is None:
        return None
    rows = [(n, line.split()) for n, line in enumerate(text.splitlines(), 1) if line.strip()]
    polygons = not k and any(len(fields) > 6 for _, fields in rows)
    # columns holding coordinates (keypoint visibilities are not coordinates)
    coord_columns = [c for c in range(1, 5 + k * kdim) if c < 5 or kdim == 2 or (c - 5) % 3 != 2]
    values, lines = [], []
    for line_no, fields in rows:
        if k:
            expected = 5 + k * kdim
            if len(fields) != expected:
                log.add("columns", f"expected {expected} columns (class cx cy w h + {k} keypoints x {kdim}), "
                        f"found {len(fields)}", path, line_no)
                continue
        elif polygons:
            if len(fields) == 5:
                log.add("columns", "box row (5 columns) in a file of polygon rows; ultralytics rejects the mix",
                        path, line_no)
                continue
            if len(fields) < 7 or len(fields) % 2 == 0:
                log.add("columns", f"a polygon row needs a class and 3 or more x y pairs (an odd number of "
                        f"columns), found {len(fields)}", path, line_no)
                continue
        elif len(fields) != 5:
            hint = " (a 6th column looks like a confidence: is this a predictions file?)" if len(fields) == 6 else ""
            log.add("columns", f"expected 5 columns (class cx cy w h), found {len(fields)}{hint}", path, line_no)
            continue
        row = floats(fields, log, path, line_no)
        if row is None:
            continue
        if not all(math.isfinite(v) for v in row):
            log.add("not_a_number", f"non-finite value in '{' '.join(fields)}'", path, line_no)
            continue
        if row[0] < 0 or row[0] != int(row[0]):
            log.add("class_id", f"class id must be a non-negative integer, got {fields[0]}", path, line_no)
            continue
        columns = coord_columns if not polygons else range(1, len(row))
        bad = next((c for c in columns if not -RANGE_TOLERANCE <= row[c] <= 1 + RANGE_TOLERANCE), None)
        if bad is not None:
            log.add("out_of_range", f"{_column_name(bad, polygons, k, kdim)} = {row[bad]:g} is outside [0, 1] "
                    "(normalised coordinates)", path, line_no)
            continue
        if polygons:
            xy = np.array(row[1:]).reshape(-1, 2)
            (x1, y1), (x2, y2) = xy.min(0), xy.max(0)
            row = [row[0], (x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1]
        values.append(row)
        lines.append(line_no)
    width = 5 + k * kdim
    return np.array(values, np.float64).reshape(-1, width), np.array(lines, np.int64)



def _column_name(column: int, polygons: bool, k: int, kdim: int) -> str:
    """Name of column `column` of a row (0 = the class)."""
    if polygons:
        return f"polygon {'xy'[(column - 1) % 2]}{(column + 1) // 2} (column {column + 1})"
    if column < 5:
        return f"{_COLUMN_NAMES[column]} (column {column + 1})"
    j = column - 5
    return f"keypoint {j // kdim + 1} {'xyv'[j % kdim]} (column {column + 1})"


def _to_pixels(values: np.ndarray, width: int, height: int, kpt_shape):
    """Normalised rows -> (boxes xyxy px [N,4], classes [N], keypoints [N,K,3] px or None)."""
    cx, cy, bw, bh = values[:, 1] * width, values[:, 2] * height, values[:, 3] * width, values[:, 4] * height
    boxes = np.stack([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2], axis=1)
    keypoints = None
    if kpt_shape:
        k, kdim = kpt_shape[:2]
        keypoints = values[:, 5:].reshape(-1, k, kdim).copy()
        if kdim == 2:
            keypoints = np.concatenate([keypoints, np.full((len(values), k, 1), 2.0)], axis=2)
        keypoints[..., 0] *= width
        keypoints[..., 1] *= height
    return boxes, values[:, 0].astype(np.int64), keypoints


def parse_label_file(path: Path, width: int, height: int, kpt_shape=None, log: ProblemLog | None = None,
                     nc: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Read one YOLO label file -> (boxes xyxy px float64 [N,4], classes int64 [N], keypoints [N,K,3] or None).

    A missing file means an image without objects. Without `log`, the first bad line raises DataError naming
    file and line; with one, bad lines are logged and skipped. Boxes are checked and clipped to the image.
    """
    log = log if log is not None else ProblemLog(strict=True)
    labels = _read_labels(Path(path), Path(path), width, height, kpt_shape, nc, log)
    if labels is None:
        k = kpt_shape[0] if kpt_shape else 0
        return np.zeros((0, 4)), np.zeros(0, np.int64), np.zeros((0, k, 3)) if kpt_shape else None
    return labels.boxes, labels.classes, labels.keypoints


def _read_labels(image: Path, label_file: Path, width: int, height: int, kpt_shape, nc, log) -> ImageLabels | None:
    k = kpt_shape[0] if kpt_shape else 0
    if not label_file.is_file():
        kps = np.zeros((0, k, 3)) if kpt_shape else None
        return ImageLabels(image, width, height, np.zeros((0, 4)), np.zeros(0, np.int64), kps, None, label_file)
    parsed = _parse_rows(label_file, kpt_shape, log)
    if parsed is None:
        return None
    values, lines = parsed
    boxes, classes, keypoints = _to_pixels(values, width, height, kpt_shape)
    return checked_labels(image, width, height, boxes, classes, _NO_LIMIT if nc is None else nc, log,
                          lambda i: (label_file, int(lines[i]), ""), keypoints=keypoints, label_file=label_file)


def read_yolo_split(images: list[Path], kpt_shape=None, log: ProblemLog | None = None, nc: int | None = None,
                    decode: bool = False, desc: str = "read",
                    origins: dict[Path, tuple[Path, int]] | None = None) -> list[ImageLabels]:
    """Labels of a list of images (label files found by ultralytics' images/ -> labels/ rule).

    Without `log` the first fatal problem raises DataError; with one, problems are logged and the bad images
    and lines left out. `origins` ({image: (list file, line)}, `list_origins`) names where a missing image was
    listed.
    """
    log = log if log is not None else ProblemLog(strict=True)
    records, seen = [], set()
    for image in progress(images, desc):
        if image in seen:
            log.add("duplicate_image", "image listed twice in its split; read once by tinydet's checks, analysis and "
                    "evaluation, used as often as listed by ultralytics' training and its validator (a repeat "
                    "oversamples it)", image, fatal=False)
            continue
        seen.add(image)
        if origins and image in origins and not image.exists():
            log.add("missing_image", f"image not found: {image}", *origins[image])
            continue
        size = checked_image(image, log, decode)
        if size is None:
            continue
        label_file = label_path_for(image)
        if not label_file.is_file():
            log.add("missing_labels", f"no label file ({label_file.name} in {label_file.parent}); used as an "
                    "image without objects", image, fatal=False)
        labels = _read_labels(image, label_file, size[0], size[1], kpt_shape, nc, log)
        if labels is not None:
            records.append(labels)
    return records


def _orphan_labels(entries: list[Path], images: list[Path], log: ProblemLog) -> None:
    """Warn about label files in a split's label folders that belong to no image."""
    expected = {label_path_for(image) for image in images}
    for entry in entries:
        if not entry.is_dir():
            continue
        label_dir = label_path_for(entry / "x.jpg").parent
        if not label_dir.is_dir():
            continue
        for txt in sorted(label_dir.rglob("*.txt")):
            if txt not in expected:
                log.add("orphan_label", "label file without an image; ignored", txt, fatal=False)


def read_yolo(data_yaml: str | Path, splits: tuple[str, ...] | None = None, log: ProblemLog | None = None,
              decode: bool = False) -> Dataset:
    """Read a YOLO dataset from its data.yaml (all splits it names, or only `splits`)."""
    log = log if log is not None else ProblemLog(strict=True)
    cfg = load_data_yaml(data_yaml, required_splits=())
    kpt_shape = _kpt_shape(cfg)
    flip_idx = cfg.raw.get("flip_idx")
    wanted = tuple(splits) if splits else tuple(cfg.splits)
    if not wanted:
        raise DataError("names no split (train, val or test)", cfg.yaml_path)
    dataset = Dataset(names=cfg.names, kpt_shape=kpt_shape, flip_idx=list(flip_idx) if flip_idx else None,
                      format="yolo", source=cfg.yaml_path)
    for split in wanted:
        if split not in cfg.splits:
            raise DataError(f"no '{split}' split (has: {', '.join(cfg.splits)})", cfg.yaml_path)
        images = split_images(cfg.splits[split])
        if not images:
            raise DataError(f"the '{split}' split has no images ({', '.join(map(str, cfg.splits[split]))})",
                            cfg.yaml_path)
        images = [p.absolute() for p in images]
        dataset.splits[split] = read_yolo_split(images, kpt_shape, log, cfg.nc, decode, desc=f"read {split}",
                                                origins=list_origins(cfg.splits[split]))
        _orphan_labels(cfg.splits[split], images, log)
    return dataset


def _kpt_shape(cfg) -> tuple[int, int] | None:
    shape = cfg.kpt_shape
    if shape is None:
        return None
    if not (isinstance(shape, list) and len(shape) == 2 and all(isinstance(v, int) for v in shape)
            and shape[0] >= 1 and shape[1] in (2, 3)):
        raise DataError(f"'kpt_shape' must be [number of keypoints, 2 or 3], got {shape}", cfg.yaml_path)
    flip = cfg.raw.get("flip_idx")
    if flip is not None and (not isinstance(flip, list) or sorted(flip) != list(range(shape[0]))):
        raise DataError(f"'flip_idx' must be a permutation of 0..{shape[0] - 1}, got {flip}", cfg.yaml_path)
    return shape[0], shape[1]


# ------------------------------------------------------------------------------------------------------------------
# Writing
# ------------------------------------------------------------------------------------------------------------------
def label_lines(boxes: np.ndarray, classes: np.ndarray, width: int, height: int,
                keypoints: np.ndarray | None = None, kdim: int = 3) -> str:
    """YOLO label text: `class cx cy w h [x y (v)]*K` per box, normalised, 6 decimals.

    Args:
        boxes: float [N, 4] xyxy pixels; classes: int [N]; keypoints: float [N, K, 3] pixels + visibility.
        kdim: 2 or 3 values written per keypoint.
    """
    lines = []
    for i, ((x1, y1, x2, y2), c) in enumerate(zip(boxes, classes)):
        parts = [str(int(c)), f"{(x1 + x2) / 2 / width:.6f}", f"{(y1 + y2) / 2 / height:.6f}",
                 f"{(x2 - x1) / width:.6f}", f"{(y2 - y1) / height:.6f}"]
        if keypoints is not None:
            for x, y, v in keypoints[i]:
                parts += [f"{x / width:.6f}", f"{y / height:.6f}"] + ([str(int(v))] if kdim == 3 else [])
        lines.append(" ".join(parts))
    return "\n".join(lines) + ("\n" if lines else "")


def write_data_yaml(root: Path, names: list[str], splits: list[str], kpt_shape=None, flip_idx=None,
                    comment: str = "") -> Path:
    """data.yaml with split folders `images/<split>` relative to its own folder (no `path:` key)."""
    data = {split: f"images/{split}" for split in splits}
    data["names"] = dict(enumerate(names))
    if kpt_shape:
        data["kpt_shape"] = list(kpt_shape)
        data["flip_idx"] = list(flip_idx) if flip_idx is not None else list(range(kpt_shape[0]))
    text = "".join(f"# {line}\n" for line in comment.splitlines())
    text += "# Split paths are relative to this file's folder.\n" + yaml.safe_dump(data, sort_keys=False)
    path = root / "data.yaml"
    path.write_text(text)
    return path


def yolo_image_copies(dataset: Dataset, root: Path) -> dict[str, list[Path]]:
    """Where `write_yolo(dataset, root)` puts each image, per split in the dataset's order:
    root/images/<split>/<path relative to the deepest folder the split's images share>."""
    return {split: [root / "images" / split / rel for rel in relative_paths([im.file for im in images])]
            for split, images in dataset.splits.items()}


def write_yolo(dataset: Dataset, root: Path) -> Path:
    """Write `dataset` into the empty folder `root` in YOLO layout (ignore regions dropped); returns data.yaml."""
    kdim = dataset.kpt_shape[1] if dataset.kpt_shape else 3
    copies = yolo_image_copies(dataset, root)
    for split, images in dataset.splits.items():
        warn_dropped_ignore(images, "YOLO")
        for im, copy in progress(zip(images, copies[split]), f"write {split}", total=len(images)):
            copy_image(im.file, copy)
            label_file = root / "labels" / split / copy.relative_to(root / "images" / split).with_suffix(".txt")
            label_file.parent.mkdir(parents=True, exist_ok=True)
            kept = im.subset(~im.ignore_mask)
            kps = kept.keypoints if dataset.kpt_shape else None
            label_file.write_text(label_lines(kept.boxes, kept.classes, im.width, im.height, kps, kdim))
    return write_data_yaml(root, dataset.names, list(dataset.splits), dataset.kpt_shape, dataset.flip_idx,
                           comment=f"Written by tinydet from {dataset.source or 'a dataset'}")


FORMATS.add("yolo", Format(read=lambda path, splits, log, options: read_yolo(path, splits, log, options.decode),
                           write=lambda dataset, root, options: write_yolo(dataset, root)))
