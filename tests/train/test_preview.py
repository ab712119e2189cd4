"""`tinydet augment-preview` draws what ultralytics' real training dataset yields, and through that same dataset
the toolbox steps keep every label on its pixels after mosaic, affine and flips."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml
from drawing import snapshot
from drawing import assert_labels_on_pixels

from tinydet.cli import main
from tinydet.train import augment
from tinydet.train.api import TrainOptions
from tinydet.train.erase import GREY
from tinydet.train.preview import PREVIEW_FILE, RECORD_FILE, draw_boxes, grid, network_view, training_dataset
from tinydet.train.recipe import Recipe

# ultralytics steps that would resample or recolour pixels are off; mosaic, integer translations and flips stay
EXACT_ULTRALYTICS = {"scale": 0.0, "translate": 0.0, "hsv_h": 0.0, "hsv_s": 0.0, "hsv_v": 0.0, "fliplr": 0.5,
                     "flipud": 0.5, "mosaic": 1.0}


def test_the_real_pipeline_keeps_labels_on_pixels(blocks_data, tmp_path, monkeypatch):
    monkeypatch.setattr(augment, "random_interpolation", lambda rng: cv2.INTER_NEAREST_EXACT)
    # one resizing step (crop), so that the check can be exact (test_pipeline.py checks all steps together)
    recipe = Recipe(random_interp=True, ssd_crop=0.7, erase=0.5, erase_fill="grey")
    opts = TrainOptions(data=str(blocks_data), imgsz=128, batch=4, recipe=recipe, overrides=EXACT_ULTRALYTICS)
    dataset, names, _ = training_dataset(opts, tmp_path / "work")
    assert names == {0: "a", 1: "b", 2: "c"}
    np.random.seed(0)
    boxes_seen = 0
    for index in list(range(len(dataset))) * 2:
        img, boxes, classes = network_view(dataset[index])
        assert img.shape == (128, 128, 3)
        assert_labels_on_pixels(img, boxes, classes, min_pixels=0, erased=GREY, strays="ring")
        boxes_seen += len(boxes)
    assert boxes_seen > 20


def test_network_view_undoes_ultralytics_formatting():
    import torch

    img = np.zeros((4, 6, 3), np.uint8)
    img[..., 0] = 255  # blue in BGR
    item = {"img": torch.from_numpy(img[..., ::-1].transpose(2, 0, 1).copy()),  # what Format hands over: RGB, CHW
            "bboxes": torch.tensor([[0.5, 0.5, 1 / 3, 0.5]]), "cls": torch.tensor([[2.0]])}
    out, boxes, classes = network_view(item)
    assert (out[..., 0] == 255).all() and (out[..., 1:] == 0).all()
    np.testing.assert_allclose(boxes, [[2, 1, 4, 3]], atol=1e-6)
    assert classes.tolist() == [2]


def test_drawn_outlines_leave_the_objects_visible():
    img = np.zeros((20, 20, 3), np.uint8)
    img[5:10, 5:10] = 200
    out = draw_boxes(img, np.array([[5, 5, 10, 10]], np.float32), np.array([0]), ["x"])
    assert (out[5:10, 5:10] == 200).all()  # the outline goes around the box, not over the object
    assert (out[4, 4:11] != 0).any(-1).all() and (out[10, 4:11] != 0).any(-1).all()


def test_grid_places_tiles_in_rows():
    tiles = [np.full((10, 12, 3), v, np.uint8) for v in (50, 100, 150, 200, 250)]
    canvas = grid(tiles, columns=2, gap=2)
    assert canvas.shape == (3 * 12 + 2, 2 * 14 + 2, 3)
    assert (canvas[2:12, 2:14] == 50).all() and (canvas[14:24, 16:28] == 200).all() and (canvas[26:36, 2:14] == 250).all()


def test_cli_writes_the_grid_and_leaves_the_dataset_alone(blocks_data, tmp_path, capsys):
    root = blocks_data.parent
    before = snapshot(root)
    out = tmp_path / "preview"
    code = main(["augment-preview", str(blocks_data), "--out", str(out), "--imgsz", "128", "--samples", "5",
                 "--ssd-crop", "1", "--erase", "0.5", "--set", "mosaic=0.5"])
    assert code == 0 and str(out / PREVIEW_FILE) in capsys.readouterr().out
    picture = cv2.imread(str(out / PREVIEW_FILE))
    assert picture.shape == (2 * (128 + 4) + 4, 3 * (128 + 4) + 4, 3)  # 5 tiles: 3 columns, 2 rows
    record = yaml.safe_load((out / RECORD_FILE).read_text())
    assert record["recipe"]["ssd_crop"] == 1.0 and record["ultralytics"] == {"mosaic": 0.5}
    assert [s["sample"] for s in record["samples"]] == list(range(5))
    sources = {p.resolve() for p in (root / "images" / "train").iterdir()}
    assert {Path(s["image"]) for s in record["samples"]} <= sources  # the user's files, not temporary links
    assert snapshot(root) == before  # no ultralytics label cache in the user's dataset
    # a second run into the same folder is refused, and the first output stays
    assert main(["augment-preview", str(blocks_data), "--out", str(out), "--imgsz", "128"]) == 2
    assert "not empty" in capsys.readouterr().err and (out / PREVIEW_FILE).is_file()


def test_skip_bad_previews_the_good_images(blocks_data, tmp_path, capsys):
    import shutil

    data = tmp_path / "data"
    shutil.copytree(blocks_data.parent, data)
    (data / "data.yaml").write_text(blocks_data.read_text().replace(str(blocks_data.parent), str(data)))
    label = sorted((data / "labels" / "train").glob("*.txt"))[0]
    label.write_text(label.read_text() + "9 0.5 0.5 0.1 0.1\n")
    argv = ["augment-preview", str(data / "data.yaml"), "--imgsz", "128", "--samples", "2"]
    assert main([*argv, "--out", str(tmp_path / "p1")]) == 2
    assert f"{label.name}:" in capsys.readouterr().err
    assert main([*argv, "--out", str(tmp_path / "p2"), "--skip-bad"]) == 0
    err = capsys.readouterr().err
    assert f"tinydet augment-preview: warning: 1 x class_id [skipped]: {label}:" in err
    record = yaml.safe_load((tmp_path / "p2" / RECORD_FILE).read_text())
    assert all(Path(s["image"]).parent == (data / "images" / "train").resolve() for s in record["samples"])


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--samples", "0"], "--samples must be at least 1"),
        (["--erase", "2"], "erase must be in [0, 1]"),
        (["--model", "yolov9z"], "unknown model 'yolov9z'"),
    ],
)
def test_cli_errors_are_one_line(blocks_data, tmp_path, capsys, argv, message):
    assert main(["augment-preview", str(blocks_data), "--out", str(tmp_path / "p"), *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "p").exists()
