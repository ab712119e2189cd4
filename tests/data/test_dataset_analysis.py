"""analyze(): counts, sizes, buckets, recommendations on datasets whose answers are known by construction."""

import json
from pathlib import Path

import numpy as np
import pytest

from tinydet.data import load_dataset
from tinydet.data.analysis import analyze
from tinydet.data.dataset import Dataset, ImageLabels
from tinydet.data.recommend import AnalysisOptions
from tinydet.errors import TinydetError


def square_boxes(sides, width, height, seed=0):
    """Square boxes of the given sides at random positions inside a width x height image."""
    rng = np.random.default_rng(seed)
    sides = np.asarray(sides, float)
    x = rng.uniform(0, width - sides)
    y = rng.uniform(0, height - sides)
    return np.stack([x, y, x + sides, y + sides], 1)


def dataset_of(images, names=("a", "b")) -> Dataset:
    """images: list of (width, height, sides, classes)."""
    records = [ImageLabels(Path(f"/nowhere/{i}.jpg"), w, h, square_boxes(s, w, h, i), c)
               for i, (w, h, s, c) in enumerate(images)]
    return Dataset(names=list(names), splits={"train": records})


def test_counts_sizes_and_buckets():
    boxes = np.array([[0, 0, 4, 4], [10, 10, 20, 20], [50, 50, 82, 82], [100, 0, 140, 30]], float)
    first = ImageLabels(Path("/n/a.jpg"), 256, 128, boxes, [0, 0, 1, 0], ignore=[False, False, False, True])
    empty = ImageLabels(Path("/n/b.jpg"), 100, 50, np.zeros((0, 4)), [])
    ds = Dataset(names=["a", "b", "c"], splits={"train": [first], "val": [empty]})
    a = analyze(ds, imgsz=128)
    assert (a.images, a.instances, a.ignored, a.background_images) == (2, 3, 1, 1)
    assert a.per_class == {"a": 2, "b": 1, "c": 0}
    assert a.splits == {"train": {"images": 1, "instances": 3}, "val": {"images": 1, "instances": 0}}
    assert a.image_sizes == {"256x128": 1, "100x50": 1}
    assert a.buckets.coco == {"small": 2, "medium": 1, "large": 0}  # 32 x 32 is medium (area < 32^2 is small)
    assert a.buckets.aitod == {"very_tiny": 1, "tiny": 1, "small": 0, "medium": 1, "large": 0}
    assert a.buckets_at_imgsz.aitod == {"very_tiny": 2, "tiny": 0, "small": 1, "medium": 0, "large": 0}  # 2, 5, 16
    assert a.box_sizes.sqrt_area.max == 32 and a.box_sizes_at_imgsz.sqrt_area.max == 16  # 128 / 256
    assert a.objects_per_image.max == 3 and a.objects_per_image.min == 0
    assert "c" in a.recommendations.imbalance.empty_classes


def test_json_has_the_agreed_keys(tmp_path, tiny_data):
    a = analyze(load_dataset(tiny_data), imgsz=128)
    data = json.loads(a.write_json(tmp_path / "a.json").read_text())
    for key in ("images", "instances", "per_class", "buckets", "recommendations"):
        assert key in data
    assert set(data["buckets"]["coco"]) == {"small", "medium", "large"}
    assert set(data["buckets"]["aitod"]) == {"very_tiny", "tiny", "small", "medium", "large"}
    assert {"imgsz", "p2", "slice", "overlap", "anchors", "imbalance", "reasons"} <= set(data["recommendations"])
    assert data["images"] == 16 and data["instances"] == sum(data["per_class"].values())
    assert sum(data["buckets"]["coco"].values()) == data["instances"] == sum(data["buckets"]["aitod"].values())


def test_tiny_objects_want_p2_but_no_slicing():
    a = analyze(dataset_of([(640, 640, [5.0] * 40, [0] * 40)]), imgsz=640)
    r = a.recommendations
    assert (r.imgsz, r.p2, r.slice, r.overlap) == (640, True, None, 0.0)
    assert "stride-4 (P2) head inside 100.0%" in r.reasons["p2"]


def test_objects_too_small_even_for_p2_want_magnifying_tiles():
    r = analyze(dataset_of([(640, 640, [3.0] * 40, [0] * 40)]), imgsz=640).recommendations
    # stride 4 covers (3/4)^2 = 56% of 3 px boxes; tiles of T px scale them by 640 / T, and coverage
    # (3 * 640 / T / 4)^2 >= 0.9 first holds for T <= 505: the largest multiple of 32 is 480.
    assert r.p2 and r.slice == 480 and r.overlap == 0.1
    assert "below the 90.0% target" in r.reasons["slice"]


def test_large_images_are_sliced_at_native_resolution():
    r = analyze(dataset_of([(4000, 3000, [20.0] * 30, [0] * 30)]), imgsz=640).recommendations
    assert r.imgsz == 1280 and "capped" in r.reasons["imgsz"]
    assert r.slice == 640 and r.overlap == 0.1  # 20 px objects: 0.1 x 640 = 64 px band is plenty


def test_overlap_follows_the_largest_objects():
    sides = [3.0] * 90 + [150.0] * 10
    r = analyze(dataset_of([(640, 640, sides, [0] * 100)]), imgsz=640).recommendations
    assert r.slice is not None
    assert r.overlap == pytest.approx(min(0.5, np.ceil(150 / r.slice / 0.05) * 0.05))


def test_large_objects_train_smaller_without_p2_or_slicing():
    r = analyze(dataset_of([(640, 640, [200.0] * 20, [0] * 20)]), imgsz=640).recommendations
    assert r.imgsz < 640 and "faster" in r.reasons["imgsz"]
    assert not r.p2 and r.slice is None


def test_imbalance_advice():
    balanced = analyze(dataset_of([(320, 320, [20.0] * 10, [0] * 5 + [1] * 5)])).recommendations
    assert balanced.imbalance is None and "balanced enough" in balanced.reasons["imbalance"]
    images = [(320, 320, [20.0] * 10, [0] * 10) for _ in range(9)] + [(320, 320, [20.0], [1])]
    r = analyze(dataset_of(images)).recommendations
    assert r.imbalance.ratio == 90
    # f(a) = 0.9, f(b) = 0.1, t = median = 0.5: r(b) = sqrt(0.5 / 0.1)
    assert r.imbalance.repeat_factors == {"a": 1.0, "b": round(np.sqrt(5), 2)}
    assert r.imbalance.class_weights["b"] == round(np.sqrt(90), 2)
    assert "repeat-factor sampling" in r.reasons["imbalance"]


def test_anchor_count_is_configurable_and_reported():
    ds = dataset_of([(320, 320, [8.0] * 10 + [40.0] * 10, [0] * 20)])
    r = analyze(ds, imgsz=320, options=AnalysisOptions(anchors=2)).recommendations
    np.testing.assert_allclose(r.anchors, [[8, 8], [40, 40]])
    assert r.anchor_fit == pytest.approx(1.0)


def test_bad_imgsz_and_empty_dataset():
    with pytest.raises(TinydetError, match="multiple of 32"):
        analyze(dataset_of([(64, 64, [4.0], [0])]), imgsz=100)
    with pytest.raises(TinydetError, match="no images"):
        analyze(Dataset(names=["a"], splits={"train": []}))


def test_plots_are_written(tmp_path, tiny_data):
    from PIL import Image

    from tinydet.data.plots import write_plots

    paths = write_plots(analyze(load_dataset(tiny_data), imgsz=128), tmp_path / "plots")
    assert [p.name for p in paths] == ["sizes.png", "centres.png", "classes.png"]
    for p in paths:
        assert Image.open(p).format == "PNG"
    with pytest.raises(TinydetError, match="already exists"):
        write_plots(analyze(load_dataset(tiny_data), imgsz=128), tmp_path / "plots")
