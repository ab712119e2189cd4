"""Helpers for the data tests: tiny hand-made datasets in every format, and folder checksums.

Imported by the test modules as `datahelpers` (pytest puts this folder on sys.path).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
from PIL import Image


def write_image(path: Path, size=(64, 48), seed: int = 0, fmt: str | None = None) -> Path:
    """A small random RGB image (size = (width, height))."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = np.random.default_rng(seed).integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path, format=fmt)
    return path


def make_yolo(root: Path, labels: dict[str, str | None], size=(64, 48), names=("a", "b"), split="train",
              extra_yaml: str = "") -> Path:
    """YOLO dataset with one split: image name -> label text (None: no label file). Returns data.yaml."""
    for i, (name, text) in enumerate(labels.items()):
        write_image(root / "images" / split / name, size, seed=i)
        if text is not None:
            label = root / "labels" / split / Path(name).with_suffix(".txt")
            label.parent.mkdir(parents=True, exist_ok=True)
            label.write_text(text)
    yaml_text = f"{split}: images/{split}\nnames: {list(names)}\n" + extra_yaml
    (root / "data.yaml").write_text(yaml_text)
    return root / "data.yaml"


def make_coco(root: Path, images: list[dict], annotations: list[dict], categories=None, size=(64, 48)) -> Path:
    """COCO dataset: annotations/instances_train.json + images/train/. Image files are made for every entry
    whose file_name does not start with 'missing'. Returns the json path."""
    categories = categories if categories is not None else [{"id": 0, "name": "a"}, {"id": 1, "name": "b"}]
    for i, im in enumerate(images):
        if not im["file_name"].startswith("missing"):
            write_image(root / "images" / "train" / im["file_name"], size, seed=i)
    path = root / "annotations" / "instances_train.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"images": images, "annotations": annotations, "categories": categories}))
    return path


def voc_object(name="a", box=(11, 11, 30, 20), difficult=0) -> str:
    x1, y1, x2, y2 = box
    return (f"<object><name>{name}</name><difficult>{difficult}</difficult>\n<bndbox>\n<xmin>{x1}</xmin>\n"
            f"<ymin>{y1}</ymin>\n<xmax>{x2}</xmax>\n<ymax>{y2}</ymax>\n</bndbox></object>\n")


def make_voc(root: Path, objects: dict[str, str], size=(64, 48), declared=None) -> Path:
    """VOC folder: image id -> <object> elements text. Returns the root."""
    w, h = declared or size
    for i, (image_id, body) in enumerate(objects.items()):
        write_image(root / "JPEGImages" / f"{image_id}.jpg", size, seed=i)
        (root / "Annotations").mkdir(parents=True, exist_ok=True)
        (root / "Annotations" / f"{image_id}.xml").write_text(
            f"<annotation>\n<filename>{image_id}.jpg</filename>\n<size><width>{w}</width><height>{h}</height>"
            f"<depth>3</depth></size>\n{body}</annotation>\n")
    return root


def make_visdrone(root: Path, annotations: dict[str, str], size=(64, 48)) -> Path:
    """VisDrone split folder: image stem -> annotation text. Returns the folder."""
    for i, (stem, text) in enumerate(annotations.items()):
        write_image(root / "images" / f"{stem}.jpg", size, seed=i)
        (root / "annotations").mkdir(parents=True, exist_ok=True)
        (root / "annotations" / f"{stem}.txt").write_text(text)
    return root


def checksums(folder: Path) -> dict[str, str]:
    """Relative path -> sha256 of every file under `folder` (plus every folder, as 'dir')."""
    out = {}
    for p in sorted(folder.rglob("*")):
        rel = p.relative_to(folder).as_posix()
        out[rel] = "dir" if p.is_dir() else hashlib.sha256(p.read_bytes()).hexdigest()
    return out
