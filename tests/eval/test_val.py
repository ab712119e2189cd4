"""`validate` / `tinydet val`: plumbing with a stand-in predictor (fast), and end to end with a real checkpoint
trained for one epoch (slow): val, report and compare evaluating best.pt and caching the evaluation."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tinydet.cli import main
from tinydet.data.formats.yolo import read_yolo
from tinydet.detections import Detections
from tinydet.errors import TinydetError
from tinydet.eval import small_object_metrics
from tinydet.eval.validate import ValOptions, validate


@pytest.fixture(scope="module")
def labels_by_file(tiny_data):
    return {im.file: im for im in read_yolo(tiny_data, splits=("val",)).splits["val"]}


def test_validate_with_a_predictor(tiny_data, labels_by_file):
    seen = []

    def predictor(path):
        seen.append(path)
        im = labels_by_file[path]
        return Detections(im.boxes, np.full(len(im), 0.9), im.classes)

    result = validate(None, tiny_data, ValOptions(split="val"), predictor=predictor)
    assert sorted(seen) == sorted(labels_by_file) and result.coco.AP == 1.0 and result.center.AP == 1.0
    assert result.n_images == 4 and result.per_class[0].name == "disc"


def test_validate_rejects_a_predictor_that_returns_something_else(tiny_data):
    with pytest.raises(TinydetError, match="returned list for .*val_000000.jpg, expected Detections"):
        validate(None, tiny_data, predictor=lambda path: [])


def test_a_predictor_of_other_classes_is_refused_before_predicting(tiny_data, labels_by_file, capsys):
    names = read_yolo(tiny_data, splits=("val",)).names

    def predictor(path):
        im = labels_by_file[path]
        return Detections(im.boxes, np.full(len(im), 0.9), im.classes)

    predictor.names = {0: "person"}
    with pytest.raises(TinydetError, match=r"predicts 1 classes \(person\) but .*data.yaml has %d" % len(names)):
        validate(None, tiny_data, predictor=predictor)
    predictor.names = {i: f"c{i}" for i in range(len(names))}  # same number, other names: scored, with a warning
    assert validate(None, tiny_data, predictor=predictor).coco.AP == 1.0
    assert "class names differ" in capsys.readouterr().err


def test_sliced_flags(tiny_data, capsys):
    assert main(["val", "--model", "m.pt", "--data", str(tiny_data), "--overlap", "0.3"]) == 2
    assert "--overlap and --merge apply to sliced validation" in capsys.readouterr().err


@pytest.fixture(scope="module")
def trained_run(tiny_data, tmp_path_factory):
    from tinydet.train.api import TrainOptions, train

    out = tmp_path_factory.mktemp("train") / "run"
    train(TrainOptions(data=str(tiny_data), model="yolov8n", epochs=1, imgsz=64, batch=4, out=str(out), workers=0))
    assert (out / "weights" / "best.pt").is_file() and (out / "args.yaml").is_file()
    return out


@pytest.mark.slow
def test_val_cli_with_a_checkpoint(trained_run, tiny_data, tmp_path, capsys):
    out = tmp_path / "m.json"
    rc = main(["val", "--model", str(trained_run / "weights" / "best.pt"), "--data", str(tiny_data), "--imgsz", "64",
               "--json", str(out)])
    assert rc == 0
    text = capsys.readouterr().out
    assert "coco (" in text and "aitod (" in text and "center (" in text
    metrics = json.loads(out.read_text())["metrics"]
    assert {"AP", "APvt", "AP50_center"} <= set(metrics) and all(-1 <= v <= 1 for k, v in metrics.items() if k != "F1_conf")


@pytest.mark.slow
def test_report_evaluates_best_pt_once_then_uses_the_cache(trained_run, tmp_path, capsys):
    from tinydet.eval.runs import CACHE_DIR, evaluate_run

    first = evaluate_run(trained_run, log=lambda m: None)
    assert not first.cached and (trained_run / CACHE_DIR / "metrics.json").is_file()
    assert first.params and first.params > 1e6 and first.gflops and first.gflops > 0
    second = evaluate_run(trained_run)
    assert second.cached and small_object_metrics(second.result) == small_object_metrics(first.result)
    assert main(["report", str(trained_run), "--out", str(tmp_path / "r.html")]) == 0
    assert (tmp_path / "r.html").stat().st_size > 10_000
    assert main(["compare", str(trained_run)]) == 0
    assert f"{first.params / 1e6:.3f}M" in capsys.readouterr().out


@pytest.mark.slow
def test_sliced_val_matches_whole_image_val_when_one_tile_covers_the_image(trained_run, tiny_data, labels_by_file,
                                                                          tmp_path):
    """A 128 px tile on 128 px images is one tile per image: sliced val must predict exactly like whole-image val."""
    from tinydet.eval.validate import full_image_predictor, sliced_predictor

    model = str(trained_run / "weights" / "best.pt")
    whole = full_image_predictor(model, ValOptions(imgsz=128))
    sliced = sliced_predictor(model, (128, 128), 0.2, "nms", ValOptions(), imgsz=128)
    images = sorted(labels_by_file)
    for image in images:
        a, b = whole(image), sliced(image)
        assert len(a) > 0 and len(a) == len(b), image
        np.testing.assert_allclose(b.xyxy, a.xyxy, atol=1e-3)
        np.testing.assert_allclose(b.confidence, a.confidence, atol=1e-5)
        np.testing.assert_array_equal(b.class_id, a.class_id)
    assert validate(model, tiny_data, predictor=sliced).n_images == len(images)
    out = tmp_path / "s.json"
    assert main(["val", "--model", model, "--data", str(tiny_data), "--slice", "64", "--overlap", "0.25",
                 "--json", str(out)]) == 0
    assert json.loads(out.read_text())["metrics"]["AP"] >= 0
