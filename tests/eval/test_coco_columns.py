"""The typed COCO decoder (tinydet.eval.coco_columns) gives exactly what the json path gives, and a file that
does not fit its schema still reaches the json path's checks."""

from __future__ import annotations

import json
from dataclasses import fields

import numpy as np
import pytest
from cocogen import random_case

from tinydet.errors import TinydetError
from tinydet.eval import load_coco
from tinydet.eval.load_coco import load_coco_ground_truth, load_coco_predictions


def _slow_only(monkeypatch):
    monkeypatch.setattr(load_coco, "ground_truth_columns", lambda raw: None)
    monkeypatch.setattr(load_coco, "prediction_columns", lambda raw: None)


def _same(a, b):
    for f in fields(a):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if isinstance(x, np.ndarray):
            assert x.dtype == y.dtype and np.array_equal(x, y), f.name
        else:
            assert x == y, f.name


def _write(tmp_path, gt, preds):
    (tmp_path / "gt.json").write_text(json.dumps(gt))
    (tmp_path / "pred.json").write_text(json.dumps(preds))
    return tmp_path / "gt.json", tmp_path / "pred.json"


def _odd_but_valid(gt, preds):
    """The optional and loose parts of the format: string image ids, no area, null sizes and names, bool
    iscrowd, integer boxes, float category ids in results, extra keys."""
    names = {}
    for i, im in enumerate(gt["images"]):
        names[im["id"]] = im["id"] = f"img{im['id']}"
        if i == 0:
            im["width"] = None
            del im["height"]
    gt["categories"][0]["name"] = None
    for i, a in enumerate(gt["annotations"]):
        a["image_id"] = names[a["image_id"]]
        if i % 3 == 0:
            del a["area"]
        if i % 4 == 1:
            a["iscrowd"] = bool(a["iscrowd"])
        if i % 5 == 2:
            a["bbox"] = [int(v) for v in a["bbox"]]
        a["segmentation"] = []
    for i, p in enumerate(preds):
        p["image_id"] = names[p["image_id"]]
        if i % 2:
            p["category_id"] = float(p["category_id"])
    return gt, preds


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("odd", [False, True])
def test_typed_and_json_paths_load_the_same(tmp_path, monkeypatch, seed, odd):
    gt, preds = random_case(seed)
    if odd:
        gt, preds = _odd_but_valid(gt, preds)
    gt_file, pred_file = _write(tmp_path, gt, preds)
    fast_gt = load_coco_ground_truth(gt_file)
    fast_preds = load_coco_predictions(pred_file, fast_gt)
    _slow_only(monkeypatch)
    slow_gt = load_coco_ground_truth(gt_file)
    _same(fast_gt, slow_gt)
    _same(fast_preds, load_coco_predictions(pred_file, slow_gt))


def test_the_typed_path_takes_files_that_follow_the_format(tmp_path, monkeypatch):
    gt_file, pred_file = _write(tmp_path, *random_case(0))
    monkeypatch.setattr(load_coco, "parse_json", lambda raw, path: pytest.fail(f"json path used for {path}"))
    load_coco_predictions(pred_file, load_coco_ground_truth(gt_file))


@pytest.mark.parametrize("break_it, message", [
    (lambda gt, p: gt.pop("annotations"), "has no 'annotations'"),
    (lambda gt, p: gt["annotations"][0].update(bbox=[1, 2, 3]), "annotation 0 has bbox"),
    (lambda gt, p: gt["annotations"][0].update(iscrowd=2), "iscrowd other than 0 or 1"),
    (lambda gt, p: gt["annotations"][0].update(bbox=[1, 2, -3, 4]), "invalid box"),
    (lambda gt, p: gt["categories"][0].update(id="a"), "category ids must be all integers"),
    (lambda gt, p: p[0].update(score="0.5"), "'score' must be numbers"),
    (lambda gt, p: p[0].update(category_id=1.5), "non-integer category_id"),
    (lambda gt, p: p[0].pop("bbox"), "prediction 0 has no 'bbox'"),
])
def test_files_off_the_schema_get_the_json_paths_errors(tmp_path, break_it, message):
    gt, preds = random_case(1)
    gt["annotations"] = gt["annotations"] or [{"id": 1, "image_id": gt["images"][0]["id"], "bbox": [1, 1, 4, 4],
                                               "category_id": gt["categories"][0]["id"], "iscrowd": 0}]
    break_it(gt, preds)
    gt_file, pred_file = _write(tmp_path, gt, preds)
    with pytest.raises(TinydetError, match=message):
        load_coco_predictions(pred_file, load_coco_ground_truth(gt_file))
