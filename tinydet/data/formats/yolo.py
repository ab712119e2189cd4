"""Ultralytics YOLO layout: data.yaml, images/<split>/*, labels/<split>/*.txt with `class cx cy w h [kpts]`.

Coordinates in label files are normalised to [0, 1] by the image width and height; keypoints follow the box
as `x y [v]` triples (pose datasets, `kpt_shape: [K, 2 or 3]` in data.yaml).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from tinydet.data.dataset import Dataset, ImageLabels
from tinydet.data.datayaml import load_data_yaml, label_path_for, split_images
from tinydet.errors import DataError

_EXIF_ORIENTATION = 0x0112


def image_size(path: Path) -> tuple[int, int]:
    """(width, height) after EXIF rotation, reading only the header. Raises DataError if unreadable."""
    try:
        with Image.open(path) as im:
            w, h = im.size
            if im.format in ("JPEG", "MPO", "TIFF", "WEBP", "PNG"):
                orientation = im.getexif().get(_EXIF_ORIENTATION, 1)
                if orientation in (5, 6, 7, 8):
                    w, h = h, w
    except FileNotFoundError:
        raise DataError("image not found", path) from None
    except (OSError, ValueError, Image.DecompressionBombError) as e:
        raise DataError(f"cannot read image ({e})", path) from None
    return w, h


def parse_label_file(path: Path, width: int, height: int, kpt_shape=None) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Read one YOLO label file -> (boxes xyxy px float64 [N,4], classes int64 [N], keypoints [N,K,3] or None).

    A missing file means an image without objects. Malformed lines raise DataError naming file and line.
    """
    k, kdim = (kpt_shape or (0, 0))[:2] if kpt_shape else (0, 0)
    expected = 5 + k * kdim
    boxes, classes, keypoints = [], [], []
    if path.is_file():
        for line_no, line in enumerate(path.read_text().splitlines(), 1):
            fields = line.split()
            if not fields:
                continue
            if len(fields) != expected:
                what = f"class cx cy w h + {k}x{kdim} keypoint values" if k else "class cx cy w h"
                raise DataError(f"expected {expected} columns ({what}), found {len(fields)}", path, line_no)
            try:
                values = [float(v) for v in fields]
            except ValueError:
                raise DataError(f"not a number in '{line.strip()}'", path, line_no) from None
            cls = values[0]
            if cls != int(cls) or cls < 0:
                raise DataError(f"class id must be a non-negative integer, got {fields[0]}", path, line_no)
            cx, cy, bw, bh = values[1:5]
            boxes.append(((cx - bw / 2) * width, (cy - bh / 2) * height, (cx + bw / 2) * width, (cy + bh / 2) * height))
            classes.append(int(cls))
            if k:
                kp = np.array(values[5:], np.float64).reshape(k, kdim)
                if kdim == 2:
                    kp = np.concatenate([kp, np.full((k, 1), 2.0)], axis=1)
                kp[:, 0] *= width
                kp[:, 1] *= height
                keypoints.append(kp)
    kps = np.array(keypoints, np.float64).reshape(-1, k, 3) if k else None
    return np.array(boxes, np.float64).reshape(-1, 4), np.array(classes, np.int64), kps


def read_yolo_split(images: list[Path], kpt_shape=None) -> list[ImageLabels]:
    """Labels of a list of images (label files found by ultralytics' images/ -> labels/ rule)."""
    records = []
    for image in images:
        w, h = image_size(image)
        label_file = label_path_for(image)
        boxes, classes, kps = parse_label_file(label_file, w, h, kpt_shape)
        records.append(ImageLabels(image, w, h, boxes, classes, kps, None, label_file))
    return records


def read_yolo(data_yaml: str | Path, splits: tuple[str, ...] | None = None) -> Dataset:
    """Read a YOLO dataset from its data.yaml (all splits it names, or only `splits`)."""
    cfg = load_data_yaml(data_yaml, required_splits=())
    wanted = splits or tuple(cfg.splits)
    dataset = Dataset(names=cfg.names, kpt_shape=tuple(cfg.kpt_shape) if cfg.kpt_shape else None)
    for split in wanted:
        if split not in cfg.splits:
            raise DataError(f"no '{split}' split", cfg.yaml_path)
        dataset.splits[split] = read_yolo_split(split_images(cfg.splits[split]), cfg.kpt_shape)
    return dataset
