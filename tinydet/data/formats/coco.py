"""COCO JSON: `images`, `annotations` (bbox [x, y, w, h] in pixels), `categories`, one file per split.

Reading: category ids, whatever they are, map to contiguous class indices in increasing id order; the ids are
kept in `Dataset.category_ids`. `iscrowd: 1` annotations become ignore regions. Keypoints (person-keypoints
style, `keypoints: [x, y, v] * K` with the names in the category) are read when every category has the same
number of them. JSON has no useful line numbers, so problems name the annotation (or image) id instead.

Writing: `annotations/instances_<split>.json` with `file_name` relative to `images/<split>/`; class index i
gets category id i (0-based) unless `WriteOptions` says otherwise. Ignore regions are written as
`iscrowd: 1`; a region for every class (class -1, VisDrone "ignored regions") as one crowd annotation per
category.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from tinydet.data.dataset import Dataset, ImageLabels
from tinydet.data.formats.common import (
    checked_image,
    copy_image,
    progress,
    relative_paths,
    select_splits,
    split_from_name,
)
from tinydet.data.formats.registry import FORMATS, Format
from tinydet.data.options import ReadOptions, WriteOptions
from tinydet.data.validate import ProblemLog, checked_labels
from tinydet.errors import DataError


def find_annotation_files(folder: Path) -> dict[str, Path]:
    """Split name -> json file, from `folder/annotations/*.json` or `folder/*.json`."""
    candidates = sorted((folder / "annotations").glob("*.json")) or sorted(folder.glob("*.json"))
    found: dict[str, Path] = {}
    for path in candidates:
        split = split_from_name(path.stem)
        if split in found:
            raise DataError(f"two annotation files for the '{split}' split: {found[split].name} and {path.name}; "
                            "pass one json file instead of the folder", folder)
        found[split] = path
    if not found:
        raise DataError("no COCO annotation files (*.json) in it or in its annotations/ folder", folder)
    return found


def _image_dir_candidates(json_path: Path, split: str, stem: str) -> list[Path]:
    root = json_path.parent.parent if json_path.parent.name == "annotations" else json_path.parent
    tags = [split, stem, stem.replace("instances_", ""), f"{split}2017", f"{split}2014"]
    out = []
    for tag in dict.fromkeys(tags):
        out += [root / "images" / tag, root / tag]
    return out + [root / "images", root, json_path.parent]


def _load_json(path: Path) -> dict:
    try:
        with open(path, "rb") as f:
            data = json.load(f)
    except FileNotFoundError:
        raise DataError("annotation file not found", path) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        line = getattr(e, "lineno", None)
        raise DataError(f"not valid JSON ({getattr(e, 'msg', e)})", path, line) from None
    if not isinstance(data, dict) or not isinstance(data.get("images"), list):
        raise DataError("not a COCO annotation file (no 'images' list)", path)
    if not isinstance(data.get("categories"), list) or not data["categories"]:
        raise DataError("no 'categories' list (COCO needs one entry per class: id and name)", path)
    return data


def _categories(data: dict, path: Path) -> tuple[list[int], list[str], int | None, list[str] | None]:
    """(ids sorted, names, keypoints per box or None, keypoint names)."""
    cats = {}
    for cat in data["categories"]:
        if not isinstance(cat, dict) or not isinstance(cat.get("id"), int) or "name" not in cat:
            raise DataError(f"category {cat!r} needs an integer 'id' and a 'name'", path)
        if cat["id"] in cats:
            raise DataError(f"category id {cat['id']} appears twice", path)
        cats[cat["id"]] = cat
    ids = sorted(cats)
    kpt_counts = {len(cats[i].get("keypoints") or []) for i in ids}
    k = kpt_counts.pop() if len(kpt_counts) == 1 else None
    kpt_names = list(cats[ids[0]].get("keypoints") or []) if k else None
    return ids, [str(cats[i]["name"]) for i in ids], (k or None), kpt_names


def _resolve_image_dir(json_path: Path, split: str, images: list[dict], options: ReadOptions) -> Path:
    if options.images is not None:
        return Path(options.images)
    probe = next((im.get("file_name") for im in images if isinstance(im.get("file_name"), str)), None)
    candidates = _image_dir_candidates(json_path, split, json_path.stem)
    if probe is None:
        return candidates[0]
    for folder in candidates:
        if (folder / probe).is_file():
            return folder
    raise DataError(f"cannot find image '{probe}' in any of {', '.join(str(c) for c in candidates[:4])}, ...; "
                    "pass the images folder (--images)", json_path)


def read_coco_split(json_path: Path, split: str, log: ProblemLog, options: ReadOptions = ReadOptions()):
    """One COCO file -> (images as ImageLabels, category ids, names, kpt_shape)."""
    data = _load_json(json_path)
    cat_ids, names, k, _ = _categories(data, json_path)
    index_of = {cid: i for i, cid in enumerate(cat_ids)}
    images = data["images"]
    image_dir = _resolve_image_dir(json_path, split, images, options)
    by_image: dict[int, list[dict]] = {}
    records_by_id: dict[int, dict] = {}
    for im in images:
        if not isinstance(im, dict) or not isinstance(im.get("id"), int) or not isinstance(im.get("file_name"), str):
            log.add("bad_file", f"image entry {str(im)[:80]} needs an integer 'id' and a 'file_name'", json_path)
            continue
        if im["id"] in records_by_id:
            log.add("reference", f"image id {im['id']} appears twice", json_path)
            continue
        records_by_id[im["id"]] = im
        by_image[im["id"]] = []
    for ann in data.get("annotations") or []:
        image_id = ann.get("image_id") if isinstance(ann, dict) else None
        if image_id not in by_image:
            log.add("reference", f"annotation id {_ann_id(ann)} refers to image id {image_id}, which is not in "
                    "'images'", json_path)
            continue
        by_image[image_id].append(ann)
    out = []
    for image_id, im in progress(records_by_id.items(), f"read {split}", total=len(records_by_id)):
        file = (image_dir / im["file_name"]).absolute()
        size = checked_image(file, log, options.decode)
        if size is None:
            continue
        width, height = size
        declared = (im.get("width"), im.get("height"))
        if declared != (None, None) and declared != (width, height):
            log.add("size_mismatch", f"image id {image_id} ('{im['file_name']}') is {width}x{height} px but the "
                    f"json says {declared[0]}x{declared[1]}", json_path)
            continue
        labels = _annotations(by_image[image_id], file, width, height, index_of, k, json_path, log)
        out.append(labels)
    return out, cat_ids, names, (k, 3) if k else None


def _ann_id(ann) -> str:
    return str(ann.get("id", "?")) if isinstance(ann, dict) else "?"


def _annotations(anns, file, width, height, index_of, k, json_path, log) -> ImageLabels:
    boxes, classes, crowd, kps, ids = [], [], [], [], []
    for ann in anns:
        where = f"annotation id {_ann_id(ann)} ('{file.name}'): "
        bbox = ann.get("bbox")
        if not isinstance(bbox, list) or len(bbox) != 4:
            log.add("columns", where + f"'bbox' must be [x, y, width, height], got {bbox!r}", json_path)
            continue
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in bbox):
            log.add("not_a_number", where + f"'bbox' holds a non-number: {bbox!r}", json_path)
            continue
        if ann.get("category_id") not in index_of:
            log.add("class_id", where + f"category_id {ann.get('category_id')!r} is not in 'categories'", json_path)
            continue
        x, y, w, h = (float(v) for v in bbox)
        if k:
            flat = ann.get("keypoints") or [0.0] * (3 * k)
            if len(flat) != 3 * k:
                log.add("columns", where + f"expected {3 * k} keypoint values, found {len(flat)}", json_path)
                continue
            kps.append(np.asarray(flat, np.float64).reshape(k, 3))
        boxes.append((x, y, x + w, y + h))
        classes.append(index_of[ann["category_id"]])
        crowd.append(bool(ann.get("iscrowd", 0)))
        ids.append(_ann_id(ann))
    keypoints = np.array(kps).reshape(-1, k, 3) if k else None
    return checked_labels(file, width, height, np.array(boxes).reshape(-1, 4), np.array(classes, np.int64),
                          len(index_of), log, lambda i: (json_path, None, f"annotation id {ids[i]} ('{file.name}'): "),
                          keypoints=keypoints, ignore=np.array(crowd, bool), label_file=json_path)


def read_coco(path: str | Path, splits: tuple[str, ...] | None = None, log: ProblemLog | None = None,
              options: ReadOptions = ReadOptions()) -> Dataset:
    """Read COCO: one json file (its split guessed from its name), or a folder of them (one per split)."""
    log = log if log is not None else ProblemLog(strict=True)
    path = Path(path)
    files = {split_from_name(path.stem): path} if path.suffix == ".json" else find_annotation_files(path)
    files = select_splits(files, splits, path)
    dataset = Dataset(names=[], format="coco", source=path.absolute())
    for split, json_path in files.items():
        images, ids, names, kpt_shape = read_coco_split(json_path, split, log, options)
        if dataset.names and (names != dataset.names or ids != dataset.category_ids):
            raise DataError(f"its categories differ from those of the other split files ({dataset.names})", json_path)
        dataset.names, dataset.category_ids, dataset.kpt_shape = names, ids, kpt_shape
        dataset.splits[split] = images
    return dataset


def coco_dict(images: list[ImageLabels], file_names: list[str], names: list[str], category_ids: list[int],
              kpt_shape=None) -> dict:
    """The COCO dict of one split. Boxes are written as [x, y, w, h] in pixels rounded to 6 decimals."""
    k = kpt_shape[0] if kpt_shape else 0
    categories = []
    for cid, name in zip(category_ids, names):
        cat = {"id": cid, "name": name, "supercategory": ""}
        if k:
            cat |= {"keypoints": [f"kpt{j}" for j in range(k)], "skeleton": []}
        categories.append(cat)
    out_images, annotations = [], []
    for image_id, (im, name) in enumerate(zip(images, file_names), 1):
        out_images.append({"id": image_id, "file_name": name, "width": im.width, "height": im.height})
        ignore = im.ignore_mask
        for j, ((x1, y1, x2, y2), c) in enumerate(zip(im.boxes, im.classes)):
            bbox = [round(float(v), 6) for v in (x1, y1, x2 - x1, y2 - y1)]
            for cid in (category_ids if c < 0 else [category_ids[c]]):
                ann = {"id": len(annotations) + 1, "image_id": image_id, "category_id": cid, "bbox": bbox,
                       "area": round(bbox[2] * bbox[3], 6), "iscrowd": int(ignore[j])}
                if k:
                    kp = im.keypoints[j] if im.keypoints is not None else np.zeros((k, 3))
                    ann["keypoints"] = [round(float(v), 6) if t < 2 else int(v)
                                        for row in kp for t, v in enumerate(row)]
                    ann["num_keypoints"] = int((kp[:, 2] > 0).sum())
                annotations.append(ann)
    return {"info": {"description": "written by tinydet"}, "images": out_images, "annotations": annotations,
            "categories": categories}


def write_coco(dataset: Dataset, root: Path, options: WriteOptions = WriteOptions()) -> Path:
    """Write `dataset` into the empty folder `root`: annotations/instances_<split>.json + images/<split>/."""
    if options.coco_keep_ids and dataset.category_ids:
        ids = list(dataset.category_ids)
    else:
        ids = [i + options.coco_first_id for i in range(dataset.nc)]
    (root / "annotations").mkdir(parents=True)
    for split, images in dataset.splits.items():
        rels = relative_paths([im.file for im in images])
        for im, rel in progress(zip(images, rels), f"write {split}", total=len(images)):
            copy_image(im.file, root / "images" / split / rel)
        coco = coco_dict(images, [rel.as_posix() for rel in rels], dataset.names, ids, dataset.kpt_shape)
        (root / "annotations" / f"instances_{split}.json").write_text(json.dumps(coco))
    return root


FORMATS.add("coco", Format(read=read_coco, write=write_coco))
