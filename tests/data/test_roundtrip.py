"""Round trips between formats change no box beyond float rounding."""

from pathlib import Path

import numpy as np
import pytest
from datahelpers import make_yolo
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tinydet.data import load_dataset, write_dataset

NAMES = ("a", "b", "c")


def _label_text(rows) -> str:
    return "".join(f"{c} {cx:.6f} {cy:.6f} {w:.6f} {h:.6f}\n" for c, cx, cy, w, h in rows)


def _files(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): p.read_text() for p in sorted(root.rglob("*.txt"))}


def test_yolo_coco_yolo_gives_identical_label_files(tmp_path, tiny_data):
    coco = write_dataset(load_dataset(tiny_data), tmp_path / "coco", "coco")
    back = write_dataset(load_dataset(coco), tmp_path / "back", "yolo")
    assert _files(back.parent / "labels") == _files(tiny_data.parent / "labels")
    assert load_dataset(back).names == load_dataset(tiny_data).names


@pytest.mark.parametrize("fmt", ["coco", "voc", "visdrone", "yolo"])
def test_every_format_keeps_boxes_classes_and_splits(tmp_path, tiny_data, fmt):
    src = load_dataset(tiny_data)
    again = load_dataset(write_dataset(src, tmp_path / fmt, fmt))
    assert again.names == src.names and list(again.splits) == list(src.splits)
    for split in src.splits:
        for a, b in zip(src.splits[split], again.splits[split]):
            assert (a.file.name, a.width, a.height) == (b.file.name, b.width, b.height)
            assert a.classes.tolist() == b.classes.tolist()
            # pixel formats store 6 decimals; VOC whole pixels (corners move by at most half a pixel)
            np.testing.assert_allclose(b.boxes, a.boxes, atol=0.5 if fmt == "voc" else 1e-6)


row = st.tuples(st.integers(0, 2), st.integers(1, 999_999), st.integers(1, 999_999), st.integers(1, 999_999),
                st.integers(1, 999_999))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(row, max_size=6), width=st.integers(10, 160), height=st.integers(10, 160))
def test_yolo_coco_yolo_property(tmp_path_factory, rows, width, height):
    """Any valid normalised box written with 6 decimals survives YOLO -> COCO -> YOLO exactly (as text)."""
    # keep boxes inside the image: cx - w/2 >= 0 and cx + w/2 <= 1 (in millionths)
    fixed = []
    for c, cx, cy, w, h in rows:
        w, h = min(w, 2 * cx, 2 * (1_000_000 - cx)), min(h, 2 * cy, 2 * (1_000_000 - cy))
        if w > 0 and h > 0:
            fixed.append((c, cx / 1e6, cy / 1e6, w / 1e6, h / 1e6))
    fixed = list(dict.fromkeys(fixed))  # duplicates would (rightly) be removed
    root = tmp_path_factory.mktemp("rt")
    data = make_yolo(root / "src", {"x.png": _label_text(fixed)}, size=(width, height), names=NAMES)
    coco = write_dataset(load_dataset(data), root / "coco", "coco")
    back = write_dataset(load_dataset(coco), root / "back", "yolo")
    assert (back.parent / "labels" / "train" / "x.txt").read_text() == _label_text(fixed)


def test_boxes_a_hair_past_the_edge_survive_a_round_trip(tmp_path):
    """6-decimal labels overshoot the image edge by ~1e-6 of its size; such boxes are kept as labelled, so
    YOLO -> COCO -> YOLO gives the same lines. A box that crosses the edge for real is clipped, with a warning."""
    from tinydet.data import DataWarning

    hair = _label_text([(0, 0.999999, 0.5, 0.000004, 0.2), (1, 0.5, 0.0000005, 0.25, 0.000003)])
    data = make_yolo(tmp_path / "src", {"x.png": hair}, size=(640, 480), names=NAMES)
    coco = write_dataset(load_dataset(data), tmp_path / "coco", "coco")
    back = write_dataset(load_dataset(coco), tmp_path / "back", "yolo")
    assert (back.parent / "labels" / "train" / "x.txt").read_text() == hair

    crossing = make_yolo(tmp_path / "cross", {"x.png": "0 0.99 0.5 0.04 0.2\n"}, size=(640, 480), names=NAMES)
    with pytest.warns(DataWarning, match="crosses the edge"):
        boxes = load_dataset(crossing).splits["train"][0].boxes
    assert boxes[0, 2] == 640
