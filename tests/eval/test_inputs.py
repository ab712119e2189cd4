"""Readers, the category-id convention, and bad input: clear one-line errors naming the file, inputs unchanged."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from tinydet.data.formats.yolo import read_yolo
from tinydet.detections import Detections
from tinydet.errors import TinydetError
from tinydet.eval import EvalOptions, evaluate_detections
from tinydet.eval.io import evaluate_files
from tinydet.infer.outputs import yolo_txt


@pytest.fixture(scope="module")
def val_images(tiny_data):
    return read_yolo(tiny_data, splits=("val",)).splits["val"]


def perfect(images) -> list[Detections]:
    """The ground truth itself as predictions (class c predicted as class c)."""
    return [Detections(im.boxes, np.linspace(0.9, 0.5, len(im)), im.classes) for im in images]


def write(path: Path, obj) -> Path:
    path.write_text(json.dumps(obj))
    return path


def coco_gt_from_yolo(images, first_id: int = 0) -> dict:
    """A COCO ground truth made from YOLO labels, categories numbered from `first_id`."""
    anns = []
    for i, im in enumerate(images):
        for b, c in zip(im.boxes, im.classes):
            x1, y1, x2, y2 = b.tolist()
            anns.append({"id": len(anns) + 1, "image_id": i, "category_id": int(c) + first_id,
                         "bbox": [x1, y1, x2 - x1, y2 - y1], "area": (x2 - x1) * (y2 - y1), "iscrowd": 0})
    return {"images": [{"id": i, "file_name": im.file.name, "width": im.width, "height": im.height}
                       for i, im in enumerate(images)],
            "categories": [{"id": c + first_id, "name": n} for c, n in enumerate(["disc", "square", "triangle", "cross"])],
            "annotations": anns}


# ---------------------------------------------------------------------------------------------------------------
# the category-id convention: YOLO class i == category id i, for ground truth and for tinydet's predictions
# ---------------------------------------------------------------------------------------------------------------
def test_detections_against_yolo_split(val_images):
    result = evaluate_detections(val_images, perfect(val_images), names=["disc", "square", "triangle", "cross"])
    assert result.coco.AP == 1.0 and result.aitod.AP == 1.0 and result.center.AP == 1.0


def test_tinydet_json_predictions_against_yolo_split(tmp_path, tiny_data, val_images):
    preds = [e for im, d in zip(val_images, perfect(val_images)) for e in d.to_coco(im.file.name)]
    assert {p["category_id"] for p in preds} <= {0, 1, 2, 3}
    result = evaluate_files(tiny_data, write(tmp_path / "p.json", preds), "val")
    assert result.coco.AP == 1.0


def test_yolo_txt_predictions_against_yolo_split(tmp_path, tiny_data, val_images):
    (tmp_path / "labels").mkdir()
    for im, d in zip(val_images, perfect(val_images)):
        (tmp_path / "labels" / f"{im.file.stem}.txt").write_text(yolo_txt(d, im.width, im.height))
    result = evaluate_files(tiny_data, tmp_path, "val")  # the run folder: its labels/ subfolder is found
    assert result.coco.AP50 == 1.0 and result.n_pred == sum(len(im) for im in val_images)


def test_ultralytics_one_based_json_needs_an_offset(tmp_path, tiny_data, val_images):
    preds = [dict(e, category_id=e["category_id"] + 1)
             for im, d in zip(val_images, perfect(val_images)) for e in d.to_coco(im.file.name)]
    path = write(tmp_path / "p.json", preds)
    unknown = sum(p["category_id"] == 4 for p in preds)
    if unknown:
        with pytest.raises(TinydetError, match=rf"{unknown} of {len(preds)} predictions have unknown categories\).*--category-offset -1"):
            evaluate_files(tiny_data, path, "val")
    assert evaluate_files(tiny_data, path, "val", category_offset=-1).coco.AP == 1.0


@pytest.mark.parametrize("first_id", [0, 1])
def test_coco_gt_category_ids_are_taken_as_they_are(tmp_path, val_images, first_id):
    gt = write(tmp_path / "gt.json", coco_gt_from_yolo(val_images, first_id))
    preds = [dict(e, category_id=e["category_id"] + first_id)
             for i, d in enumerate(perfect(val_images)) for e in d.to_coco(i)]
    assert evaluate_files(gt, write(tmp_path / "p.json", preds)).coco.AP == 1.0
    by_name = [e for im, d in zip(val_images, perfect(val_images)) for e in d.to_coco(im.file.name)]
    by_name = [dict(e, category_id=e["category_id"] + first_id) for e in by_name]
    assert evaluate_files(gt, write(tmp_path / "p2.json", by_name)).coco.AP == 1.0  # image_id = file name


# ---------------------------------------------------------------------------------------------------------------
# no predictions, empty buckets
# ---------------------------------------------------------------------------------------------------------------
def test_no_predictions_give_zeros_and_empty_buckets_minus_one(tmp_path, tiny_data, val_images):
    result = evaluate_files(tiny_data, write(tmp_path / "p.json", []), "val")
    sizes = np.sqrt([(b[2] - b[0]) * (b[3] - b[1]) for im in val_images for b in im.boxes])
    assert result.coco.AP == 0.0 and result.coco.AR100 == 0.0 and result.center.AP == 0.0
    assert result.coco.APl == (-1.0 if (sizes <= 96).all() else 0.0)
    assert result.aitod.APvt == (-1.0 if (sizes > 8).all() else 0.0)
    assert result.best_f1.f1 == 0.0 and result.n_pred == 0
    empty_folder = tmp_path / "txt"
    empty_folder.mkdir()  # no file at all is a wrong path, not a model that found nothing (predict writes empty txts)
    with pytest.raises(TinydetError, match="txt: no .txt prediction files here"):
        evaluate_files(tiny_data, empty_folder, "val")
    (empty_folder / "val_000000.txt").write_text("")
    assert evaluate_files(tiny_data, empty_folder, "val").coco.AP == 0.0


def test_bucket_without_objects_is_minus_one_not_zero():
    from tinydet.data.dataset import ImageLabels

    im = ImageLabels(Path("a.jpg"), 200, 200, [[10, 10, 14, 14], [50, 50, 60, 60]], [0, 0])  # 4 px and 10 px
    det = Detections([[10, 10, 14, 14], [120, 120, 190, 190]], [0.9, 0.8], [0, 0])  # + a large false positive
    r = evaluate_detections([im], [det], names=["a"])
    assert r.coco.APm == -1.0 and r.coco.APl == -1.0 and r.coco.APs > 0
    assert r.aitod.APs == -1.0 and r.aitod.APvt == pytest.approx(1.0) and r.aitod.APt == 0.0
    assert r.per_class[0].n_gt == 2


def test_cap_on_detections_per_image_and_class():
    """150 predictions in one image and class, the only correct one ranked 120th: lost at COCO's 100,
    found with the AI-TOD cap."""
    from tinydet.data.dataset import ImageLabels

    im = ImageLabels(Path("a.jpg"), 4000, 100, [[5, 5, 15, 15]], [0])
    boxes = np.array([[20 + 25 * i, 50, 40 + 25 * i, 70] for i in range(150)], float)
    boxes[119] = [5, 5, 15, 15]
    det = Detections(boxes, np.linspace(0.99, 0.2, 150), np.zeros(150))
    r = evaluate_detections([im], [det], names=["a"])
    assert r.coco.AR100 == 0.0 and r.aitod.AR == 1.0 and r.center.AR == 1.0
    assert evaluate_detections([im], [det], EvalOptions(max_dets=100), names=["a"]).aitod.AR == 0.0


# ---------------------------------------------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------------------------------------------
GOOD_GT = {"images": [{"id": 1, "file_name": "a.jpg", "width": 100, "height": 100}],
           "categories": [{"id": 1, "name": "x"}],
           "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 1, 5, 5], "area": 25, "iscrowd": 0}]}
GOOD_PRED = [{"image_id": 1, "category_id": 1, "bbox": [1, 1, 5, 5], "score": 0.5}]


@pytest.mark.parametrize(
    "gt, pred, message",
    [
        ("{", GOOD_PRED, r"gt.json:1: not valid JSON"),
        ([], GOOD_PRED, "not a COCO ground-truth file"),
        ({k: v for k, v in GOOD_GT.items() if k != "annotations"}, GOOD_PRED, "gt.json: has no 'annotations' list"),
        ({k: v for k, v in GOOD_GT.items() if k != "categories"}, GOOD_PRED, "not a COCO ground-truth file"),
        (dict(GOOD_GT, annotations=[{"id": 1, "image_id": 1, "category_id": 1}]), GOOD_PRED, "annotation 0 has no 'bbox'"),
        (dict(GOOD_GT, annotations=[dict(GOOD_GT["annotations"][0], image_id=7)]), GOOD_PRED, "image_id 7, which is not in 'images'"),
        (dict(GOOD_GT, annotations=[dict(GOOD_GT["annotations"][0], bbox=[1, 1, -5, 5])]), GOOD_PRED, "invalid box"),
        (dict(GOOD_GT, annotations=[dict(GOOD_GT["annotations"][0], bbox=[1, 1, 5])]), GOOD_PRED, r"bbox \[1, 1, 5\]"),
        (GOOD_GT, {"image_id": 1}, "not a COCO results file"),
        (GOOD_GT, [dict(GOOD_PRED[0], image_id=9)], r"p.json: prediction 0 has image_id 9, which is not an image"),
        (GOOD_GT, [dict(GOOD_PRED[0], image_id="b.jpg")], "image_id 'b.jpg', which is not an image"),
        (GOOD_GT, [GOOD_PRED[0], dict(GOOD_PRED[0], category_id=5)], "prediction 1 has category_id 5"),
        (GOOD_GT, [dict(GOOD_PRED[0], category_id=2)], "--category-offset -1"),
        (GOOD_GT, [dict(GOOD_PRED[0], score=None)], "prediction 'score' must be numbers"),
        (GOOD_GT, [dict(GOOD_PRED[0], score=float("nan"))], "prediction 0 has a score that is not a finite number"),
        (GOOD_GT, [dict(GOOD_PRED[0], score="0.5")], "prediction 'score' must be numbers"),
        (GOOD_GT, [dict(GOOD_PRED[0], category_id="1")], "prediction 'category_id' must be numbers"),
        (GOOD_GT, [dict(GOOD_PRED[0], image_id=[1])], r"image ids must be all integers or all strings, found \[1\]"),
        (dict(GOOD_GT, annotations=[dict(GOOD_GT["annotations"][0], area="25")]), GOOD_PRED, "'area' must be numbers"),
        (dict(GOOD_GT, annotations=[dict(GOOD_GT["annotations"][0], iscrowd=2)]), GOOD_PRED, "iscrowd other than 0 or 1"),
        (dict(GOOD_GT, annotations=[dict(GOOD_GT["annotations"][0], bbox=[[1, 1], [5, 5]])]), GOOD_PRED, "expected \[x, y"),
        (dict(GOOD_GT, images=[dict(GOOD_GT["images"][0], width="wide")]), GOOD_PRED, "'width' and 'height' must be numbers"),
        (GOOD_GT, [{"image_id": 1, "category_id": 1, "bbox": [1, 1, 5, 5]}], "prediction 0 has no 'score'"),
        (GOOD_GT, [dict(GOOD_PRED[0], bbox=[0, 0, float("nan"), 1])], "invalid box"),
    ],
)
def test_bad_json_inputs(tmp_path, gt, pred, message):
    gt_path, pred_path = tmp_path / "gt.json", tmp_path / "p.json"
    gt_path.write_text(gt if isinstance(gt, str) else json.dumps(gt))
    pred_path.write_text(json.dumps(pred))
    before = [hashlib.sha256(p.read_bytes()).hexdigest() for p in (gt_path, pred_path)]
    with pytest.raises(TinydetError, match=message) as info:
        evaluate_files(gt_path, pred_path)
    assert "\n" not in str(info.value)
    assert before == [hashlib.sha256(p.read_bytes()).hexdigest() for p in (gt_path, pred_path)]


def test_empty_annotations_are_scored_with_a_warning(tmp_path):
    gt_path, pred_path = tmp_path / "gt.json", tmp_path / "p.json"
    gt_path.write_text(json.dumps(dict(GOOD_GT, annotations=[])))
    pred_path.write_text(json.dumps(GOOD_PRED))
    with pytest.warns(UserWarning, match="'annotations' is empty: there is nothing to score"):
        result = evaluate_files(gt_path, pred_path)
    assert result.coco.AP == -1


@pytest.mark.parametrize(
    "name, text, message",
    [
        ("val_000000.txt", "0 0.5 0.5 0.1 0.1\n", r"val_000000.txt:1: expected 6 columns .*no confidence column"),
        ("val_000000.txt", "0 0.5 0.5 0.1 0.1 0.9\n1 0.5 x 0.1 0.1 0.9\n", r"val_000000.txt:2: not a number"),
        ("val_000000.txt", "7 0.5 0.5 0.1 0.1 0.9\n", "category_id 7, which is not a ground-truth category"),
        ("other.txt", "0 0.5 0.5 0.1 0.1 0.9\n", r"other.txt: no ground-truth image is named 'other'"),
    ],
)
def test_bad_yolo_txt_predictions(tmp_path, tiny_data, name, text, message):
    (tmp_path / name).write_text(text)
    with pytest.raises(TinydetError, match=message):
        evaluate_files(tiny_data, tmp_path, "val")


@pytest.mark.parametrize(
    "gt, pred, message",
    [
        ("missing.json", "p.json", "missing.json: file not found"),
        ("gt.json", "missing.json", "missing.json: file not found"),
        ("gt.json", "missing", "missing: predictions not found"),
        ("gt.json", "gt.txt", "predictions must be a COCO results JSON"),
        ("gt.txt", "p.json", "ground truth must be a COCO JSON file or a YOLO data.yaml"),
    ],
)
def test_missing_or_unknown_files(tmp_path, monkeypatch, gt, pred, message):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "gt.json", GOOD_GT)
    write(tmp_path / "p.json", GOOD_PRED)
    (tmp_path / "gt.txt").write_text("x")
    with pytest.raises(TinydetError, match=message):
        evaluate_files(gt, pred)


def test_detections_count_must_match_images(val_images):
    with pytest.raises(TinydetError, match="3 Detections for 4 images"):
        evaluate_detections(val_images, perfect(val_images)[:3])
    with pytest.raises(TinydetError, match="class id 9 is not a ground-truth category"):
        evaluate_detections(val_images[:1], [Detections([[0, 0, 1, 1]], [0.5], [9])], names=list("abcd"))
