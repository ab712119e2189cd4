"""The training validator's small-object metrics accept predictions with x2 < x1.

A YOLO26 run (raw side distances, reg_max 1) predicted such boxes at its fourth epoch's validation on hit_uav
lite, and building tinydet's Detections from them stopped the training. They are collapsed to zero width, so
they count as false positives, as ultralytics' own metrics count them."""

from __future__ import annotations

import torch

from tinydet.integrations import ultralytics as integration


def test_update_metrics_keeps_inverted_predictions_as_empty_boxes(monkeypatch):
    validator = integration.SmallObjectDetectionValidator.__new__(integration.SmallObjectDetectionValidator)
    validator._tinydet_predictions, validator._tinydet_shapes = {}, {}
    monkeypatch.setattr(integration._DetectionValidator, "update_metrics", lambda self, preds, batch: None)
    validator._prepare_batch = lambda si, batch: {"im_file": f"img{si}.jpg", "ori_shape": (64, 64)}
    validator.scale_preds = lambda pred, pbatch: pred
    pred = {"bboxes": torch.tensor([[30.0, 5.0, 20.0, 15.0], [1.0, 1.0, 9.0, 9.0]]),
            "conf": torch.tensor([0.9, 0.8]), "cls": torch.tensor([0.0, 1.0])}
    validator.update_metrics([pred], batch={})
    found = validator._tinydet_predictions["img0.jpg"]
    assert found.xyxy.tolist() == [[30, 5, 30, 15], [1, 1, 9, 9]]
    assert found.class_id.tolist() == [0, 1]
