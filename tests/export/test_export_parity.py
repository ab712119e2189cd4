"""`tinydet export`: every detection config of the zoo exports and matches PyTorch; a broken export is caught."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tests.export.conftest import IMGSZ, make_checkpoint
from tinydet.detections import Detections
from tinydet.errors import TinydetError
from tinydet.export import ExportSpec, export_model
from tinydet.export.parity import TOLERANCES, ParityResult, match_boxes
from tinydet.models.zoo import zoo

DETECT = sorted(n for n, e in zoo().items() if e.scale == "n" and e.task == "detect")
FAST = {"yolov8n-p2", "yolov8n-p2-nop5-bifusion-cbam", "yolo26n-p2"}  # plain, tinydet modules, NMS-free head


@pytest.mark.parametrize("name", [n if n in FAST else pytest.param(n, marks=pytest.mark.slow) for n in DETECT])
def test_every_detect_config_exports_to_onnx_with_parity(name, tmp_path):
    ckpt = make_checkpoint(name, tmp_path / f"{name}.pt")
    report = export_model(ckpt, ExportSpec(format="onnx", imgsz=IMGSZ), tmp_path / "out" / "m.onnx")
    assert report.artifact.path == tmp_path / "out" / "m.onnx" and report.artifact.path.is_file()
    parity = report.parity
    assert parity.failures == []
    assert parity.max_abs_diff <= TOLERANCES["fp32"].max_abs_diff
    assert parity.torch_boxes > 0, "the test model should predict boxes, or agreement checks nothing"
    assert parity.agreement >= 0.95
    assert list(tmp_path.glob("out/.*")) == []  # no temporary folder left behind


@pytest.mark.parametrize("fmt", ["openvino", "torchscript"])
def test_other_formats_match_pytorch_on_dataset_images(fmt, p2_checkpoint, tiny_data, tmp_path):
    spec = ExportSpec(format=fmt, imgsz=IMGSZ, data=str(tiny_data))  # --data: parity on its val images
    report = export_model(p2_checkpoint, spec, tmp_path / f"m.{fmt}")
    assert report.parity.failures == [] and report.parity.torch_boxes > 0 and report.parity.images == 4
    assert report.artifact.runnable.suffix == (".xml" if fmt == "openvino" else ".torchscript")


def test_broken_export_fails_with_a_clear_error_and_is_removed(p2_checkpoint, tmp_path, monkeypatch):
    from tinydet.export import api as runtime  # where export_model looks open_artifact up

    real = runtime.open_artifact

    def broken(artifact):
        backend = real(artifact)
        call = backend.__call__

        class Shifted:  # the exported model's output, off by 3 px/units everywhere
            names, stride, end2end, input_hw = backend.names, backend.stride, backend.end2end, backend.input_hw

            def __call__(self, x):
                return call(x) + 3.0

        return Shifted()

    monkeypatch.setattr(runtime, "open_artifact", broken)
    out = tmp_path / "m.onnx"
    with pytest.raises(TinydetError, match=r"m\.onnx: parity check failed: raw outputs differ by up to 3"):
        export_model(p2_checkpoint, ExportSpec(format="onnx", imgsz=IMGSZ), out)
    assert not out.exists()
    report = export_model(p2_checkpoint, ExportSpec(format="onnx", imgsz=IMGSZ), out, check=False)
    assert out.is_file() and report.parity.failures


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (ExportSpec(format="tflite"), "unknown export format 'tflite'"),
        (ExportSpec(format="onnx", int8=True, data="d.yaml"), "--int8 is supported for --format openvino"),
        (ExportSpec(format="openvino", int8=True), "--int8 needs --data"),
        (ExportSpec(format="onnx", half=True, int8=True), "exclude each other"),
        (ExportSpec(format="openvino", data="missing.yaml"), "dataset not found: missing.yaml"),
        (ExportSpec(format="onnx", imgsz=16), "--imgsz must be at least 32"),
    ],
)
def test_bad_requests_are_refused_before_exporting(spec, message, p2_checkpoint, tmp_path):
    with pytest.raises(TinydetError, match=message):
        export_model(p2_checkpoint, spec, tmp_path / "x")
    assert list(tmp_path.iterdir()) == []


def test_parity_images_are_read_before_exporting(p2_checkpoint, tmp_path):
    data = tmp_path / "data"
    (data / "images" / "val").mkdir(parents=True)
    (data / "data.yaml").write_text(f"path: {data}\ntrain: images/val\nval: images/val\nnames: [a]\n")
    with pytest.raises(TinydetError):
        export_model(p2_checkpoint, ExportSpec(format="onnx", imgsz=IMGSZ, data=str(data / "data.yaml")), tmp_path / "m.onnx")
    assert not (tmp_path / "m.onnx").exists() and sorted(p.name for p in tmp_path.iterdir()) == ["data"]


def test_out_never_overwrites_the_checkpoint(p2_checkpoint):
    before = p2_checkpoint.read_bytes()
    with pytest.raises(TinydetError, match="--out is the checkpoint itself"):
        export_model(p2_checkpoint, ExportSpec(format="torchscript", imgsz=IMGSZ), p2_checkpoint)
    assert p2_checkpoint.read_bytes() == before


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message seen without a GPU")
def test_tensorrt_without_gpu_says_so(p2_checkpoint, tmp_path):
    with pytest.raises(TinydetError, match="TensorRT .* needs an NVIDIA GPU"):
        export_model(p2_checkpoint, ExportSpec(format="engine", imgsz=IMGSZ), tmp_path / "m.engine")


def test_cli_exit_status_and_message(p2_checkpoint, tmp_path, capsys):
    from tinydet.cli import main

    assert main(["export", "--model", str(tmp_path / "nope.pt")]) == 2
    assert "checkpoint not found" in capsys.readouterr().err
    assert main(["export", "--model", str(p2_checkpoint), "--imgsz", str(IMGSZ), "--out", str(tmp_path / "m.onnx")]) == 0
    out = capsys.readouterr().out
    assert "parity (fp32, 4 images): max |raw diff|" in out and ": ok" in out


def _dets(boxes, scores, classes):
    return Detections(np.array(boxes, np.float32).reshape(-1, 4), np.array(scores, np.float32),
                      np.array(classes, np.int64))


@pytest.mark.parametrize(
    ("reference", "candidate", "matched"),
    [
        (_dets([[0, 0, 10, 10]], [0.9], [0]), _dets([[0, 0, 10, 10]], [0.8], [0]), 1),
        (_dets([[0, 0, 10, 10]], [0.9], [0]), _dets([[0, 0, 10, 10]], [0.8], [1]), 0),  # other class
        (_dets([[0, 0, 10, 10]], [0.9], [0]), _dets([[0, 0, 10, 11.5]], [0.8], [0]), 0),  # IoU 0.87
        (_dets([[0, 0, 10, 10]], [0.9], [0]), _dets([[0, 0, 10, 10.5]], [0.8], [0]), 1),  # IoU 0.95
        (_dets([[0, 0, 10, 10], [0, 0, 10, 10]], [0.9, 0.8], [0, 0]), _dets([[0, 0, 10, 10]], [0.8], [0]), 1),  # used once
        (_dets([], [], []), _dets([[0, 0, 10, 10]], [0.8], [0]), 0),
    ],
)
def test_match_boxes(reference, candidate, matched):
    assert match_boxes(reference, candidate) == matched


def test_no_torch_boxes_means_no_agreement_figure():
    result = ParityResult(images=2, max_abs_diff=0.0, torch_boxes=0, export_boxes=3, matched=0, precision="fp32")
    assert result.agreement is None and result.failures == []
    assert "n/a" in result.summary()


@pytest.mark.parametrize("raw_diff, matched, failed", [
    (5.6, 99, False),           # measured on a trained yolov8n at 416: large raw diff on junk anchors, boxes agree
    (5.6, 70, True),            # boxes no longer agree: fails
    (float("inf"), 100, True),  # FP16 overflow fails even when the boxes happen to agree
])
def test_fp16_is_judged_by_its_final_boxes(raw_diff, matched, failed):
    result = ParityResult(images=4, max_abs_diff=raw_diff, torch_boxes=100, export_boxes=100, matched=matched,
                          precision="fp16")
    assert bool(result.failures) is failed


def test_a_broken_checkpoint_is_named_as_the_user_gave_it(tmp_path):
    """The export works on a copy in a temporary folder; the error names the user's file, not the copy."""
    bad = tmp_path / "bad.pt"
    bad.write_text("garbage")
    with pytest.raises(TinydetError) as caught:
        export_model(bad, ExportSpec(format="onnx", imgsz=IMGSZ), tmp_path / "m.onnx")
    message = str(caught.value)
    assert message.startswith(f"{bad}: ") and "model.pt" not in message and ".m.onnx." not in message
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.pt"]
