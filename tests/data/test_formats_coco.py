"""COCO reading and writing: id mapping, crowd regions, keypoints, bad-input table."""

import json

import numpy as np
import pytest
from datahelpers import make_coco

from tinydet.data import DataWarning, load_dataset, read_dataset, write_dataset
from tinydet.data.options import ReadOptions, WriteOptions
from tinydet.errors import DataError

IMAGE = {"id": 1, "file_name": "x.jpg", "width": 64, "height": 48}


def ann(i=1, image_id=1, cat=0, bbox=(8, 6, 16, 12), **kw):
    return {"id": i, "image_id": image_id, "category_id": cat, "bbox": list(bbox), **kw}


def test_category_ids_map_to_contiguous_classes_and_back(tmp_path):
    cats = [{"id": 12, "name": "late"}, {"id": 3, "name": "early"}, {"id": 7, "name": "middle"}]
    path = make_coco(tmp_path / "src", [IMAGE], [ann(1, cat=12), ann(2, cat=3, bbox=(1, 1, 5, 5))], cats)
    dataset = load_dataset(path)
    assert dataset.names == ["early", "middle", "late"] and dataset.category_ids == [3, 7, 12]
    (im,) = dataset.images()
    assert im.classes.tolist() == [2, 0]
    np.testing.assert_allclose(im.boxes, [[8, 6, 24, 18], [1, 1, 6, 6]])

    default = write_dataset(dataset, tmp_path / "zero", "coco")
    written = json.loads((default / "annotations" / "instances_train.json").read_text())
    assert [c["id"] for c in written["categories"]] == [0, 1, 2]
    assert [a["category_id"] for a in written["annotations"]] == [2, 0]
    kept = write_dataset(dataset, tmp_path / "kept", "coco", WriteOptions(coco_keep_ids=True))
    written = json.loads((kept / "annotations" / "instances_train.json").read_text())
    assert [a["category_id"] for a in written["annotations"]] == [12, 3]
    one = write_dataset(dataset, tmp_path / "one", "coco", WriteOptions(coco_first_id=1))
    assert [c["id"] for c in json.loads((one / "annotations" / "instances_train.json").read_text())["categories"]] \
        == [1, 2, 3]


def test_written_coco_loads_in_pycocotools(tmp_path, yolo_two_images):
    from pycocotools.coco import COCO

    out = write_dataset(load_dataset(yolo_two_images), tmp_path / "coco", "coco")
    coco = COCO(str(out / "annotations" / "instances_train.json"))
    assert len(coco.getImgIds()) == 2 and len(coco.getAnnIds()) == 3
    assert sorted(coco.getCatIds()) == [0, 1]
    box = coco.loadAnns(coco.getAnnIds(imgIds=[1], catIds=[1]))[0]["bbox"]
    np.testing.assert_allclose(box, [8.8, 12.0, 8.0, 4.8])


def test_crowd_annotations_are_ignore_regions(tmp_path):
    path = make_coco(tmp_path, [IMAGE], [ann(1), ann(2, bbox=(30, 20, 10, 10), iscrowd=1)])
    (im,) = load_dataset(path).images()
    assert im.ignore.tolist() == [False, True]
    assert load_dataset(path).num_instances() == 1


def test_keypoints_round_trip(tmp_path):
    cats = [{"id": 1, "name": "p", "keypoints": ["head", "tail"], "skeleton": []}]
    path = make_coco(tmp_path / "src", [IMAGE], [ann(1, cat=1, keypoints=[10, 8, 2, 20, 16, 1])], cats)
    dataset = load_dataset(path)
    assert dataset.kpt_shape == (2, 3)
    np.testing.assert_allclose(dataset.images()[0].keypoints, [[[10, 8, 2], [20, 16, 1]]])
    again = load_dataset(write_dataset(dataset, tmp_path / "out", "coco"))
    np.testing.assert_allclose(again.images()[0].keypoints, dataset.images()[0].keypoints)


def test_images_folder_is_found_or_given(tmp_path):
    path = make_coco(tmp_path, [IMAGE], [ann()])
    (tmp_path / "images" / "train").rename(tmp_path / "pictures")
    with pytest.raises(DataError, match=r"instances_train.json: cannot find image 'x.jpg'.*pass the images folder"):
        load_dataset(path)
    assert len(load_dataset(path, options=ReadOptions(images=tmp_path / "pictures")).images()) == 1


BAD = [
    # (images, annotations, kind, message)
    ([IMAGE], [ann(bbox=(1, 2, 3))], "columns", r"annotation id 1 \('x.jpg'\): 'bbox' must be \[x, y, width, height\]"),
    ([IMAGE], [ann(bbox=(1, 2, "a", 4))], "not_a_number", r"'bbox' holds a non-number"),
    ([IMAGE], [ann(cat=5)], "class_id", r"annotation id 1 \('x.jpg'\): category_id 5 is not in 'categories'"),
    ([IMAGE], [ann(image_id=9)], "reference", r"annotation id 1 refers to image id 9, which is not in 'images'"),
    ([IMAGE], [ann(bbox=(8, 6, 0, 12))], "bad_size", r"annotation id 1 \('x.jpg'\): box has zero or negative size"),
    ([IMAGE], [ann(bbox=(80, 6, 5, 5))], "out_of_range", r"lies outside the 64x48 image"),
    ([IMAGE | {"width": 100}], [ann()], "size_mismatch",
     r"image id 1 \('x.jpg'\) is 64x48 px but the json says 100x48"),
    ([IMAGE, {"id": 2, "file_name": "missing.jpg", "width": 64, "height": 48}], [], "missing_image",
     r"missing.jpg: image not found"),
    ([IMAGE, IMAGE], [], "reference", r"image id 1 appears twice"),
]


@pytest.mark.parametrize("images, annotations, kind, message", BAD, ids=[b[2] for b in BAD])
def test_bad_coco(tmp_path, images, annotations, kind, message):
    good = {"id": 50, "file_name": "good.jpg", "width": 64, "height": 48}
    path = make_coco(tmp_path, images + [good], annotations + [ann(50, image_id=50)])
    with pytest.raises(DataError, match=message):
        load_dataset(path)
    assert kind in [p.kind for p in read_dataset(path).problems]
    with pytest.warns(DataWarning, match=kind):
        dataset = load_dataset(path, skip_bad=True)
    assert "good.jpg" in [im.file.name for im in dataset.images()]


@pytest.mark.parametrize(
    "text, message",
    [
        ('{"images": [}', r"instances_train.json:1: not valid JSON"),
        ('[]', r"not a COCO annotation file \(no 'images' list\)"),
        ('{"images": [], "categories": []}', r"no 'categories' list"),
        ('{"images": [], "categories": [{"name": "a"}]}', r"needs an integer 'id' and a 'name'"),
    ],
)
def test_unusable_coco_file(tmp_path, text, message):
    path = tmp_path / "annotations" / "instances_train.json"
    path.parent.mkdir()
    path.write_text(text)
    with pytest.raises(DataError, match=message):
        load_dataset(path, skip_bad=True)


def test_folder_with_several_splits(tmp_path):
    make_coco(tmp_path, [IMAGE], [ann()])
    (tmp_path / "annotations" / "instances_train.json").rename(tmp_path / "annotations" / "instances_val2017.json")
    (tmp_path / "images" / "train").rename(tmp_path / "images" / "val2017")
    make_coco(tmp_path, [IMAGE], [ann(), ann(2, bbox=(1, 1, 4, 4))])
    dataset = load_dataset(tmp_path)
    assert sorted(dataset.splits) == ["train", "val"] and dataset.num_instances() == 3
    assert list(load_dataset(tmp_path, splits=["val"]).splits) == ["val"]
