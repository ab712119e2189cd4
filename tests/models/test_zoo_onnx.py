"""Every n-scale zoo config exports to ONNX through ultralytics' public API, and onnxruntime agrees with PyTorch.

The test runs in a temporary folder: ultralytics writes a YAML-built model's .onnx to the working folder. The export fuses
Conv+BN, the PyTorch reference does not, hence a small tolerance rather than zero. (Exporting a trained
checkpoint is covered by test_zoo_train.py.)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from zoo_helpers import perturb_, prediction_tensors

from tinydet.models.zoo import zoo

ZOO = zoo()
IMGSZ = 64
ATOL = 1e-3  # outputs: boxes in pixels (about -10..250 with perturbed weights), scores, mask coefficients


@pytest.mark.parametrize("name", sorted(n for n, e in ZOO.items() if e.scale == "n"))
def test_onnx_export_matches_pytorch(name, tmp_path, monkeypatch):
    import onnxruntime as ort
    from ultralytics import YOLO

    monkeypatch.chdir(tmp_path)
    yolo = YOLO(ZOO[name].model_path)
    perturb_(yolo.model)  # see perturb_: at initialisation the outputs barely depend on the layers
    onnx_path = yolo.export(format="onnx", imgsz=IMGSZ, simplify=False, verbose=False)
    assert Path(onnx_path).resolve().parent == tmp_path.resolve()
    x = torch.rand(1, 3, IMGSZ, IMGSZ, generator=torch.Generator().manual_seed(0))
    session = ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
    got = session.run(None, {session.get_inputs()[0].name: x.numpy()})
    model = yolo.model.eval()
    with torch.no_grad():
        expected = [t.numpy() for t in prediction_tensors(model(x))]
    assert [g.shape for g in got] == [e.shape for e in expected]
    for g, e in zip(got, expected):
        assert np.isfinite(g).all()
        np.testing.assert_allclose(g, e, rtol=0, atol=ATOL)
