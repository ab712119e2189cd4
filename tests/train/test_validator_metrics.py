"""The training validator's small-object metrics accept what a model can predict during training.

A YOLO26 run (raw side distances, reg_max 1) predicted boxes with x2 < x1 at its fourth epoch's validation on
hit_uav lite, and building tinydet's Detections from them stopped the training. They are collapsed to zero width,
so they count as false positives, as ultralytics' own metrics count them. A class the val split never labels is
a category without ground truth, not an error."""

from __future__ import annotations

import pytest
import torch

from tinydet.integrations.ultralytics.training import validator as integration


def test_update_metrics_keeps_inverted_predictions_as_empty_boxes(monkeypatch):
    validator = integration.SmallObjectDetectionValidator.__new__(integration.SmallObjectDetectionValidator)
    validator._tinydet_predictions, validator._tinydet_shapes = {}, {}
    monkeypatch.setattr(integration.DetectionValidator, "update_metrics", lambda self, preds, batch: None)
    validator._prepare_batch = lambda si, batch: {"im_file": f"img{si}.jpg", "ori_shape": (64, 64)}
    validator.scale_preds = lambda pred, pbatch: pred
    pred = {"bboxes": torch.tensor([[30.0, 5.0, 20.0, 15.0], [1.0, 1.0, 9.0, 9.0]]),
            "conf": torch.tensor([0.9, 0.8]), "cls": torch.tensor([0.0, 1.0])}
    validator.update_metrics([pred], batch={})
    found = validator._tinydet_predictions["img0.jpg"]
    assert found.xyxy.tolist() == [[30, 5, 30, 15], [1, 1, 9, 9]]
    assert found.class_id.tolist() == [0, 1]


def test_get_stats_accepts_a_predicted_class_the_val_split_never_labels(monkeypatch):
    """A small val split may lack a class (here class 3 of 4) that the model still predicts; training stopped
    with "class id 3 is not a ground-truth category" until every model class counted as a category."""
    import numpy as np

    from tinydet.detections import Detections

    validator = integration.SmallObjectDetectionValidator.__new__(integration.SmallObjectDetectionValidator)
    monkeypatch.setattr(integration.DetectionValidator, "get_stats", lambda self: {})
    validator.names = {0: "disc", 1: "square", 2: "triangle", 3: "cross"}
    label = {"im_file": "img0.jpg", "bboxes": np.array([[0.5, 0.5, 0.25, 0.25]]), "cls": np.array([[0.0]])}
    validator.dataloader = type("Loader", (), {"dataset": type("Data", (), {"labels": [label]})()})()
    validator._tinydet_shapes = {"img0.jpg": (64, 64)}
    validator._tinydet_predictions = {"img0.jpg": Detections(
        np.array([[24.0, 24.0, 40.0, 40.0], [2.0, 2.0, 10.0, 10.0]]), np.array([0.9, 0.8]), np.array([0, 3]))}
    validator.fitness_key = "ultralytics"
    stats = validator.get_stats()
    assert stats["metrics/AP50(T)"] == pytest.approx(1.0)  # class 3 has no ground truth: its box is in no category's AP
