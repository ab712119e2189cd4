"""Tiny YOLO datasets of coloured blocks (class k is drawn in drawing.colour(k)), made on the fly."""

from __future__ import annotations

import numpy as np
import pytest
from drawing import write_blocks_dataset


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
