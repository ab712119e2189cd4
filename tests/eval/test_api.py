"""The public API (evaluate_detections, DetectionEvaluator, small_object_metrics, details) and `tinydet eval`."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tinydet.cli import main
from tinydet.data.formats.yolo import read_yolo
from tinydet.detections import Detections
from tinydet.eval import DetectionEvaluator, EvalOptions, evaluate_detections, small_object_metrics

NAMES = ["disc", "square", "triangle", "cross"]
KEYS = (
    "AP AP50 AP75 APs APm APl AR1 AR10 AR100 ARs ARm ARl "
    "AP_aitod AP50_aitod AP75_aitod APvt APt APs_aitod APm_aitod APl_aitod AR_aitod ARvt ARt ARs_aitod ARm_aitod ARl_aitod "
    "AP_center AP50_center AP25_center AP10_center APvt_center APt_center APs_center APm_center APl_center AR_center "
    "precision recall F1 F1_conf"
).split()


@pytest.fixture(scope="module")
def split(tiny_data):
    return read_yolo(tiny_data, splits=("val",)).splits["val"]


def noisy(images, seed=0) -> list[Detections]:
    """Predictions near the labels (shifted, rescaled, some wrong classes) plus background boxes."""
    rng = np.random.default_rng(seed)
    out = []
    for im in images:
        b = im.boxes + rng.normal(0, 1.5, im.boxes.shape)
        b[:, 2:] = np.maximum(b[:, 2:], b[:, :2] + 1)
        bg = rng.uniform(0, 100, (3, 2))
        b = np.r_[b, np.c_[bg, bg + rng.uniform(3, 20, (3, 2))]]
        cls = np.r_[np.where(rng.random(len(im)) < 0.2, (im.classes + 1) % 4, im.classes), rng.integers(0, 4, 3)]
        out.append(Detections(b, rng.random(len(b)), cls))
    return out


def test_small_object_metrics_keys_are_stable(split):
    result = evaluate_detections(split, noisy(split), names=NAMES)
    metrics = small_object_metrics(result)
    assert list(metrics) == KEYS
    assert all(isinstance(v, float) for v in metrics.values())
    assert metrics["AP"] == result.coco.AP and metrics["APvt"] == result.aitod.APvt
    assert metrics["AP50_center"] == result.center.AP50
    only_coco = small_object_metrics(evaluate_detections(split, noisy(split), EvalOptions(blocks=("coco",)), NAMES))
    assert list(only_coco) == KEYS[:12] + ["precision", "recall", "F1", "F1_conf"]


def test_evaluator_update_compute_equals_one_call(split):
    dets = noisy(split, seed=3)
    ev = DetectionEvaluator(names=NAMES)
    ev.update(split[:1], dets[:1]).update(split[1], dets[1])
    ev.update(split[2:], dets[2:])
    assert small_object_metrics(ev.compute()) == small_object_metrics(evaluate_detections(split, dets, names=NAMES))


def test_result_to_dict_is_json(split):
    result = evaluate_detections(split, noisy(split), EvalOptions(keep_details=True), NAMES)
    data = json.loads(json.dumps(result.to_dict()))
    assert set(data) >= {"coco", "aitod", "center", "per_class", "best_f1"} and "details" not in data
    assert [c["name"] for c in data["per_class"]] == NAMES


def test_best_f1_point_is_the_best(split):
    dets = noisy(split, seed=5)
    result = evaluate_detections(split, dets, names=NAMES)
    op = result.best_f1
    assert op.f1 == pytest.approx(2 * op.tp / (op.tp + op.fp + op.n_gt))
    for conf in np.unique(np.concatenate([d.confidence for d in dets])):  # no confidence does better
        kept = [d[d.confidence >= conf] for d in dets]
        r = evaluate_detections(split, kept, EvalOptions(blocks=("coco",), keep_details=True), NAMES)
        tp = int((r.details.pred_state == 1).sum())
        fp = int((r.details.pred_state == 0).sum())
        assert 2 * tp / (tp + fp + op.n_gt) <= op.f1 + 1e-12


def test_details_link_predictions_and_objects(split):
    dets = noisy(split, seed=1)
    d = evaluate_detections(split, dets, EvalOptions(keep_details=True), NAMES).details
    matched = d.gt_pred >= 0
    assert (d.pred_gt[d.gt_pred[matched]] == np.flatnonzero(matched)).all()
    assert ((d.pred_state == 1) == (d.pred_gt >= 0)).all()
    assert d.gt.category[matched].tolist() == d.preds.category[d.gt_pred[matched]].tolist()
    assert set(d.curves) >= {"coco:all", "coco:small", "aitod:very_tiny", "center:all"}


def test_cli_eval_prints_blocks_and_writes_json(tmp_path, tiny_data, split, capsys):
    preds = [e for im, det in zip(split, noisy(split)) for e in det.to_coco(im.file.name)]
    (tmp_path / "p.json").write_text(json.dumps(preds))
    out = tmp_path / "m.json"
    assert main(["eval", "--gt", str(tiny_data), "--pred", str(tmp_path / "p.json"), "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "coco (" in text and "aitod (" in text and "center (" in text and "best F1" in text
    data = json.loads(out.read_text())
    assert list(data["metrics"]) == KEYS and data["coco"]["AP"] == data["metrics"]["AP"]


def test_cli_eval_error_is_one_line(tmp_path, tiny_data, capsys):
    (tmp_path / "p.json").write_text('[{"image_id": "nope.jpg", "category_id": 0, "bbox": [0, 0, 1, 1], "score": 1}]')
    assert main(["eval", "--gt", str(tiny_data), "--pred", str(tmp_path / "p.json")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "p.json" in err and "nope.jpg" in err and err.startswith("tinydet eval: error:")
