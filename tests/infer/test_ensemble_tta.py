"""Ensembles and test-time augmentation: the box mappings are exact, fusing identical passes changes nothing,
votes lower the score of boxes that only some passes found, and the output is always a valid Detections."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinydet import Detections, TinydetError
from tinydet.infer.ensemble import EnsembleOptions, EnsemblePredictor, FlippedReader, fuse
from tinydet.infer.images import ArrayReader
from tinydet.infer.sliced import SliceOptions, SlicedPredictor
from tinydet.ops.merge import METHODS
from tinydet.ops.tta import Augment, hflip_boxes, scale_boxes, tta_views

from .fakes import DrawnBoxes, drawn_scene, sort_boxes


def random_boxes(rng, n, width=300, height=200):
    xy = rng.uniform(0, [width - 20, height - 20], (n, 2))
    wh = rng.uniform(1, 20, (n, 2))
    return np.concatenate([xy, xy + wh], 1).astype(np.float32)


# -- pure mappings ---------------------------------------------------------------------------------------------
@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 10_000), width=st.integers(1, 5000), n=st.integers(0, 20))
def test_flip_then_unflip_is_identity(seed, width, n):
    rng = np.random.default_rng(seed)
    boxes = random_boxes(rng, n, width + 20, 100).astype(np.float64)
    once = hflip_boxes(boxes, width)
    assert (once[:, 2] >= once[:, 0]).all()
    np.testing.assert_allclose(hflip_boxes(once, width), boxes, rtol=0, atol=1e-12 * (width + 20))
    quarter_pixels = np.round(boxes * 4) / 4  # exactly representable: the round trip is exact
    np.testing.assert_array_equal(hflip_boxes(hflip_boxes(quarter_pixels, width), width), quarter_pixels)


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 10_000), flip=st.booleans(), scale=st.sampled_from([0.5, 0.83, 1.0, 1.25, 3.0]),
       width=st.integers(7, 4000), height=st.integers(7, 4000))
def test_view_inverse_undoes_forward(seed, flip, scale, width, height):
    view = Augment(flip, scale)
    boxes = random_boxes(np.random.default_rng(seed), 10, width + 20, height + 20).astype(np.float64)
    back = view.inverse(view.forward(boxes, width, height), width, height)
    np.testing.assert_allclose(back, boxes, rtol=1e-12, atol=1e-9)


def test_mappings_by_hand():
    box = np.array([[10.0, 20.0, 30.0, 60.0]])
    assert hflip_boxes(box, 100).tolist() == [[70, 20, 90, 60]]
    assert scale_boxes(box, 2, 0.5).tolist() == [[20, 10, 60, 30]]
    # 101 px wide at scale 0.5 is predicted at 51 px (rounded): the inverse uses 101/51, not 2
    assert Augment(True, 0.5).inverse(np.array([[0.0, 0.0, 51.0, 25.0]]), 101, 50).tolist() == [[0, 0, 101, 50]]
    assert [(v.flip, v.scale) for v in tta_views(True, (0.83, 1, 1.25))] == [
        (False, 1.0), (False, 0.83), (True, 0.83), (True, 1.0), (False, 1.25), (True, 1.25)]
    with pytest.raises(ValueError, match="positive"):
        Augment(scale=0)


def test_flipped_reader_reads_mirrored_regions():
    pixels = np.random.default_rng(0).integers(0, 255, (40, 70, 3), dtype=np.uint8)
    flipped = FlippedReader(ArrayReader(pixels))
    mirror = pixels[:, ::-1]
    np.testing.assert_array_equal(flipped.read(5, 3, 50, 30), mirror[3:30, 5:50])
    np.testing.assert_array_equal(flipped.resized(70, 40), mirror)


# -- fusing ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("merge", [m for m in METHODS if m != "soft-nms"])  # soft-NMS keeps duplicates, rescored
def test_fusing_a_pass_with_itself_changes_nothing(merge):
    rng = np.random.default_rng(1)
    boxes = np.array([[x, y, x + 8, y + 6] for x in range(0, 200, 20) for y in range(0, 100, 25)], np.float32)
    dets = Detections(boxes, rng.uniform(0.3, 1, len(boxes)), rng.integers(0, 3, len(boxes))).sort_by_confidence()
    options = EnsembleOptions(merge=merge, match="diou" if merge == "diou-nms" else None, iou=0.5)
    out = fuse([dets, dets], options)
    np.testing.assert_allclose(out.xyxy, dets.xyxy, atol=1e-4)
    np.testing.assert_allclose(out.confidence, dets.confidence, rtol=1e-6)
    np.testing.assert_array_equal(out.class_id, dets.class_id)


def test_votes_lower_what_few_passes_found():
    both = Detections([[10, 10, 20, 20]], [0.8], [0])
    extra = Detections([[10, 10, 20, 20], [50, 50, 60, 60]], [0.6, 0.9], [0, 0])
    out = fuse([both, extra], EnsembleOptions())
    np.testing.assert_allclose(out.confidence, [0.7, 0.45], rtol=1e-6)  # mean of 0.8, 0.6; 0.9 * 1/2
    np.testing.assert_allclose(out.xyxy, [[10, 10, 20, 20], [50, 50, 60, 60]])
    other_class = Detections([[10, 10, 20, 20]], [0.8], [1])  # same place, another class: no vote
    out = fuse([both, other_class], EnsembleOptions())
    np.testing.assert_allclose(out.confidence, [0.4, 0.4])
    no_vote = fuse([both, extra], EnsembleOptions(vote=False))
    np.testing.assert_allclose(no_vote.confidence, [0.9, 0.7], rtol=1e-6)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), parts=st.integers(1, 4), merge=st.sampled_from(list(METHODS)),
       agnostic=st.booleans())
def test_fused_output_is_valid_detections(seed, parts, merge, agnostic):
    rng = np.random.default_rng(seed)
    found = []
    for _ in range(parts):
        n = int(rng.integers(0, 30))
        found.append(Detections(random_boxes(rng, n, 120, 90), rng.uniform(0.05, 1, n), rng.integers(0, 3, n)))
    out = fuse(found, EnsembleOptions(merge=merge, match="diou" if merge == "diou-nms" else None, agnostic=agnostic))
    assert isinstance(out, Detections)
    assert out.xyxy.dtype == np.float32 and out.class_id.dtype == np.int64
    assert len(out) <= sum(len(f) for f in found)
    assert ((out.confidence > 0) & (out.confidence <= 1)).all()
    assert (np.diff(out.confidence) <= 0).all()
    assert set(out.class_id.tolist()) <= {c for f in found for c in f.class_id.tolist()}


# -- predictors ------------------------------------------------------------------------------------------------
SLICING = SliceOptions(slice=(64, 64), overlap=0.5, merge="nms", match="ios", conf=0.1)


def test_tta_views_find_the_same_boxes_exactly():
    """Mirrored and 2x views of drawn boxes, mapped back, land on the true boxes to the pixel."""
    image, truth, classes = drawn_scene(150, 110, seed=3, count=10)
    predictor = EnsemblePredictor([SlicedPredictor(DrawnBoxes(), SLICING)], EnsembleOptions(flip=True, scales=(1, 2)))
    assert predictor.passes == 4
    for view in predictor.views:  # each pass on its own
        from tinydet.infer.ensemble import view_reader

        reader = ArrayReader(image)
        found = predictor.predictors[0].predict_reader(view_reader(reader, view))
        got, got_cls = sort_boxes(view.inverse(found.xyxy, 150, 110), found.class_id)
        want, want_cls = sort_boxes(truth, classes)
        np.testing.assert_array_equal(got, want, err_msg=str(view))
        np.testing.assert_array_equal(got_cls, want_cls)
    fused = predictor(image)
    got, got_cls = sort_boxes(fused.xyxy, fused.class_id)
    np.testing.assert_allclose(got, sort_boxes(truth, classes)[0], atol=1e-4)
    np.testing.assert_array_equal(got_cls, sort_boxes(truth, classes)[1])
    np.testing.assert_allclose(fused.confidence, 0.9, rtol=1e-6)


def test_ensemble_of_a_model_with_itself_is_the_model():
    """WBF over two identical passes returns the model's own boxes (no two of which match each other here)."""
    image, truth, _ = drawn_scene(200, 130, seed=7, count=14)
    model = SlicedPredictor(DrawnBoxes(), SLICING)
    alone = model(image)
    assert len(alone) == len(truth)
    fused = EnsemblePredictor([model, model], EnsembleOptions(merge="wbf"))(image)
    np.testing.assert_allclose(fused.xyxy, alone.xyxy, atol=1e-4)
    np.testing.assert_array_equal(fused.confidence, alone.confidence)
    np.testing.assert_array_equal(fused.class_id, alone.class_id)


def test_doubling_every_pass_changes_nothing(checkpoint):
    """A real checkpoint (random weights: many overlapping boxes): two copies fuse as one would."""
    image = (np.random.default_rng(5).random((96, 128, 3)) * 255).astype(np.uint8)
    options = SliceOptions(slice=None, imgsz=96, conf=0.3, iou=0.7)
    model = SlicedPredictor(checkpoint, options)
    copies = [model, model]  # one loaded model twice: the same passes as two copies, without a second load
    alone = copies[0](image)
    assert len(alone) > 3
    for merge in ("wbf", "nms"):
        fused = EnsemblePredictor(copies, EnsembleOptions(merge=merge))(image)
        once = fuse([alone], EnsembleOptions(merge=merge))
        np.testing.assert_allclose(fused.xyxy, once.xyxy, atol=1e-3)
        np.testing.assert_allclose(fused.confidence, once.confidence, rtol=1e-5)
        np.testing.assert_array_equal(fused.class_id, once.class_id)


def test_models_with_other_classes_are_refused():
    class Other(DrawnBoxes):
        names = {0: "cat", 1: "dog"}

    with pytest.raises(TinydetError, match=r"b\.pt has classes \[cat, dog\] but a\.pt has \[red, green\]"):
        EnsemblePredictor([SlicedPredictor(DrawnBoxes(), SLICING), SlicedPredictor(Other(), SLICING)],
                          labels=["a.pt", "b.pt"])


@pytest.mark.parametrize("kwargs, message", [
    ({"scales": ()}, "TTA scales"), ({"scales": (0,)}, "TTA scales"), ({"merge": "best"}, "unknown merge"),
    ({"iou": 2}, "iou must be in"), ({"conf_type": "sum"}, "conf_type"),
])
def test_bad_ensemble_options(kwargs, message):
    with pytest.raises(TinydetError, match=message):
        EnsembleOptions(**kwargs)


# -- command line ----------------------------------------------------------------------------------------------
def test_cli_ensemble_with_tta_and_source_after_models(tmp_path, checkpoint, capsys):
    import cv2

    from tinydet.cli import main

    cv2.imwrite(str(tmp_path / "a.png"), (np.random.default_rng(0).random((80, 96, 3)) * 255).astype(np.uint8))
    other = tmp_path / "other.pt"
    other.write_bytes(checkpoint.read_bytes())
    code = main(["predict", "--model", str(checkpoint), str(other), str(tmp_path / "a.png"), "--imgsz", "64",
                 "--conf", "0.5", "--tta", "--tta-scales", "1", "--out", str(tmp_path / "o"), "--save-txt"])
    assert code == 0, capsys.readouterr().err
    rows = [line.split() for line in (tmp_path / "o" / "labels" / "a.txt").read_text().splitlines()]
    assert rows and all(len(r) == 6 and 0 <= float(r[5]) <= 1 for r in rows)


@pytest.mark.parametrize("models, message", [
    (["A", "A", "photos/"], "a model is named twice"),
    (["A"], "give SOURCE"),
])
def test_cli_ensemble_errors_are_one_line(tmp_path, checkpoint, capsys, models, message):
    from tinydet.cli import main

    code = main(["predict", "--model", *[str(checkpoint) if m == "A" else m for m in models]])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and message in err, err
