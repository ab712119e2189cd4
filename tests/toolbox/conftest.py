"""Tiny YOLO datasets of coloured blocks (class k is drawn in drawing.colour(k)), made on the fly."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml
from drawing import colour, random_blocks


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


@pytest.fixture
def imbalanced_data(tmp_path):
    """10 train images: class 0 in all of them, class 1 in one, class 2 in two, and one image without labels."""
    per_image = [[0, 1], [0, 2], [0, 2], [0], [0], [0], [0, 0], [0], [0], []]
    return write_blocks_dataset(tmp_path / "imbalanced", per_image)


@pytest.fixture
def blocks_data(tmp_path):
    """8 train images of 96 x 128 px with 2-4 blocks of three classes."""
    rng = np.random.default_rng(1)
    per_image = [list(rng.integers(0, 3, size=int(rng.integers(2, 5)))) for _ in range(8)]
    return write_blocks_dataset(tmp_path / "blocks", per_image)


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """{relative path: (size, mtime_ns)} of every file under `folder`, to prove a command changed nothing there."""
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(folder.rglob("*")) if p.is_file()}
