"""Scenes of solid blocks and the checks that labels stay on their pixels (imported as a plain module: pytest
puts this folder on sys.path).

Object i is a block of colour `colour(i)` and carries class i, so the class of a box names the colour its
pixels must have after an augmentation. Checks use pixel centres: with cv2.INTER_NEAREST_EXACT a resized pixel
takes the colour of the source pixel under its centre, so "the pixels whose centre lies inside box i are
colour(i)" holds exactly after any rescaling that moves the boxes with the image.
"""

from __future__ import annotations

import numpy as np


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
