"""NMS-free small-object configs on YOLO26's end-to-end head.

ultralytics 8.4.190 uses the one-to-one head only when asked: `nms=False` at predict/val/export (its default,
nms=None, runs the one-to-many head and NMS, even for YOLO26). These tests show both sides: with nms=False the
head's own top-k is the output and no NMS runs (the NMS functions are replaced by ones that fail); by default NMS
runs."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from zoo_helpers import perturb_

from tinydet.integrations.ultralytics.builder import build_model
from tinydet.models.zoo import zoo

ZOO = zoo()
E2E = ["yolo26n-p2", "yolo26n-p2-nop5"]  # ultralytics' own P2 config, and tinydet's without P5


@pytest.mark.parametrize("name", E2E)
def test_end2end_head_outputs_final_detections(name):
    model = build_model(ZOO[name].model_path, nc=3).eval()
    assert getattr(model.model[-1], "one2one_cv2", None) is not None  # the one-to-one branch exists
    model.end2end = True
    with torch.no_grad():
        out = model(torch.rand(2, 3, 64, 64))[0]
    anchors = sum((64 // int(s)) ** 2 for s in model.stride)
    assert out.shape == (2, min(300, anchors), 6)  # x1, y1, x2, y2, score, class: no NMS needed after it
    assert ((out[..., 4] >= 0) & (out[..., 4] <= 1)).all()
    classes = out[..., 5]
    assert (classes == classes.round()).all() and classes.min() >= 0 and classes.max() < 3
    assert (out[..., 4].diff(dim=1) <= 0).all()  # sorted by score


@pytest.fixture
def no_nms(monkeypatch):
    """NMS that fails if anyone calls it."""
    import torchvision
    from ultralytics.utils import nms as ul_nms

    def fail(*args, **kwargs):
        raise RuntimeError("NMS was called")

    monkeypatch.setattr(torchvision.ops, "nms", fail)
    monkeypatch.setattr(ul_nms.TorchNMS, "nms", staticmethod(fail))
    monkeypatch.setattr(ul_nms.TorchNMS, "fast_nms", staticmethod(fail))


@pytest.mark.parametrize("name", ["yolo26n-p2-nop5"])
def test_predict_with_nms_false_runs_no_nms(name, no_nms):
    from ultralytics import YOLO

    image = (np.random.default_rng(0).random((96, 96, 3)) * 255).astype(np.uint8)
    (result,) = YOLO(ZOO[name].model_path).predict(image, imgsz=64, conf=0.0, nms=False, verbose=False)
    assert 0 < len(result.boxes) <= 300
    # the default (nms=None) runs NMS; a new YOLO object, since a predictor keeps the head chosen at its first call
    with pytest.raises(RuntimeError, match="NMS was called"):
        YOLO(ZOO[name].model_path).predict(image, imgsz=64, conf=0.0, verbose=False)


def test_onnx_export_without_nms_is_the_heads_topk(tmp_path, monkeypatch):
    import onnxruntime as ort
    from ultralytics import YOLO

    monkeypatch.chdir(tmp_path)
    yolo = YOLO(ZOO["yolo26n-p2-nop5"].model_path)
    perturb_(yolo.model)
    onnx_path = yolo.export(format="onnx", imgsz=64, simplify=False, nms=False, verbose=False)
    x = torch.rand(1, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    session = ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
    (got,) = session.run(None, {session.get_inputs()[0].name: x.numpy()})
    model = yolo.model.eval()
    model.end2end = True
    with torch.no_grad():
        expected = model(x)[0].numpy()
    assert got.shape == expected.shape == (1, 300, 6)
    # rows are ranked by score; near-equal scores may swap places, so compare the ranked scores, then each row's
    # box and class against the PyTorch row with the closest score
    np.testing.assert_allclose(got[0, :, 4], expected[0, :, 4], rtol=0, atol=1e-4)
    for row in got[0]:
        match = expected[0][np.argmin(np.abs(expected[0, :, 4] - row[4]) + 1e3 * np.abs(expected[0, :, :4] - row[:4]).max(1))]
        np.testing.assert_allclose(row, match, rtol=0, atol=1e-3)
