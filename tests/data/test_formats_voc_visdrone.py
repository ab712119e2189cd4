"""Pascal VOC and VisDrone-DET: reading conventions, their options, bad-input tables."""

import numpy as np
import pytest
from datahelpers import make_visdrone, make_voc, voc_object

from tinydet.data import DataWarning, load_dataset, read_dataset, write_dataset
from tinydet.data.formats import detect_format
from tinydet.data.options import ReadOptions
from tinydet.errors import DataError, TinydetError


# ------------------------------------------------------------------------------------------------------------------
# VOC
# ------------------------------------------------------------------------------------------------------------------
def test_voc_coordinates_are_one_based_and_write_back_identically(tmp_path):
    root = make_voc(tmp_path / "voc", {"0001": voc_object("cat", (1, 1, 64, 48)) + voc_object("dog", (11, 11, 30, 20))})
    assert detect_format(root) == "voc"
    dataset = load_dataset(root)
    assert dataset.names == ["cat", "dog"]  # sorted names when there is no labels.txt
    np.testing.assert_allclose(dataset.images()[0].boxes, [[0, 0, 64, 48], [10, 10, 30, 20]])
    out = write_dataset(dataset, tmp_path / "out", "voc")
    text = (out / "Annotations" / "0001.xml").read_text()
    assert "<xmin>1</xmin>" in text and "<xmax>64</xmax>" in text and "<xmin>11</xmin>" in text
    assert (out / "labels.txt").read_text() == "cat\ndog\n"
    again = load_dataset(out)
    np.testing.assert_allclose(again.images()[0].boxes, dataset.images()[0].boxes)


def test_voc_image_sets_define_splits_and_names_option_sets_order(tmp_path):
    root = make_voc(tmp_path, {"a": voc_object("x"), "b": voc_object("y")})
    (root / "ImageSets" / "Main").mkdir(parents=True)
    (root / "ImageSets" / "Main" / "train.txt").write_text("a\n")
    (root / "ImageSets" / "Main" / "val.txt").write_text("b\n")
    dataset = load_dataset(root, options=ReadOptions(names=("y", "x")))
    assert {s: [im.file.stem for im in ims] for s, ims in dataset.splits.items()} == {"train": ["a"], "val": ["b"]}
    assert dataset.images("train")[0].classes.tolist() == [1]


@pytest.mark.parametrize("option, ignore, count", [("keep", [False, False], 2), ("ignore", [False, True], 2),
                                                   ("drop", [False], 1)])
def test_voc_difficult_option(tmp_path, option, ignore, count):
    root = make_voc(tmp_path, {"a": voc_object("x") + voc_object("x", (2, 2, 9, 9), difficult=1)})
    (im,) = load_dataset(root, options=ReadOptions(voc_difficult=option)).images()
    assert len(im) == count and im.ignore.tolist() == ignore


VOC_BAD = [
    (voc_object("zebra"), "class_id", r"a.xml:11: class name 'zebra' is not in names \(x\)"),
    (voc_object("x", (11, "abc", 30, 20)), "not_a_number", r"a.xml:12: 'abc' in <bndbox> is not a number"),
    ("<object><name>x</name></object>\n", "columns", r"a.xml:11: object needs <bndbox>"),
    (voc_object("x", (30, 11, 11, 20)), "bad_size", r"a.xml:11: box has zero or negative size"),
    (voc_object("x", (100, 11, 130, 20)), "out_of_range", r"a.xml:11: box .* lies outside the 64x48 image"),
]


@pytest.mark.parametrize("body, kind, message", VOC_BAD, ids=[b[1] for b in VOC_BAD])
def test_bad_voc(tmp_path, body, kind, message):
    root = make_voc(tmp_path, {"a": voc_object("x", (2, 2, 8, 8)) + body})
    with pytest.raises(DataError, match=message):
        load_dataset(root, options=ReadOptions(names=("x",)))
    with pytest.warns(DataWarning, match=kind):
        (im,) = load_dataset(root, skip_bad=True, options=ReadOptions(names=("x",))).images()
    assert len(im) == 1


def test_voc_broken_xml_size_mismatch_and_missing_annotation(tmp_path):
    root = make_voc(tmp_path, {"a": voc_object("x"), "b": voc_object("x"), "c": voc_object("x")})
    (root / "Annotations" / "a.xml").write_text("<annotation>\n<object>\n</annotation>\n")
    xml_b = root / "Annotations" / "b.xml"
    xml_b.write_text(xml_b.read_text().replace("<width>64</width>", "<width>640</width>"))
    (root / "ImageSets" / "Main").mkdir(parents=True)
    (root / "ImageSets" / "Main" / "train.txt").write_text("a\nb\nc\nd\n")
    problems = {p.kind: str(p) for p in read_dataset(root).problems}
    assert problems.keys() == {"bad_file", "size_mismatch", "missing_labels_file"}
    assert problems["bad_file"].endswith("a.xml:3: not valid XML (mismatched tag)")
    assert "b.xml:3: <size> says 640x48 px but the image is 64x48 px" in problems["size_mismatch"]
    assert "d.xml: annotation file for id 'd' not found" in problems["missing_labels_file"]
    with pytest.warns(DataWarning):
        assert [im.file.stem for im in load_dataset(root, skip_bad=True).images()] == ["c"]


# ------------------------------------------------------------------------------------------------------------------
# VisDrone
# ------------------------------------------------------------------------------------------------------------------
VISDRONE_TEXT = (
    "10,5,8,6,1,4,0,0\n"     # car -> class 3
    "30,20,10,10,0,0,0,0\n"  # ignored region
    "40,30,5,5,1,11,0,1\n"   # others
    "2,2,6,6,0,1,0,0\n"      # pedestrian with score 0 -> ignore region of its class
)


@pytest.mark.parametrize(
    "ignored, others, classes, ignore, nc",
    [
        ("ignore", "ignore", [3, -1, -1, 0], [False, True, True, True], 10),
        ("drop", "ignore", [3, -1, 0], [False, True, True], 10),
        ("ignore", "drop", [3, -1, 0], [False, True, True], 10),
        ("drop", "class", [3, 10, 0], [False, False, True], 11),
    ],
)
def test_visdrone_category_options(tmp_path, ignored, others, classes, ignore, nc):
    root = make_visdrone(tmp_path / "VisDrone2019-DET-val", {"0001": VISDRONE_TEXT})
    assert detect_format(root) == "visdrone"
    dataset = load_dataset(root, options=ReadOptions(visdrone_ignored=ignored, visdrone_others=others))
    assert list(dataset.splits) == ["val"] and dataset.nc == nc
    (im,) = dataset.images()
    assert im.classes.tolist() == classes and im.ignore.tolist() == ignore
    np.testing.assert_allclose(im.boxes[0], [10, 5, 18, 11])


def test_visdrone_round_trip_and_ignore_regions_into_coco(tmp_path):
    import json

    root = make_visdrone(tmp_path / "src" / "VisDrone2019-DET-train", {"0001": VISDRONE_TEXT})
    dataset = load_dataset(tmp_path / "src")
    again = load_dataset(write_dataset(dataset, tmp_path / "vd", "visdrone"))
    (a,), (b,) = dataset.images(), again.images()
    assert a.classes.tolist() == b.classes.tolist() and a.ignore.tolist() == b.ignore.tolist()
    np.testing.assert_allclose(a.boxes, b.boxes)
    coco = write_dataset(dataset, tmp_path / "coco", "coco")
    anns = json.loads((coco / "annotations" / "instances_train.json").read_text())["annotations"]
    crowd = [x for x in anns if x["iscrowd"]]
    # 2 regions for every class (ignored region, others) x 10 categories + 1 pedestrian region
    assert len(crowd) == 21 and len(anns) == 22
    assert root.exists()


VISDRONE_BAD = [
    ("10,5,8,6,1,4,0\n", "columns", r"0001.txt:2: expected 8 comma-separated columns"),
    ("10,5,x,6,1,4,0,0\n", "not_a_number", r"0001.txt:2: 'x' is not a number"),
    ("10,5,8,6,1,12,0,0\n", "class_id", r"0001.txt:2: object_category 12 is not a category"),
    ("10,5,0,6,1,4,0,0\n", "bad_size", r"0001.txt:2: box has zero or negative size"),
]


@pytest.mark.parametrize("line, kind, message", VISDRONE_BAD, ids=[b[1] for b in VISDRONE_BAD])
def test_bad_visdrone(tmp_path, line, kind, message):
    root = make_visdrone(tmp_path / "train", {"0001": "1,1,5,5,1,1,0,0\n" + line})
    with pytest.raises(DataError, match=message):
        load_dataset(root)
    with pytest.warns(DataWarning, match=kind):
        assert len(load_dataset(root, skip_bad=True).images()[0]) == 1


def test_trailing_comma_lines_are_accepted(tmp_path):
    root = make_visdrone(tmp_path / "train", {"0001": "1,1,5,5,1,1,0,0,\n"})
    assert load_dataset(root).num_instances() == 1


def test_bad_option_values():
    with pytest.raises(TinydetError, match="visdrone_others must be one of ignore, drop, class"):
        ReadOptions(visdrone_others="keep")


@pytest.mark.parametrize("make, message", [
    (lambda p: p.mkdir(), r"cannot tell the dataset format of this folder; pass --from"),
    (lambda p: (p / "images").mkdir(parents=True) or (p / "labels").mkdir(), r"YOLO layout without a data.yaml"),
    (lambda p: None, r"dataset not found"),
])
def test_format_detection_errors(tmp_path, make, message):
    make(tmp_path / "d")
    with pytest.raises(DataError, match=message):
        load_dataset(tmp_path / "d")


def test_voc_writer_gives_the_image_depth_and_whole_pixels(tmp_path):
    """Grayscale images are depth 1; sub-pixel boxes are rounded to pixel edges (at least 1 px), with a warning
    that counts them, because VOC readers parse integers."""
    from PIL import Image

    from datahelpers import make_yolo

    data = make_yolo(tmp_path / "src", {"grey.png": "0 0.5 0.5 0.25 0.25\n", "colour.png": "0 0.3 0.3 0.01 0.2\n"})
    Image.open(data.parent / "images" / "train" / "grey.png").convert("L").save(data.parent / "images" / "train" / "grey.png")
    with pytest.warns(DataWarning, match=r"1 box moved to the nearest pixel edge \(by at most 0\.48 px\)"):
        out = write_dataset(load_dataset(data), tmp_path / "voc", "voc")
    grey = (out / "Annotations" / "grey.xml").read_text()
    colour = (out / "Annotations" / "colour.xml").read_text()
    assert "<depth>1</depth>" in grey and "<depth>3</depth>" in colour
    # grey: 64x48 image, box 16 x 12 at the centre -> continuous (24, 18, 40, 30): whole pixels already
    assert "<xmin>25</xmin>" in grey and "<ymin>19</ymin>" in grey and "<xmax>40</xmax>" in grey
    # colour: 0.64 px wide at x 19.2 -> edges 18.88..19.52 round to 19..20 (1 px); y 9.6..19.2 -> 10..19 (0.48 px max)
    assert "<xmin>20</xmin>" in colour and "<xmax>20</xmax>" in colour
    assert "<ymin>11</ymin>" in colour and "<ymax>19</ymax>" in colour
