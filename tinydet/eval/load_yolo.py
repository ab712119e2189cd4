"""Reading YOLO-format inputs: a dataset split as ground truth, and a folder of prediction txt files.

Prediction files are named like the images (`<stem>.txt`) and hold one box per line, `class cx cy w h conf`,
coordinates normalised by the image size (what `tinydet predict --save-txt` and ultralytics' `save_conf` write).
Class c is category id c (YOLO classes and tinydet categories are both 0-based).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tinydet.data.formats.yolo import read_yolo
from tinydet.errors import DataError
from tinydet.eval.data import (
    GroundTruth,
    Predictions,
    check_boxes,
    ground_truth_from_images,
)
from tinydet.eval.load_coco import category_indices


def load_yolo_ground_truth(data_yaml: str | Path, split: str = "val") -> GroundTruth:
    """GroundTruth of one split of a YOLO dataset (image i of the split gets id i)."""
    dataset = read_yolo(data_yaml, splits=(split,))
    return ground_truth_from_images(dataset.splits[split], dataset.names, source=f"{data_yaml} ({split} split)")


def _bad_line(path: Path, text: str) -> DataError:
    for line_no, line in enumerate(text.splitlines(), 1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != 6:
            hint = " (no confidence column: predictions need `class cx cy w h conf`)" if len(fields) == 5 else ""
            return DataError(f"expected 6 columns (class cx cy w h conf), found {len(fields)}{hint}", path, line_no)
        try:
            [float(v) for v in fields]
        except ValueError:
            return DataError(f"not a number in '{line.strip()}'", path, line_no)
    return DataError("unreadable predictions", path)


def load_yolo_predictions(folder: str | Path, gt: GroundTruth) -> Predictions:
    """Predictions from a folder of YOLO txt files with confidences (or its `labels/` subfolder)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError("predictions folder not found", folder)
    given = folder
    files = sorted(folder.glob("*.txt"))
    if not files and (folder / "labels").is_dir():
        folder = folder / "labels"
        files = sorted(folder.glob("*.txt"))
    if not files:  # `tinydet predict --save-txt` writes a file per image, empty ones included
        raise DataError("no .txt prediction files here (nor in a labels/ subfolder)", given)
    by_stem: dict[str, int] = {}
    for i, f in enumerate(gt.image_files):
        stem = Path(f).stem
        by_stem[stem] = -2 if stem in by_stem else i
    tokens: list[str] = []
    images: list[int] = []
    counts: list[int] = []
    for path in files:
        image = by_stem.get(path.stem, -1)
        if image == -1:
            raise DataError(f"no ground-truth image is named '{path.stem}' (of {gt.n_images} in {gt.source})", path)
        if image == -2:
            raise DataError(f"several ground-truth images are named '{path.stem}'", path)
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise DataError("not a text file (expected UTF-8 lines of `class cx cy w h conf`)", path) from None
        fields = text.split()
        n_lines = sum(1 for line in text.splitlines() if line.strip())
        if len(fields) != 6 * n_lines:
            raise _bad_line(path, text)
        tokens.extend(fields)
        images.append(image)
        counts.append(n_lines)
    if not tokens:
        return Predictions.empty(str(folder))
    try:
        values = np.array(tokens, dtype=np.float64).reshape(-1, 6)
    except ValueError:
        offsets = np.cumsum([0] + counts)
        for path, lo, hi in zip(files, offsets[:-1], offsets[1:]):
            try:
                np.array(tokens[6 * lo : 6 * hi], dtype=np.float64)
            except ValueError:
                raise _bad_line(path, path.read_text()) from None
        raise
    image = np.repeat(np.array(images, np.int64), counts)
    size = gt.image_sizes[image].astype(np.float64)
    if (size <= 0).any():
        i = int(image[(size <= 0).any(axis=1)][0])
        raise DataError(f"the ground truth gives no size for image '{gt.image_files[i]}', needed to read normalised "
                        "YOLO coordinates", gt.source)
    cls = values[:, 0]
    if (cls != np.round(cls)).any() or (cls < 0).any():
        raise DataError("class ids must be non-negative integers", folder)
    xywh = np.stack([(values[:, 1] - values[:, 3] / 2) * size[:, 0], (values[:, 2] - values[:, 4] / 2) * size[:, 1],
                     values[:, 3] * size[:, 0], values[:, 4] * size[:, 1]], axis=1)
    check_boxes(xywh, "prediction", str(folder))
    score = values[:, 5]
    if not np.isfinite(score).all():
        raise DataError("confidences must be finite numbers", folder)
    category = category_indices(cls.astype(np.int64), gt, folder)
    return Predictions(image, category, xywh, score, str(folder))
