"""Fixtures for the data tests (helpers in datahelpers.py)."""

import pytest
from datahelpers import make_yolo


@pytest.fixture
def yolo_two_images(tmp_path):
    """Two 64x48 images, classes a/b, 3 boxes (one of class b), in YOLO layout."""
    return make_yolo(tmp_path / "src", {
        "x.jpg": "0 0.5 0.5 0.25 0.25\n1 0.2 0.3 0.125 0.1\n",
        "y.png": "0 0.7 0.6 0.3 0.4\n",
    })
