"""`tinydet export --int8`: OpenVINO INT8 through NNCF, calibrated on the dataset, with its mAP50 and speed report."""

from __future__ import annotations

import math

import pytest

from tests.export.conftest import IMGSZ, make_checkpoint
from tinydet.errors import TinydetError
from tinydet.export import ExportSpec, export_model


@pytest.fixture(scope="module")
def int8_run(tiny_data, tmp_path_factory):
    root = tmp_path_factory.mktemp("int8")
    ckpt = make_checkpoint("yolov8n-p2", root / "m.pt", nc=4)  # tiny_data has 4 classes
    report = export_model(ckpt, ExportSpec(format="openvino", imgsz=IMGSZ, int8=True, data=str(tiny_data)))
    return ckpt, report


def test_int8_export_lands_beside_the_checkpoint_and_passes_parity(int8_run):
    ckpt, report = int8_run
    assert report.artifact.path == ckpt.with_name("m_int8_openvino_model")
    assert report.artifact.runnable.suffix == ".xml" and report.artifact.meta["precision"] == "int8"
    assert report.parity.precision == "int8" and report.parity.failures == []
    assert report.parity.images == 4  # the val split of tiny_data


def test_int8_is_really_quantized(int8_run):
    import openvino as ov

    _, report = int8_run
    model = ov.Core().read_model(str(report.artifact.runnable))
    assert any(op.get_type_name() == "FakeQuantize" for op in model.get_ops())


def test_int8_report_has_map_and_speed(int8_run):
    _, report = int8_run
    r = report.int8
    assert 0 <= r.map50_fp32 <= 1 and 0 <= r.map50_int8 <= 1
    assert math.isclose(r.map50_change, r.map50_int8 - r.map50_fp32)
    assert r.fp32_ms > 0 and r.int8_ms > 0 and r.speedup > 0 and r.images == 4
    assert "mAP50" in r.summary() and "x)" in r.summary()


def test_int8_needs_a_dataset_that_exists(tmp_path):
    ckpt = make_checkpoint("yolov8n-p2", tmp_path / "m.pt")
    with pytest.raises(TinydetError, match="dataset not found"):
        export_model(ckpt, ExportSpec(format="openvino", int8=True, data=str(tmp_path / "nope.yaml")))
