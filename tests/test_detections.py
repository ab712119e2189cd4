import numpy as np
import pytest

from tinydet import Detections


def make(n=3, with_data=False):
    xyxy = np.array([[0, 0, 10, 10], [5, 5, 20, 30], [100, 50, 101, 52]], np.float64)[:n]
    data = {"slice_id": np.arange(n)} if with_data else {}
    return Detections(xyxy, np.linspace(0.9, 0.5, n), np.arange(n), data)


def test_types_are_normalised():
    d = make()
    assert d.xyxy.dtype == np.float32 and d.xyxy.shape == (3, 4)
    assert d.confidence.dtype == np.float32 and d.class_id.dtype == np.int64
    assert len(d) == 3


@pytest.mark.parametrize(
    "xyxy, conf, cls, data, message",
    [
        (np.zeros((2, 5)), np.zeros(2), np.zeros(2), {}, r"shape \[N, 4\]"),
        (np.zeros(4), np.zeros(1), np.zeros(1), {}, r"shape \[N, 4\]"),
        (np.zeros((2, 4)), np.zeros(3), np.zeros(2), {}, "confidence has 3 entries"),
        (np.zeros((2, 4)), np.zeros(2), np.zeros(1), {}, "class_id has 1 entries"),
        (np.zeros((1, 4)), np.zeros(1), np.zeros(1), {"k": np.zeros(2)}, r"data\['k'\] must have 1 rows"),
        (np.zeros((1, 4)), np.zeros(1), np.zeros(1), {"k": 3.0}, r"data\['k'\] must have 1 rows"),
        (np.array([[0, 0, np.nan, 1]]), np.zeros(1), np.zeros(1), {}, "NaN or infinite"),
        (np.array([[10, 0, 5, 1]]), np.zeros(1), np.zeros(1), {}, "x2 < x1"),
        ([["a", "b", "c", "d"]], [0.5], [0], {}, "xyxy must be convertible"),
    ],
)
def test_bad_shapes_give_clear_errors(xyxy, conf, cls, data, message):
    with pytest.raises(ValueError, match=message):
        Detections(xyxy, conf, cls, data)


def test_empty():
    e = Detections.empty(data_keys=["slice_id"])
    assert len(e) == 0 and e.xyxy.shape == (0, 4) and e.data["slice_id"].shape == (0,)
    assert len(Detections(np.zeros((0, 4)), [], [])) == 0
    assert len(Detections([], [], [])) == 0


def test_indexing_int_slice_mask_array():
    d = make(with_data=True)
    one = d[1]
    assert len(one) == 1 and one.class_id.tolist() == [1] and one.data["slice_id"].tolist() == [1]
    assert d[-1].class_id.tolist() == [2]
    assert d[1:].class_id.tolist() == [1, 2]
    assert d[np.array([True, False, True])].class_id.tolist() == [0, 2]
    assert d[[2, 0]].class_id.tolist() == [2, 0]
    assert len(d[[]]) == 0
    with pytest.raises(IndexError, match="out of range"):
        d[3]
    with pytest.raises(IndexError, match="boolean mask has shape"):
        d[np.array([True, False])]
    with pytest.raises(IndexError, match="integer or boolean"):
        d[np.array([0.5])]


def test_merge_keeps_only_common_columns_and_order():
    a, b = make(2, with_data=True), make(3)
    m = Detections.merge([a, b])
    assert len(m) == 5 and m.class_id.tolist() == [0, 1, 0, 1, 2] and m.data == {}
    m2 = Detections.merge([a, make(1, with_data=True)])
    assert m2.data["slice_id"].tolist() == [0, 1, 0]
    assert len(Detections.merge([])) == 0


def test_shifted_moves_boxes_and_keypoints():
    d = Detections([[1, 2, 3, 4]], [0.5], [0], {"keypoints": np.array([[[2.0, 3.0, 1.0]]])})
    s = d.shifted(10, 20)
    assert s.xyxy.tolist() == [[11, 22, 13, 24]]
    assert s.data["keypoints"].tolist() == [[[12, 23, 1]]]
    assert d.xyxy.tolist() == [[1, 2, 3, 4]]  # original untouched


def test_sort_and_to_coco():
    d = Detections([[0, 0, 2, 4], [1, 1, 2, 2]], [0.2, 0.8], [1, 0])
    s = d.sort_by_confidence()
    assert s.confidence.tolist() == pytest.approx([0.8, 0.2])
    coco = d.to_coco("img.jpg", category_ids=[5, 7])
    assert coco[0] == {"image_id": "img.jpg", "category_id": 7, "bbox": [0.0, 0.0, 2.0, 4.0], "score": pytest.approx(0.2)}


def test_from_ultralytics_results():
    import torch
    from ultralytics.engine.results import Results

    img = np.zeros((50, 60, 3), np.uint8)
    boxes = torch.tensor([[1.0, 2.0, 11.0, 22.0, 0.9, 2.0], [5.0, 5.0, 6.0, 7.0, 0.3, 0.0]])
    r = Results(img, path="x.jpg", names={0: "a", 1: "b", 2: "c"}, boxes=boxes)
    d = Detections.from_ultralytics(r)
    assert d.xyxy.tolist() == [[1, 2, 11, 22], [5, 5, 6, 7]]
    assert d.class_id.tolist() == [2, 0]
    assert d.confidence.tolist() == pytest.approx([0.9, 0.3])
    kp = torch.tensor([[[3.0, 4.0, 0.9]], [[5.0, 6.0, 0.1]]])
    r2 = Results(img, path="x.jpg", names={0: "a", 1: "b", 2: "c"}, boxes=boxes, keypoints=kp)
    assert Detections.from_ultralytics(r2).data["keypoints"].shape == (2, 1, 3)
    empty = Results(img, path="x.jpg", names={0: "a"}, boxes=torch.zeros((0, 6)))
    assert len(Detections.from_ultralytics(empty)) == 0
    inverted = Results(img, path="x.jpg", names={0: "a"}, boxes=torch.tensor([[9.0, 2.0, 4.0, 8.0, 0.5, 0.0]]))
    assert Detections.from_ultralytics(inverted).xyxy.tolist() == [[9, 2, 9, 8]]  # YOLO26 can predict x2 < x1
