"""`nms_free` / --nms-free: YOLO26-style models inferring with their end-to-end head and no NMS, in the full-image
path (ultralytics' predictor), the torch backend of sliced prediction, validation, and the CLI; clear errors for
models without that head and for backends that cannot switch it."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from tests.export.conftest import make_checkpoint
from tinydet.errors import TinydetError

IMGSZ = 64


@pytest.fixture(scope="module")
def e2e_checkpoint(tmp_path_factory):
    """yolo26n-p2-nop5 (2 classes) with spread-out random weights: diverse scores and boxes."""
    return make_checkpoint("yolo26n-p2-nop5", tmp_path_factory.mktemp("e2e") / "e2e.pt")


@pytest.fixture(scope="module")
def plain_checkpoint(tmp_path_factory):
    return make_checkpoint("yolov8n", tmp_path_factory.mktemp("plain") / "v8.pt")


@pytest.fixture(scope="module")
def image(tmp_path_factory):
    path = tmp_path_factory.mktemp("img") / "a.png"
    Image.fromarray((np.random.default_rng(0).random((IMGSZ, IMGSZ, 3)) * 255).astype(np.uint8)).save(path)
    return path


@pytest.fixture
def nms_calls(monkeypatch):
    """Counts calls of every NMS that ultralytics' and tinydet's paths use (and still runs them)."""
    import torchvision
    from ultralytics.utils import nms as ul_nms

    calls = []

    def counting(fn):
        def wrapped(*args, **kwargs):
            calls.append(fn)
            return fn(*args, **kwargs)
        return wrapped

    monkeypatch.setattr(torchvision.ops, "nms", counting(torchvision.ops.nms))
    monkeypatch.setattr(torchvision.ops, "batched_nms", counting(torchvision.ops.batched_nms))
    monkeypatch.setattr(ul_nms.TorchNMS, "nms", staticmethod(counting(ul_nms.TorchNMS.nms)))
    monkeypatch.setattr(ul_nms.TorchNMS, "fast_nms", staticmethod(counting(ul_nms.TorchNMS.fast_nms)))
    return calls


def _ultralytics_reference(checkpoint, image, nms_free):
    """ultralytics' own predictor (nms=False: the one-to-one head, no NMS), the reference tinydet must match."""
    from ultralytics import YOLO

    from tinydet.detections import Detections

    (result,) = YOLO(str(checkpoint)).predict(str(image), imgsz=IMGSZ, conf=0.01, nms=False if nms_free else None,
                                             verbose=False)
    return Detections.from_ultralytics(result)


def _tinydet_path(checkpoint, image, nms_free):
    from tinydet.infer.sliced import SliceOptions, SlicedPredictor

    options = SliceOptions(slice=None, full_image=True, imgsz=IMGSZ, conf=0.01, nms_free=nms_free)
    return SlicedPredictor(checkpoint, options)(image)


_full = _tinydet_path  # tinydet has one whole-image path (`predict` without --slice, and `val`)


def test_full_image_nms_free_runs_no_nms_and_the_default_does(e2e_checkpoint, image, nms_calls):
    dets = _full(e2e_checkpoint, image, nms_free=True)
    assert len(dets) > 0 and not nms_calls
    _full(e2e_checkpoint, image, nms_free=False)
    assert nms_calls  # ultralytics' default runs the one-to-many head and NMS, even for YOLO26


def test_tinydet_gives_ultralytics_nms_free_boxes(e2e_checkpoint, image, nms_calls):
    """ultralytics' predictor and tinydet's torch backend + decode (whole image) switch the head the same way:
    the same boxes, and no NMS in either."""
    from tinydet.infer.backends.pytorch import TorchBackend

    full = _ultralytics_reference(e2e_checkpoint, image, nms_free=True)
    ours = _tinydet_path(e2e_checkpoint, image, nms_free=True)
    assert not nms_calls
    assert len(full) == len(ours) > 0
    order_full, order_ours = np.argsort(-full.confidence, kind="stable"), np.argsort(-ours.confidence, kind="stable")
    np.testing.assert_allclose(full.confidence[order_full], ours.confidence[order_ours], atol=1e-4)
    np.testing.assert_allclose(full.xyxy[order_full], ours.xyxy[order_ours], atol=0.05)
    np.testing.assert_array_equal(full.class_id[order_full], ours.class_id[order_ours])
    cpu = torch.device("cpu")
    assert TorchBackend(e2e_checkpoint, cpu, (IMGSZ, IMGSZ), nms_free=True).end2end
    assert not TorchBackend(e2e_checkpoint, cpu, (IMGSZ, IMGSZ)).end2end


def test_the_one_to_one_head_differs_from_the_default(e2e_checkpoint, image):
    """The switch reaches the model: the default (one-to-many + NMS) gives other boxes than the one-to-one head."""
    a, b = _tinydet_path(e2e_checkpoint, image, True), _tinydet_path(e2e_checkpoint, image, False)
    assert len(a) != len(b) or not np.allclose(np.sort(a.confidence), np.sort(b.confidence))


def test_a_ready_backend_must_already_be_nms_free(e2e_checkpoint):
    from tinydet.infer.backends.pytorch import TorchBackend
    from tinydet.infer.sliced import SliceOptions, SlicedPredictor

    backend = TorchBackend(e2e_checkpoint, torch.device("cpu"), (IMGSZ, IMGSZ))
    with pytest.raises(TinydetError, match="nms_free"):
        SlicedPredictor(backend, SliceOptions(slice=None, full_image=True, imgsz=IMGSZ, nms_free=True))


def test_models_without_an_end_to_end_head_are_refused(plain_checkpoint, image):
    with pytest.raises(TinydetError, match=rf"{plain_checkpoint.name}.*--nms-free needs .*one-to-one"):
        _full(plain_checkpoint, image, nms_free=True)
    with pytest.raises(TinydetError, match=rf"{plain_checkpoint.name}.*--nms-free needs .*one-to-one"):
        _tinydet_path(plain_checkpoint, image, nms_free=True)


def test_exported_backends_are_refused(e2e_checkpoint):
    from tinydet.infer.backends.load import load_backend

    with pytest.raises(TinydetError, match="--nms-free runs with --backend torch"):
        load_backend(e2e_checkpoint, "onnxruntime", "cpu", (IMGSZ, IMGSZ), nms_free=True)


def test_val_and_predict_cli(e2e_checkpoint, plain_checkpoint, image, tmp_path, capsys, nms_calls):
    from tinydet.cli import main

    images, labels = tmp_path / "images" / "val", tmp_path / "labels" / "val"
    images.mkdir(parents=True)
    labels.mkdir(parents=True)
    (images / "a.png").write_bytes(image.read_bytes())
    (labels / "a.txt").write_text("0 0.5 0.5 0.2 0.2\n")
    data = tmp_path / "data.yaml"
    data.write_text(f"path: {tmp_path}\ntrain: images/val\nval: images/val\nnames: [a, b]\n")
    assert main(["val", "--model", str(e2e_checkpoint), "--data", str(data), "--imgsz", str(IMGSZ), "--nms-free"]) == 0
    assert main(["predict", str(image), "--model", str(e2e_checkpoint), "--imgsz", str(IMGSZ), "--nms-free",
                 "--save-json", "--out", str(tmp_path / "pred")]) == 0
    assert not nms_calls and (tmp_path / "pred" / "predictions.json").is_file()
    capsys.readouterr()
    assert main(["val", "--model", str(plain_checkpoint), "--data", str(data), "--imgsz", str(IMGSZ), "--nms-free"]) != 0
    assert "--nms-free needs" in capsys.readouterr().err
