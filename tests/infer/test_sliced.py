"""The sliced predictor end to end with a fake backend whose right answers are known exactly."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinydet import Detections, TinydetError
from tinydet.infer.sliced import SliceOptions, SlicedPredictor
from tinydet.ops.merge import METHODS

from .fakes import DrawnBoxes, DrawnBoxesUint8, drawn_scene, sort_boxes


def predict(image, **options):
    options = {"slice": (64, 64), "overlap": 0.3, "merge": "nms", "match": "ios", "conf": 0.1, **options}
    predictor = SlicedPredictor(DrawnBoxes(), SliceOptions(**options))
    return predictor(image), predictor


@pytest.mark.parametrize("merge", ["nms", "greedy-nmm", "nmm"])
@pytest.mark.parametrize("size", [(300, 200), (64, 64), (50, 170), (333, 47)])
def test_known_boxes_come_back_exactly(size, merge):
    image, truth, classes = drawn_scene(*size, count=12)
    found, _ = predict(image, merge=merge)
    assert isinstance(found, Detections)
    got, got_cls = sort_boxes(found.xyxy, found.class_id)
    want, want_cls = sort_boxes(truth, classes)
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(got_cls, want_cls)
    assert np.all(found.confidence == np.float32(0.9))


@pytest.mark.parametrize("imgsz", [None, 96])
def test_uint8_backend_gets_the_tiles_and_finds_the_same_boxes(imgsz):
    image, _, _ = drawn_scene(300, 200, count=12)
    options = SliceOptions(slice=(64, 64), overlap=0.3, merge="nms", match="ios", conf=0.1, imgsz=imgsz, batch=3)
    as_float = SlicedPredictor(DrawnBoxes(), options)(image)
    uint8 = DrawnBoxesUint8()
    as_uint8 = SlicedPredictor(uint8, options)(image)
    assert uint8.calls  # and each call asserted that it got uint8 [B, H, W, 3] tiles
    np.testing.assert_array_equal(as_uint8.xyxy, as_float.xyxy)
    np.testing.assert_array_equal(as_uint8.class_id, as_float.class_id)
    np.testing.assert_array_equal(as_uint8.confidence, as_float.confidence)


@settings(max_examples=15, deadline=None)
@given(width=st.integers(40, 260), height=st.integers(40, 260), seed=st.integers(0, 1000),
       batch=st.integers(1, 5), overlap=st.sampled_from([0.3, 0.45]))
def test_known_boxes_property(width, height, seed, batch, overlap):
    image, truth, classes = drawn_scene(width, height, seed=seed, count=8, size=(3, 10))
    found, _ = predict(image, batch=batch, overlap=overlap)
    got, got_cls = sort_boxes(found.xyxy, found.class_id)
    want, want_cls = sort_boxes(truth, classes)
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(got_cls, want_cls)


def test_cut_pieces_need_ios_matching():
    """A tile border cuts a box into a piece that IoU matching misses and IoS matching removes."""
    image = np.zeros((64, 120, 3), np.uint8)
    image[20:30, 50:60] = (0, 0, 255)  # whole in the left tile, cut at x=56 in the right one
    image[40:50, 60:72] = (0, 0, 255)  # cut at x=64 in the left tile, whole in the right one
    options = dict(slice=(64, 64), overlap=0.1, merge="nms", conf=0.1)
    predictor = SlicedPredictor(DrawnBoxes(), SliceOptions(**options, match="iou"))
    assert [r for r, _ in predictor.regions(120, 64)] == [(0, 0, 64, 64), (56, 0, 120, 64)]
    by_iou = predictor(image)
    assert sorted(by_iou.confidence.tolist()) == pytest.approx([0.6, 0.6, 0.9, 0.9])  # pieces have IoU 0.4, 0.33
    by_ios = SlicedPredictor(DrawnBoxes(), SliceOptions(**options, match="ios"))(image)
    assert by_ios.xyxy.tolist() == [[50, 20, 60, 30], [60, 40, 72, 50]]


def test_every_merge_runs_on_the_pipeline():
    image, truth, _ = drawn_scene(200, 150, count=10)
    for method in METHODS:
        match = "diou" if method == "diou-nms" else None
        found, _ = predict(image, merge=method, match=match, iou=0.5)
        assert len(found) >= len(truth) and (found.xyxy[:, 2] <= 200).all() and (found.xyxy[:, 3] <= 150).all()


def test_batches_hold_at_most_batch_tiles():
    image, _, _ = drawn_scene(300, 200, count=5)
    _, predictor = predict(image, batch=3)
    shapes = predictor.backend.calls
    assert all(s[0] <= 3 for s in shapes) and sum(s[0] for s in shapes) == len(predictor.regions(300, 200))
    assert all(s[1:] == (3, 64, 64) for s in shapes)
    assert predictor.timing.tiles == len(predictor.regions(300, 200))


def test_full_image_pass_finds_an_object_larger_than_a_tile():
    image = np.zeros((120, 160, 3), np.uint8)
    image[10:110, 20:140] = (0, 255, 0)  # 120 x 100: no 64 px tile sees it whole
    sliced, _ = predict(image, merge="greedy-nmm", match="ios")
    both, predictor = predict(image, merge="nms", match="ios", full_image=True)
    assert predictor.regions(160, 120)[-1] == ((0, 0, 160, 120), (64, 48))
    best = both[np.argmax(both.confidence)]
    assert best.confidence[0] == np.float32(0.9)
    np.testing.assert_allclose(best.xyxy[0], [20, 10, 140, 110], atol=3)  # 2.5x shrink: within a few px
    assert not np.any(sliced.confidence == np.float32(0.9))


def test_full_image_only_when_no_slice():
    image, truth, classes = drawn_scene(64, 64, count=4)
    predictor = SlicedPredictor(DrawnBoxes(), SliceOptions(slice=None, imgsz=64, conf=0.1))
    assert predictor.options.full_image
    found = predictor(image)
    got, _ = sort_boxes(found.xyxy, found.class_id)
    np.testing.assert_array_equal(got, sort_boxes(truth, classes)[0])


def test_resized_tiles_map_back_to_image_pixels():
    image, truth, classes = drawn_scene(256, 128, count=6, size=(8, 14))
    found, predictor = predict(image, slice=(128, 128), imgsz=64, overlap=0.25)
    assert predictor.input_hw == (64, 64)
    got, _ = sort_boxes(found.xyxy, found.class_id)
    np.testing.assert_allclose(got, sort_boxes(truth, classes)[0], atol=2.0)  # half resolution: within 2 px


def test_empty_image_gives_no_boxes():
    found, _ = predict(np.zeros((100, 90, 3), np.uint8))
    assert len(found) == 0 and found.xyxy.shape == (0, 4)


@pytest.mark.parametrize(
    "options, message",
    [
        (dict(slice=(8, 8)), "at least 16x16"),
        (dict(overlap=0.999), r"overlap must be in \[0, 0.9\]"),
        (dict(merge="mean"), "unknown merge 'mean'"),
        (dict(merge="diou-nms", match="ios"), "matches boxes by diou"),
        (dict(conf=2.0), r"conf must be in \[0, 1\]"),
        (dict(backend="tensorrt"), "unknown backend 'tensorrt'"),
        (dict(batch=0), "at least 1"),
    ],
)
def test_bad_options(options, message):
    with pytest.raises(TinydetError, match=message):
        SliceOptions(**options)


def test_missing_model_is_one_clear_error(tmp_path):
    with pytest.raises(TinydetError, match="model not found"):
        SlicedPredictor(tmp_path / "nope.pt", SliceOptions())
    (tmp_path / "weights.onnx").write_bytes(b"x")
    with pytest.raises(TinydetError, match="expected a .pt checkpoint"):
        SlicedPredictor(tmp_path / "weights.onnx", SliceOptions())
    (tmp_path / "broken.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(TinydetError, match="broken.pt: not a PyTorch checkpoint"):
        SlicedPredictor(tmp_path / "broken.pt", SliceOptions())


@settings(max_examples=100, deadline=None)
@given(x=st.integers(0, 20000), y=st.integers(0, 20000), w=st.integers(16, 1024), h=st.integers(16, 1024),
       scale=st.sampled_from([1.0, 0.5, 2.0, 0.37]), seed=st.integers(0, 1000))
def test_tile_to_image_then_back_is_identity(x, y, w, h, scale, seed):
    """Decoding shifts (and rescales) boxes from a tile's input pixels to the image; undoing it gives them back."""
    import torch

    from tinydet.infer.decode import Placement, decode

    cw, ch = max(1, round(w * scale)), max(1, round(h * scale))
    rng = np.random.default_rng(seed)
    x1y1 = rng.uniform(0, [cw - 1, ch - 1], (5, 2))
    x2y2 = x1y1 + rng.uniform(0.5, [cw, ch], (5, 2))
    boxes = np.minimum(np.concatenate([x1y1, x2y2], 1), [cw, ch, cw, ch])
    raw = torch.zeros(1, 5, 5)
    raw[0, :4] = torch.tensor(np.concatenate([(boxes[:, :2] + boxes[:, 2:]) / 2, boxes[:, 2:] - boxes[:, :2]], 1).T)
    raw[0, 4] = torch.linspace(0.5, 0.9, 5)
    placement = Placement(torch.tensor([[x, y]], dtype=torch.float64), torch.tensor([[w, h]], dtype=torch.float64),
                          torch.tensor([[cw, ch]], dtype=torch.float64))
    found = decode(raw, placement, nc=1, conf=0.1, end2end=False, iou=1.0)
    order = np.argsort(-found.scores.numpy())
    image_boxes = found.boxes.numpy().astype(np.float64)[order]
    back = (image_boxes - [x, y, x, y]) * [cw / w, ch / h, cw / w, ch / h]
    expected = np.clip(raw[0, :4].T.numpy().astype(np.float64), 0, None)
    expected = np.concatenate([expected[:, :2] - expected[:, 2:] / 2, expected[:, :2] + expected[:, 2:] / 2], 1)[::-1]
    np.testing.assert_allclose(back, np.minimum(np.maximum(expected, 0), [cw, ch, cw, ch]), atol=5e-3 * max(1, scale))
