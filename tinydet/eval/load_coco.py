"""Reading COCO JSON: a ground-truth file (images, annotations, categories) and a results file (predictions).

Errors name the file and the first offending entry. Predictions for an image or a category the ground truth
does not have are an error (pycocotools silently drops unknown categories). Prediction `image_id`s are matched
to the ground truth's image ids; string ids that are not ids are also tried as file names and file stems, so
tinydet's own predictions (image_id = file name) work against any ground truth that names its files.

A file that follows the format is decoded straight into columns (tinydet.eval.coco_columns); any other goes
through json and the checks that say what is wrong. Both paths end in the same checks (ids, boxes, lookups).
"""

from __future__ import annotations

import gc
import json
import warnings
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from tinydet.data.validate import DataWarning
from tinydet.errors import DataError
from tinydet.eval.coco_columns import (
    GroundTruthColumns,
    PredictionColumns,
    ground_truth_columns,
    prediction_columns,
)
from tinydet.eval.data import GroundTruth, Predictions, check_boxes, lookup


@contextmanager
def gc_paused():
    """Pause Python's cyclic garbage collector: parsing a large JSON file creates a million small objects, and the
    collections that triggers (each walking every live object) made reading take twice as long."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def read_bytes(path: Path) -> bytes:
    """The file's bytes, or a DataError naming it when it is missing or a folder."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise DataError("file not found", path) from None
    except IsADirectoryError:
        raise DataError("is a folder, expected a JSON file", path) from None


def parse_json(raw: bytes, path: Path):
    """`raw` (the bytes of `path`) parsed as JSON, or a DataError naming the file (and line) when it is malformed."""
    try:
        return json.loads(raw)
    except json.JSONDecodeError as e:
        raise DataError(f"not valid JSON: {e.msg} (column {e.colno})", path, e.lineno) from None
    except UnicodeDecodeError:
        raise DataError("not a text (UTF-8) file", path) from None


def _column(entries: list, key: str, path: Path, what: str, default=None):
    """[entry[key] for entry in entries], with a clear error for the first entry that lacks it."""
    try:
        if default is None:
            return [e[key] for e in entries]
        return [e.get(key, default) for e in entries]
    except (KeyError, TypeError, AttributeError):
        for i, e in enumerate(entries):
            if not isinstance(e, dict):
                raise DataError(f"{what} {i} is not an object", path) from None
            if default is None and key not in e:
                raise DataError(f"{what} {i} has no '{key}'", path) from None
        raise


def _boxes(bboxes: list | np.ndarray, path: Path, what: str) -> np.ndarray:
    """float64 [N, 4] x, y, w, h from the bbox of each entry, or a DataError naming the first bad one."""
    try:
        xywh = np.array(bboxes, dtype=np.float64)
        ok = xywh.shape == (len(bboxes), 4) or (len(bboxes) == 0 and xywh.size == 0)
    except (ValueError, TypeError):
        ok = False
    if not ok:
        for i, b in enumerate(bboxes):
            if not (isinstance(b, (list, tuple)) and len(b) == 4
                    and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in b)):
                raise DataError(f"{what} {i} has bbox {b!r}; expected [x, y, width, height]", path) from None
        raise DataError(f"every {what} needs a bbox [x, y, width, height]", path)
    xywh = xywh.reshape(-1, 4)
    check_boxes(xywh, what, str(path))
    return xywh


def _numbers(values: list, path: Path, what: str, allow_bool: bool = False) -> np.ndarray:
    """float64 array of `values` (numbers only: JSON strings are refused even when they look like numbers), or a
    DataError saying which field must be numbers."""
    try:
        arr = np.array(values) if len(values) else np.zeros(0)
    except ValueError:  # ragged
        raise DataError(f"{what} must be numbers", path) from None
    if arr.dtype.kind in "iuf" or (allow_bool and arr.dtype.kind == "b"):
        return arr.astype(np.float64)
    raise DataError(f"{what} must be numbers", path)


def _ids(values: list, path: Path, what: str) -> np.ndarray:
    """Ids as an int64 array, or a str array when they are all strings."""
    arr = np.array(values) if values else np.zeros(0, np.int64)
    if arr.ndim == 1 and arr.dtype.kind in "iu" and bool not in set(map(type, values)):
        return arr.astype(np.int64)
    if arr.ndim == 1 and arr.dtype.kind == "U" and all(isinstance(v, str) for v in values):
        return arr
    bad = next((v for v in values if not isinstance(v, (int, str)) or isinstance(v, bool)), values[0])
    raise DataError(f"{what} ids must be all integers or all strings, found {bad!r}", path)


def load_coco_ground_truth(path: str | Path) -> GroundTruth:
    """GroundTruth from a COCO JSON (`images`, `annotations`, `categories`)."""
    with gc_paused():
        path = Path(path)
        raw = read_bytes(path)
        columns = ground_truth_columns(raw)
        return _ground_truth(_slow_ground_truth_columns(raw, path) if columns is None else columns, path)


def _slow_ground_truth_columns(raw: bytes, path: Path) -> GroundTruthColumns:
    """The columns of a file the typed decoder refused, through json and checks that name what is wrong."""
    data = parse_json(raw, path)
    if not isinstance(data, dict) or not isinstance(data.get("images"), list) or not isinstance(data.get("categories"), list):
        raise DataError("not a COCO ground-truth file (expected an object with 'images', 'annotations', 'categories')", path)
    images, categories = data["images"], data["categories"]
    if "annotations" not in data:
        raise DataError("has no 'annotations' list: not a COCO ground-truth file (for a file with no objects, give "
                        "\"annotations\": [])", path)
    annotations = data["annotations"]
    if not isinstance(annotations, list):
        raise DataError("'annotations' must be a list", path)
    what = "annotation"
    return GroundTruthColumns(
        image_ids=_column(images, "id", path, "image"),
        image_files=[str(im.get("file_name", "")) for im in images],
        image_sizes=[[im.get("width") or 0, im.get("height") or 0] for im in images],
        category_ids=_column(categories, "id", path, "category"),
        category_names=[str(c["id"] if c.get("name") is None else c["name"]) for c in categories],
        ann_bbox=_column(annotations, "bbox", path, what),
        ann_image=_column(annotations, "image_id", path, what),
        ann_category=_column(annotations, "category_id", path, what),
        ann_area=_column(annotations, "area", path, what, default=np.nan),
        ann_crowd=_column(annotations, "iscrowd", path, what, default=0),
    )


def _ground_truth(columns: GroundTruthColumns, path: Path) -> GroundTruth:
    """The checks every ground-truth file goes through, and the GroundTruth they leave."""
    c = columns
    if not len(c.ann_bbox):
        warnings.warn(f"{path}: 'annotations' is empty: there is nothing to score, every AP is -1 and every "
                      "prediction is a false positive", DataWarning, stacklevel=3)
    image_ids = _ids(c.image_ids, path, "image")
    unique_images = np.unique(image_ids)
    if len(unique_images) != len(image_ids):
        raise DataError("image ids are not unique", path)
    cat_ids = _ids(c.category_ids, path, "category")
    if cat_ids.dtype.kind != "i":
        raise DataError("category ids must be integers", path)
    unique_cats = np.unique(cat_ids)
    if len(unique_cats) != len(cat_ids):
        raise DataError("category ids are not unique", path)
    by_image = {v: i for i, v in enumerate(image_ids.tolist())}
    order = [by_image[v] for v in unique_images.tolist()]
    names_by_id = dict(zip(cat_ids.tolist(), c.category_names))
    sizes = _numbers([c.image_sizes[i] for i in order], path, "image 'width' and 'height'").astype(np.int64)

    what = "annotation"
    xywh = _boxes(c.ann_bbox, path, what)
    ann_images = _ids(c.ann_image, path, what)
    image, known = lookup(unique_images, ann_images)
    if not known.all():
        i = int(np.flatnonzero(~known)[0])
        raise DataError(f"annotation {i} refers to image_id {ann_images[i].item()!r}, which is not in 'images'", path)
    ann_cats = _ids(c.ann_category, path, "annotation category")
    category, known = lookup(unique_cats, ann_cats)
    if not known.all():
        i = int(np.flatnonzero(~known)[0])
        raise DataError(f"annotation {i} has category_id {ann_cats[i].item()!r}, which is not in 'categories'", path)
    area = _numbers([np.nan if a is None else a for a in c.ann_area], path, "annotation 'area'")
    area = np.where(np.isnan(area), xywh[:, 2] * xywh[:, 3], area) if len(area) else np.zeros(0)
    crowd = _numbers(c.ann_crowd, path, "annotation 'iscrowd'", True)
    if not np.isin(crowd, (0, 1)).all():
        raise DataError(f"annotation {int(np.flatnonzero(~np.isin(crowd, (0, 1)))[0])} has an iscrowd other than 0 or 1", path)
    return GroundTruth(
        image_ids=unique_images.tolist(),
        image_files=[c.image_files[i] for i in order],
        image_sizes=np.array(sizes, np.int64).reshape(-1, 2),
        category_ids=unique_cats,
        category_names=[names_by_id[int(i)] for i in unique_cats],
        image=image,
        category=category,
        xywh=xywh,
        area=area,
        crowd=crowd.astype(bool),
        source=str(path),
    )


def image_indices(values: list, gt: GroundTruth, path: Path, what: str = "prediction") -> np.ndarray:
    """Image index of each value: an image id of `gt`, else (strings) a file name or file stem it lists."""
    ids = np.array(gt.image_ids) if gt.image_ids else np.zeros(0, np.int64)
    vals = _ids(values, path, what + " image")
    index, known = lookup(ids, vals)
    if not known.all() and vals.dtype.kind == "U":
        names: dict[str, int] = {}
        for i, f in enumerate(gt.image_files):
            if f:
                for key in {Path(f).name, Path(f).stem}:
                    names[key] = -2 if key in names and names[key] != i else i
        for j in np.flatnonzero(~known):
            i = names.get(str(vals[j]), -1)
            if i == -2:
                raise DataError(f"{what} {j}: image_id {str(vals[j])!r} names several ground-truth images", path)
            if i >= 0:
                index[j], known[j] = i, True
    if not known.all():
        bad = np.flatnonzero(~known)
        raise DataError(
            f"{what} {bad[0]} has image_id {vals[bad[0]].item()!r}, which is not an image of the ground truth "
            f"{gt.source} ({len(bad)} of {len(vals)} {what}s refer to unknown images)", path)
    return index


def category_indices(values: np.ndarray, gt: GroundTruth, path: Path, what: str = "prediction", offset: int = 0) -> np.ndarray:
    """Category index of each category id (already shifted by `offset`), or a DataError that hints at an
    off-by-one numbering."""
    index, known = lookup(gt.category_ids, values)
    if not known.all():
        bad = np.flatnonzero(~known)
        hint = ""
        for shift in (-1, 1):
            if lookup(gt.category_ids, values + shift)[1].all():
                hint = (f"; all ids would match with --category-offset {offset + shift} (ultralytics numbers categories from 1, "
                        "YOLO classes from 0)")
        raise DataError(
            f"{what} {bad[0]} has category_id {int(values[bad[0]])}, which is not a ground-truth category "
            f"(ids {gt.category_ids.tolist()[:12]}{'...' if gt.n_categories > 12 else ''}; {len(bad)} of {len(values)} "
            f"{what}s have unknown categories){hint}", path)
    return index


def load_coco_predictions(path: str | Path, gt: GroundTruth, category_offset: int = 0) -> Predictions:
    """Predictions from a COCO results JSON: a list of {image_id, category_id, bbox [x, y, w, h], score}."""
    with gc_paused():
        path = Path(path)
        raw = read_bytes(path)
        columns = prediction_columns(raw)
        return _predictions(_slow_prediction_columns(raw, path) if columns is None else columns, path, gt,
                            category_offset)


def _slow_prediction_columns(raw: bytes, path: Path) -> PredictionColumns:
    """The columns of a file the typed decoder refused, through json and checks that name what is wrong."""
    data = parse_json(raw, path)
    if not isinstance(data, list):
        raise DataError("not a COCO results file (expected a list of {image_id, category_id, bbox, score})", path)
    what = "prediction"
    return PredictionColumns(
        image_id=_column(data, "image_id", path, what),
        category_id=_column(data, "category_id", path, what),
        bbox=_column(data, "bbox", path, what),
        score=_column(data, "score", path, what),
    )


def _predictions(columns: PredictionColumns, path: Path, gt: GroundTruth, category_offset: int) -> Predictions:
    """The checks every results file goes through, and the Predictions they leave."""
    if not len(columns.bbox):
        return Predictions.empty(str(path))
    what = "prediction"
    xywh = _boxes(columns.bbox, path, what)
    score = _numbers(columns.score, path, "prediction 'score'")
    cats = _numbers(columns.category_id, path, "prediction 'category_id'")
    if not np.isfinite(score).all():
        raise DataError(f"prediction {int(np.flatnonzero(~np.isfinite(score))[0])} has a score that is not a finite number", path)
    if (cats != np.round(cats)).any():
        raise DataError(f"prediction {int(np.flatnonzero(cats != np.round(cats))[0])} has a non-integer category_id", path)
    image = image_indices(columns.image_id, gt, path)
    category = category_indices(cats.astype(np.int64) + int(category_offset), gt, path, offset=int(category_offset))
    return Predictions(image, category, xywh, score, str(path))
