"""Scenes of solid blocks and the checks that labels stay on their pixels (imported as a plain module: pytest
puts this folder on sys.path).

Object i is a block of colour `colour(i)` and carries class i, so the class of a box names the colour its
pixels must have after an augmentation. Checks use pixel centres: with cv2.INTER_NEAREST_EXACT a resized pixel
takes the colour of the source pixel under its centre, so "the pixels whose centre lies inside box i are
colour(i)" holds exactly after any rescaling that moves the boxes with the image.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import yaml


def colour(i: int) -> np.ndarray:
    """A distinct BGR colour per object index, never black, never ultralytics' grey 114."""
    return np.array([60 + (37 * i) % 180, 200 - (53 * i) % 150, 90 + (71 * i) % 160], np.uint8)


def scene(h: int, w: int, boxes: np.ndarray, background: int = 0) -> np.ndarray:
    """uint8 [h, w, 3] with block i filling the integer box i (x1, y1, x2, y2 end-exclusive) in colour(i)."""
    img = np.full((h, w, 3), background, np.uint8)
    for i, (x1, y1, x2, y2) in enumerate(np.asarray(boxes).astype(int)):
        img[y1:y2, x1:x2] = colour(i)
    return img


def random_blocks(rng: np.random.Generator, h: int, w: int, n: int, lo: int = 3, hi: int = 14) -> np.ndarray:
    """Up to n non-touching integer boxes float32 [M, 4] inside an h x w image."""
    boxes = []
    taken = np.zeros((h, w), bool)
    for _ in range(n * 5):
        if len(boxes) == n:
            break
        bw, bh = rng.integers(lo, hi, size=2)
        x, y = int(rng.integers(0, w - bw)), int(rng.integers(0, h - bh))
        if taken[max(0, y - 1) : y + bh + 1, max(0, x - 1) : x + bw + 1].any():
            continue
        taken[y : y + bh, x : x + bw] = True
        boxes.append([x, y, x + bw, y + bh])
    return np.array(boxes, np.float32).reshape(-1, 4)


TIE = 1e-3  # px


def centre_mask(box: np.ndarray, h: int, w: int) -> np.ndarray:
    """bool [h, w]: pixels whose centre lies inside `box` (x1 <= cx < x2, y1 <= cy < y2)."""
    xs, ys = np.arange(w) + 0.5, np.arange(h) + 0.5
    inx = (xs >= box[0]) & (xs < box[2])
    iny = (ys >= box[1]) & (ys < box[3])
    return iny[:, None] & inx[None, :]


def assert_labels_on_pixels(img: np.ndarray, boxes: np.ndarray, classes: np.ndarray, min_pixels: int = 1,
                            erased: int | None = None, tol: float = 0.0, strays: str = "all") -> None:
    """Boxes and the pixels of their objects agree, both ways:

    - the pixels whose centre lies inside a box (shrunk by `tol` px) have the colour of its class, or the grey
      value `erased` when erasing may have painted over part of the object; there are at least `min_pixels`;
    - strays="all": every pixel of a class's colour lies inside some box of that class (grown by `tol` px);
      strays="ring": no pixel within 1 px outside a box (beyond `tol`) has its class's colour (for pipelines
      that may leave unlabelled pieces of objects elsewhere, such as crops).

    `tol` = 0 is exact after one nearest-exact resize, up to pixel centres that lie exactly on an edge (OpenCV's
    fixed-point arithmetic may put those on either side: `TIE` px); each further resize adds up to half a pixel
    of its own, magnified by the later ones.
    """
    h, w = img.shape[:2]
    tol = tol + TIE
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    classes = np.asarray(classes).reshape(-1).astype(int)
    for box, c in zip(boxes, classes):
        inside = centre_mask(box + [tol, tol, -tol, -tol], h, w)
        assert inside.sum() >= min_pixels, f"box {box.tolist()} covers {inside.sum()} pixels"
        wrong = (img[inside] != colour(c)).any(-1)
        if erased is not None:
            wrong &= (img[inside] != erased).any(-1)
        assert not wrong.any(), f"box {box.tolist()} of class {c}: {wrong.sum()} of {inside.sum()} pixels differ"
        if strays == "ring":
            ring = centre_mask(box + [-tol - 1, -tol - 1, tol + 1, tol + 1], h, w) & ~centre_mask(box + [-tol, -tol, tol, tol], h, w)
            touching = (img[ring] == colour(c)).all(-1)
            assert not touching.any(), f"box {box.tolist()} of class {c}: its object reaches {touching.sum()} px beyond it"
    for c in np.unique(classes) if strays == "all" else []:
        allowed = np.zeros((h, w), bool)
        for box in boxes[classes == c]:
            allowed |= centre_mask(box + [-tol, -tol, tol, tol], h, w)
        stray = (img == colour(c)).all(-1) & ~allowed
        assert not stray.any(), f"class {c}: {stray.sum()} pixels of its colour lie outside its boxes"


def object_pixels(img: np.ndarray, i: int) -> int:
    """How many pixels have colour(i)."""
    return int((img == colour(i)).all(-1).sum())


def write_blocks_dataset(root: Path, classes_per_image: list[list[int]], size=(96, 128), val: int = 2, seed: int = 0,
                         names=("a", "b", "c")) -> Path:
    """A YOLO dataset whose train image i holds one block per entry of classes_per_image[i]; returns data.yaml."""
    rng = np.random.default_rng(seed)
    h, w = size
    splits = {"train": classes_per_image, "val": [[0, 1, 2]] * val}
    for split, images in splits.items():
        (root / "images" / split).mkdir(parents=True)
        (root / "labels" / split).mkdir(parents=True)
        for i, wanted in enumerate(images):
            boxes = random_blocks(rng, h, w, len(wanted), lo=5, hi=16)
            img = np.zeros((h, w, 3), np.uint8)
            lines = []
            for (x1, y1, x2, y2), c in zip(boxes.astype(int), wanted):
                img[y1:y2, x1:x2] = colour(c)
                lines.append(f"{c} {(x1 + x2) / 2 / w} {(y1 + y2) / 2 / h} {(x2 - x1) / w} {(y2 - y1) / h}")
            cv2.imwrite(str(root / "images" / split / f"{i:03d}.png"), img)
            (root / "labels" / split / f"{i:03d}.txt").write_text("".join(line + "\n" for line in lines))
    data = root / "data.yaml"
    data.write_text(yaml.safe_dump({"path": str(root), "train": "images/train", "val": "images/val", "names": list(names)}))
    return data


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """{relative path: (size, mtime_ns)} of every file under `folder`, to prove a command changed nothing there."""
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(folder.rglob("*")) if p.is_file()}
