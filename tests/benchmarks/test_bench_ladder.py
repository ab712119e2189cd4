"""benchmarks/bench_ladder.py: the parts its BENCHMARKS.md table rests on besides training (the pycocotools ground
truth built from YOLO labels, the smoke subset and the table's ratios to the baseline)."""

from __future__ import annotations

from argparse import Namespace
from pathlib import Path

import pytest
import yaml
from PIL import Image


@pytest.fixture(scope="module")
def ladder(benchmark_script):
    return benchmark_script("bench_ladder")


def write_image(root: Path, name: str, size: tuple[int, int], label: str | None) -> Path:
    """An image under root/images and, unless label is None, its YOLO label under root/labels."""
    (root / "images").mkdir(parents=True, exist_ok=True)
    (root / "labels").mkdir(parents=True, exist_ok=True)
    path = root / "images" / name
    Image.new("RGB", size).save(path)
    if label is not None:
        (root / "labels" / Path(name).with_suffix(".txt")).write_text(label)
    return path


def test_coco_ground_truth_puts_yolo_boxes_on_their_pixels(ladder, tmp_path):
    wide = write_image(tmp_path, "a.png", (100, 50), "1 0.5 0.5 0.2 0.4\n\n0 0.1 0.2 0.2 0.2\n")
    empty = write_image(tmp_path, "b.png", (64, 64), None)  # no label file: a background image
    gt = ladder.coco_ground_truth([wide, empty], nc=2)
    assert [(i["width"], i["height"]) for i in gt.dataset["images"]] == [(100, 50), (64, 64)]
    anns = gt.dataset["annotations"]
    assert [a["image_id"] for a in anns] == [0, 0]
    assert [a["category_id"] for a in anns] == [1, 0]
    assert anns[0]["bbox"] == pytest.approx([40, 15, 20, 20])  # x, y, w, h in pixels
    assert anns[0]["area"] == pytest.approx(400)
    assert anns[1]["bbox"] == pytest.approx([0, 5, 20, 10])
    assert [c["id"] for c in gt.dataset["categories"]] == [0, 1]


def test_subset_data_picks_the_same_n_images_of_each_split(ladder, tmp_path):
    root = tmp_path / "data"
    for split, count in (("train", 6), ("val", 3)):
        for i in range(count):
            write_image(root / split, f"{i}.png", (8, 8), "0 0.5 0.5 0.5 0.5\n")
    (root / "data.yaml").write_text(yaml.safe_dump({"path": str(root), "train": "train/images",
                                                    "val": "val/images", "names": {0: "thing"}}))
    first = ladder.subset_data(str(root / "data.yaml"), tmp_path / "a", 4)
    second = ladder.subset_data(str(root / "data.yaml"), tmp_path / "b", 4)
    cfg = yaml.safe_load(first.read_text())
    train = Path(cfg["train"]).read_text().split()
    val = Path(cfg["val"]).read_text().split()
    assert len(train) == 4 and len(set(train)) == 4 and len(val) == 3  # val has only 3: all of them
    assert all(Path(p).parent == root / "train" / "images" for p in train)
    assert train == Path(yaml.safe_load(second.read_text())["train"]).read_text().split()
    assert cfg["nc"] == 1 and cfg["names"] == {0: "thing"}


def row(seed: int, ap_small: float) -> dict:
    return {"seed": seed, "mAP50": 0.5, "mAP50-95": 0.25, "ap_small": ap_small, "params": 3_000_000,
            "params_fused": 2_900_000, "gflops": 3.5, "total_ms": 40.0 + seed, "inference_ms": 30.0}


def test_table_states_mean_spread_and_the_ratio_to_the_baseline(ladder):
    args = Namespace(imgsz=416, epochs=25, batch=16, data="d.yaml", subset=0)
    results = {"yolov8n": [row(0, 0.10), row(1, 0.20)], "yolov8n-p2": [row(0, 0.30)]}
    names = {"yolov8n": "Baseline", "yolov8n-p2": "+ P2"}
    lines = ladder.table(results, names, args).splitlines()
    base = next(line for line in lines if line.startswith("| Baseline "))
    p2 = next(line for line in lines if line.startswith("| + P2 "))
    assert "| 0, 1 |" in base and "0.150 ± 0.050" in base and "+0%" in base
    assert "40.5 ± 0.5" in base  # latency: mean ± half-range too
    assert "| 0.300 |" in p2 and "+100%" in p2 and "3.000M (2.900M)" in p2
    without_baseline = ladder.table({"yolov8n-p2": [row(0, 0.30)]}, names, args)
    assert "n/a" in without_baseline
