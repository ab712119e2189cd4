"""Real models: the decoding matches ultralytics' own prediction; exported backends match torch; the export
cache never writes beside the user's files."""

import hashlib

import numpy as np
import pytest
import torch

from tinydet import TinydetError
from tinydet.infer.backends import round_to_stride
from tinydet.infer.backends.load import load_backend
from tinydet.infer.device import resolve_device
from tinydet.infer.decode import Placement, decode, raw_candidates
from tinydet.infer.sliced import SliceOptions, SlicedPredictor


def test_full_image_equals_ultralytics_predict(checkpoint):
    from ultralytics import YOLO

    image = (np.random.default_rng(0).random((128, 128, 3)) * 255).astype(np.uint8)
    expected = YOLO(checkpoint).predict(image, imgsz=128, conf=0.5, iou=0.5, verbose=False)[0].boxes
    found = SlicedPredictor(checkpoint, SliceOptions(slice=None, imgsz=128, conf=0.5, tile_iou=0.5))(image)
    assert len(found) == len(expected) > 10

    def table(xyxy, conf, cls):
        return np.round(np.concatenate([xyxy, conf[:, None] * 1e6, cls[:, None]], 1), 3)

    got = table(found.xyxy, found.confidence, found.class_id)
    want = table(expected.xyxy.numpy(), expected.conf.numpy(), expected.cls.numpy())
    np.testing.assert_allclose(got[np.lexsort(got.T[::-1])], want[np.lexsort(want.T[::-1])], atol=2e-3)


def test_tiles_equal_ultralytics_on_each_tile(checkpoint):
    """Two tiles without overlap and the 'nms' merge at IoU 1.0 (nothing merges): per-tile results equal
    ultralytics' predictions on the crops, shifted."""
    from ultralytics import YOLO

    image = (np.random.default_rng(1).random((128, 256, 3)) * 255).astype(np.uint8)
    yolo = YOLO(checkpoint)
    expected = []
    for x0 in (0, 128):
        crop = np.ascontiguousarray(image[:, x0 : x0 + 128])
        boxes = yolo.predict(crop, imgsz=128, conf=0.5, iou=0.5, verbose=False)[0].boxes
        expected.append(boxes.xyxy.numpy() + [x0, 0, x0, 0])
    expected = np.concatenate(expected)
    options = SliceOptions(slice=(128, 128), overlap=0.0, conf=0.5, tile_iou=0.5, merge="nms", iou=1.0, batch=2)
    found = SlicedPredictor(checkpoint, options)(image)
    assert len(found) == len(expected)
    np.testing.assert_allclose(np.sort(found.xyxy, axis=0), np.sort(expected, axis=0), atol=2e-3)


def test_raw_candidates_both_layouts():
    dense = torch.zeros(2, 4 + 3, 5)
    dense[1, :4, 2] = torch.tensor([10.0, 20.0, 4.0, 6.0])
    dense[1, 4 + 2, 2] = 0.8
    item, boxes, scores, classes = raw_candidates(dense, 3, 0.5, end2end=False)
    assert item.tolist() == [1] and classes.tolist() == [2] and scores.tolist() == pytest.approx([0.8])
    assert boxes.tolist() == [[8.0, 17.0, 12.0, 23.0]]
    e2e = torch.zeros(2, 300, 6)
    e2e[0, 7] = torch.tensor([1.0, 2.0, 3.0, 4.0, 0.9, 1.0])
    item, boxes, scores, classes = raw_candidates(e2e, 3, 0.5, end2end=True)
    assert item.tolist() == [0] and boxes.tolist() == [[1.0, 2.0, 3.0, 4.0]] and classes.tolist() == [1]
    with pytest.raises(ValueError, match="fewer than 4 \\+ 5 classes"):
        raw_candidates(dense, 5, 0.5, end2end=False)


def test_inverted_predictions_become_zero_width():
    """YOLO26 heads regress raw side distances and can predict x2 < x1: such boxes come out zero-width or
    -height (valid Detections, matching nothing) instead of failing downstream."""
    e2e = torch.zeros(1, 2, 6)
    e2e[0, 0] = torch.tensor([10.0, 2.0, 4.0, 8.0, 0.9, 0.0])
    e2e[0, 1] = torch.tensor([1.0, 9.0, 5.0, 3.0, 0.8, 0.0])
    _, boxes, _, _ = raw_candidates(e2e, 1, 0.5, end2end=True)
    assert boxes.tolist() == [[10.0, 2.0, 10.0, 8.0], [1.0, 9.0, 5.0, 9.0]]
    dense = torch.zeros(1, 5, 1)
    dense[0, :, 0] = torch.tensor([10.0, 10.0, -4.0, 2.0, 0.9])  # negative width
    _, boxes, _, _ = raw_candidates(dense, 1, 0.5, end2end=False)
    assert boxes.tolist() == [[12.0, 9.0, 12.0, 11.0]]


def test_decode_maps_resized_content_back():
    raw = torch.zeros(1, 5, 1)
    raw[0, :4, 0] = torch.tensor([20.0, 10.0, 8.0, 4.0])  # box 16..24 x 8..12 in input pixels
    raw[0, 4, 0] = 0.9
    placement = Placement(origin=torch.tensor([[100.0, 50.0]], dtype=torch.float64),
                          size=torch.tensor([[64.0, 32.0]], dtype=torch.float64),
                          content=torch.tensor([[32.0, 16.0]], dtype=torch.float64))  # shrunk by 2
    found = decode(raw, placement, nc=1, conf=0.5, end2end=False)
    assert found.boxes.tolist() == [[132.0, 66.0, 148.0, 74.0]]
    raw[0, :4, 0] = torch.tensor([30.0, 10.0, 8.0, 4.0])  # reaches into the padding: clipped at the content
    assert decode(raw, placement, nc=1, conf=0.5, end2end=False).boxes.tolist() == [[152.0, 66.0, 164.0, 74.0]]


def test_max_det_per_tile():
    raw = torch.zeros(2, 5, 10)
    raw[:, :4] = torch.tensor([5.0, 5.0, 2.0, 2.0])[None, :, None] + torch.arange(10.0) * 10 * torch.tensor([1.0, 0, 0, 0])[None, :, None]
    raw[:, 4] = torch.linspace(0.5, 0.95, 10)
    placement = Placement(*(torch.tensor([[0.0, 0.0], [200.0, 0.0]], dtype=torch.float64) if k == 0 else
                            torch.tensor([[100.0, 20.0]] * 2, dtype=torch.float64) for k in range(3)))
    found = decode(raw, placement, nc=1, conf=0.1, end2end=False, max_det=3)
    assert found.item.tolist().count(0) == 3 and found.item.tolist().count(1) == 3
    assert sorted(found.scores.tolist())[-1] == pytest.approx(0.95)


def test_device_parsing():
    assert resolve_device("cpu").type == "cpu"
    assert round_to_stride((500, 641), 32) == (512, 672)
    if not torch.cuda.is_available():
        with pytest.raises(TinydetError, match="no CUDA GPU"):
            resolve_device("0")
    with pytest.raises(TinydetError, match="unknown device"):
        resolve_device("quantum")


def test_unknown_backend(checkpoint):
    with pytest.raises(TinydetError, match="unknown backend"):
        load_backend(checkpoint, "tflite", "cpu", (64, 64))


def _digest(path):
    return hashlib.sha1(path.read_bytes()).hexdigest()


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["onnxruntime", "openvino"])
def test_exported_backend_matches_torch_and_caches(checkpoint, kind, tmp_path):
    import shutil

    model = tmp_path / "user" / "rand.pt"
    model.parent.mkdir()
    shutil.copyfile(checkpoint, model)
    (model.parent / "rand.onnx").write_text("the user's own file")
    before = _digest(model)
    exported = load_backend(model, kind, "cpu", (96, 128))
    reference = load_backend(model, "torch", "cpu", (96, 128))
    assert exported.input_hw == reference.input_hw == (96, 128)
    assert exported.names == reference.names and exported.end2end is False
    x = torch.rand(3, 3, 96, 128)
    torch.testing.assert_close(exported(x), reference(x), atol=2e-3, rtol=1e-3)
    torch.testing.assert_close(exported(x[:1]), reference(x[:1]), atol=2e-3, rtol=1e-3)  # any batch size
    if getattr(exported, "takes_uint8", False):  # the tiles as cut: converted inside the compiled model
        tiles = torch.randint(0, 256, (2, 96, 128, 3), dtype=torch.uint8)
        as_float = tiles.permute(0, 3, 1, 2).float() / 255
        torch.testing.assert_close(exported(tiles), reference(as_float), atol=2e-3, rtol=1e-3)
        with pytest.raises(ValueError, match=r"uint8 input must be \[B, H, W, 3\]"):
            exported(tiles.permute(0, 3, 1, 2).contiguous())
    # the user's files are untouched; everything else lives in the cache
    _check_thread_budget_is_taken_when_made(model, kind)
    assert _digest(model) == before and (model.parent / "rand.onnx").read_text() == "the user's own file"
    assert sorted(p.name for p in model.parent.iterdir()) == [".tinydet-cache", "rand.onnx", "rand.pt"]
    cached = list((model.parent / ".tinydet-cache").glob("rand-*/*/tinydet.json"))
    assert len(cached) == 1
    stamp = cached[0].stat().st_mtime_ns
    load_backend(model, kind, "cpu", (96, 128))  # second load: no new export
    assert cached[0].stat().st_mtime_ns == stamp and len(list((model.parent / ".tinydet-cache").rglob("tinydet.json"))) == 1
    assert not list((model.parent / ".tinydet-cache").rglob(".*-*"))  # no half-finished export folders


def _check_thread_budget_is_taken_when_made(model, kind):
    """A backend keeps torch's thread count of the moment it was made, even when torch's count changes before
    its first call (ultralytics' predictor setup does that; OpenVINO compiles lazily, per batch size)."""
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        backend = load_backend(model, kind, "cpu", (96, 128))
        torch.set_num_threads(2)
        backend(torch.rand(1, 3, 96, 128))
        if kind == "openvino":
            (compiled,) = backend._compiled.values()
            assert compiled.get_property("INFERENCE_NUM_THREADS") == 1
        else:
            assert backend.session.get_session_options().intra_op_num_threads == 1
    finally:
        torch.set_num_threads(before)
