"""Validation of YOLO datasets: every bad input gives its message with file and line; --skip-bad skips just it."""

import re
import warnings

import numpy as np
import pytest
from datahelpers import make_yolo, write_image

from tinydet.data import DataWarning, load_dataset, read_dataset
from tinydet.data.formats.yolo import parse_label_file, read_yolo
from tinydet.errors import DataError

GOOD = "0 0.5 0.5 0.25 0.25\n"

BAD_LINES = [
    # (bad line, kind, message)
    ("0 0.5 0.5 0.1", "columns", r"expected 5 columns \(class cx cy w h\), found 4"),
    ("0 0.5 0.5 0.1 0.1 0.93", "columns", r"found 6 \(a 6th column looks like a confidence"),
    ("0 0.5 abc 0.1 0.1", "not_a_number", r"'abc' is not a number"),
    ("0 0.5 nan 0.1 0.1", "not_a_number", r"non-finite value"),
    ("x 0.5 0.5 0.1 0.1", "not_a_number", r"'x' is not a number"),
    ("0 1.5 0.5 0.1 0.1", "out_of_range", r"cx \(column 2\) = 1.5 is outside \[0, 1\]"),
    ("0 0.5 -0.2 0.1 0.1", "out_of_range", r"cy \(column 3\) = -0.2 is outside \[0, 1\]"),
    ("0 0.5 0.5 1.7 0.1", "out_of_range", r"w \(column 4\) = 1.7 is outside"),
    ("0 0.5 0.5 0 0.1", "bad_size", r"zero or negative size \(0 x 4.8 px\)"),
    ("0 0.5 0.5 0.1 -0.005", "bad_size", r"zero or negative size"),
    ("7 0.5 0.5 0.1 0.1", "class_id", r"class id 7 is not in names \(valid: 0-1\)"),
    ("1.5 0.5 0.5 0.1 0.1", "class_id", r"class id must be a non-negative integer, got 1.5"),
    ("-1 0.5 0.5 0.1 0.1", "class_id", r"class id must be a non-negative integer, got -1"),
    ("0 1.005 0.5 0.001 0.1", "out_of_range", r"lies outside the 64x48 image"),
]


@pytest.mark.parametrize("line, kind, message", BAD_LINES, ids=[f"{k}-{i}" for i, (_, k, _) in enumerate(BAD_LINES)])
def test_bad_line_is_fatal_with_file_and_line(tmp_path, line, kind, message):
    data = make_yolo(tmp_path, {"x.jpg": GOOD + line + "\n"})
    with pytest.raises(DataError, match=message) as info:
        load_dataset(data)
    assert info.value.file.endswith("x.txt") and info.value.line == 2
    assert re.match(r".*x\.txt:2: ", str(info.value))
    dataset = read_dataset(data)
    assert [p.kind for p in dataset.problems] == [kind]


@pytest.mark.parametrize("line, kind, message", BAD_LINES[:3])
def test_skip_bad_warns_and_keeps_the_good_lines(tmp_path, line, kind, message):
    data = make_yolo(tmp_path, {"x.jpg": GOOD + line + "\n" + GOOD.replace("0.5 0.5", "0.3 0.3")})
    with pytest.warns(DataWarning, match=f"1 x {kind} \\[skipped\\]: .*x.txt:2: .*{message}"):
        dataset = load_dataset(data, skip_bad=True)
    (im,) = dataset.images()
    assert len(im) == 2
    np.testing.assert_allclose(im.boxes[0], [24, 18, 40, 30])


def test_polygon_rows_read_as_boxes_and_mixing_is_an_error(tmp_path):
    data = make_yolo(tmp_path / "ok", {"x.jpg": "1 0.25 0.25 0.75 0.25 0.5 0.75\n"})
    (im,) = load_dataset(data).images()
    np.testing.assert_allclose(im.boxes, [[16, 12, 48, 36]])
    bad = make_yolo(tmp_path / "bad", {"x.jpg": "1 0.25 0.25 0.75 0.25 0.5 0.75\n" + GOOD})
    with pytest.raises(DataError, match=r"x.txt:2: box row \(5 columns\) in a file of polygon rows"):
        load_dataset(bad)


def test_pose_rows_need_their_keypoint_columns(tmp_path):
    data = make_yolo(tmp_path, {"x.jpg": "0 0.5 0.5 0.2 0.2 0.5 0.5 2\n0 0.5 0.5 0.2 0.2 0.5 0.5\n"},
                     extra_yaml="kpt_shape: [1, 3]\nflip_idx: [0]\n")
    with pytest.raises(DataError, match=r"x.txt:2: expected 8 columns \(class cx cy w h \+ 1 keypoints x 3\)"):
        load_dataset(data)
    with pytest.warns(DataWarning, match="columns"):
        (im,) = load_dataset(data, skip_bad=True).images()
    np.testing.assert_allclose(im.keypoints, [[[32, 24, 2]]])


def test_bad_kpt_shape_in_data_yaml(tmp_path):
    data = make_yolo(tmp_path, {"x.jpg": GOOD}, extra_yaml="kpt_shape: [1, 4]\n")
    with pytest.raises(DataError, match=r"data.yaml: 'kpt_shape' must be \[number of keypoints, 2 or 3\]"):
        load_dataset(data)


def test_duplicates_removed_and_edge_boxes_clipped_with_warnings(tmp_path):
    data = make_yolo(tmp_path, {"x.jpg": GOOD + GOOD + "1 0.99 0.5 0.04 0.1\n"})
    with pytest.warns(DataWarning) as record:
        (im,) = load_dataset(data).images()
    text = " ".join(str(w.message) for w in record)
    assert "duplicate [worked around]: " in text and "x.txt:2: duplicate of an earlier box" in text
    assert "clipped [worked around]" in text and "x.txt:3: box" in text
    assert len(im) == 2
    np.testing.assert_allclose(im.boxes[1], [62.08, 21.6, 64, 26.4])


def test_missing_image_in_list_file_is_fatal_and_skippable(tmp_path):
    data = make_yolo(tmp_path, {"x.jpg": GOOD})
    (tmp_path / "list.txt").write_text("./images/train/x.jpg\n./images/train/gone.jpg\n")
    (tmp_path / "data.yaml").write_text("train: list.txt\nnames: [a, b]\n")
    with pytest.raises(DataError, match=r"list.txt:2: image not found: .*gone.jpg") as info:
        load_dataset(data)
    assert info.value.file.endswith("list.txt") and info.value.line == 2
    with pytest.warns(DataWarning, match="missing_image"):
        assert len(load_dataset(data, skip_bad=True).images()) == 1


@pytest.mark.parametrize(
    "content, message",
    [
        (b"not an image at all", r"bad.jpg: cannot read image"),
        ("truncate", r"bad.jpg: cannot read image \(truncated JPEG"),
        ("tiny", r"bad.jpg: image is 8x8 px; ultralytics needs at least 10 px a side"),
    ],
)
def test_corrupt_images(tmp_path, content, message):
    data = make_yolo(tmp_path, {"x.jpg": GOOD, "bad.jpg": GOOD})
    bad = tmp_path / "images" / "train" / "bad.jpg"
    if content == "truncate":
        bad.write_bytes(bad.read_bytes()[: len(bad.read_bytes()) // 2])
    elif content == "tiny":
        write_image(bad, (8, 8))
    else:
        bad.write_bytes(content)
    with pytest.raises(DataError, match=message):
        load_dataset(data)
    with pytest.warns(DataWarning, match="corrupt_image"):
        dataset = load_dataset(data, skip_bad=True)
    assert [im.file.name for im in dataset.images()] == ["x.jpg"]


def test_unidentifiable_images_are_reported_once_each_without_a_plugin_install_check(tmp_path):
    """ultralytics' Image.open logs a pi-heif requirements WARNING on every file Pillow cannot identify; the
    dataset check must not (run in a fresh interpreter: ultralytics' log handler writes past pytest's capture)."""
    import subprocess
    import sys

    data = make_yolo(tmp_path, {"x.jpg": GOOD, "a.jpg": GOOD, "b.png": GOOD})
    for name in ("a.jpg", "b.png"):
        (tmp_path / "images" / "train" / name).write_bytes(b"not an image at all")
    script = ("import warnings; from tinydet.data.loading import load_dataset\n"
              "with warnings.catch_warnings(record=True) as caught:\n"
              "    warnings.simplefilter('always')\n"
              f"    load_dataset({str(data)!r}, skip_bad=True)\n"
              "print('|'.join(str(w.message) for w in caught))\n")
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "2 x corrupt_image [skipped]: " in run.stdout and "cannot read image (not an image Pillow can identify)" \
        in run.stdout
    assert "pi-heif" not in run.stdout + run.stderr and "requirement" not in run.stdout + run.stderr


def test_jpeg_with_data_after_end_marker_is_a_warning(tmp_path):
    data = make_yolo(tmp_path, {"x.jpg": GOOD})
    image = tmp_path / "images" / "train" / "x.jpg"
    image.write_bytes(image.read_bytes() + b"trailing bytes")
    with pytest.warns(DataWarning, match=r"jpeg_end \[worked around\].*does not end with an end-of-image marker"):
        assert len(load_dataset(data).images()) == 1


def test_decode_option_reads_every_pixel(tmp_path):
    data = make_yolo(tmp_path, {"x.png": GOOD})
    image = tmp_path / "images" / "train" / "x.png"
    raw = bytearray(image.read_bytes())
    raw[-40:-20] = b"\0" * 20  # damage the compressed data (and its CRC) near the end
    image.write_bytes(bytes(raw))
    from tinydet.data import ReadOptions

    with pytest.raises(DataError, match="x.png: cannot read image"):
        load_dataset(data, options=ReadOptions(decode=True))


def test_missing_label_file_is_background_with_a_warning_and_orphans_are_reported(tmp_path):
    data = make_yolo(tmp_path, {"x.jpg": GOOD, "y.jpg": None})
    (tmp_path / "labels" / "train" / "ghost.txt").write_text(GOOD)
    with pytest.warns(DataWarning) as record:
        dataset = load_dataset(data)
    kinds = {p.kind for p in dataset.problems}
    assert kinds == {"missing_labels", "orphan_label"}
    assert any("ghost.txt: label file without an image" in str(w.message) for w in record)
    assert [len(im) for im in dataset.images()] == [1, 0]


def test_label_file_that_is_not_text(tmp_path):
    data = make_yolo(tmp_path, {"x.jpg": GOOD})
    (tmp_path / "labels" / "train" / "x.txt").write_bytes(b"\xff\xfe\x00\x81binary")
    with pytest.raises(DataError, match="x.txt: not a UTF-8 text file"):
        load_dataset(data)


def test_error_counts_the_other_problems(tmp_path):
    data = make_yolo(tmp_path, {"x.jpg": "0 0.5\n9 0.5 0.5 0.1 0.1\n0 2 0.5 0.1 0.1\n"})
    with pytest.raises(DataError, match=r"x.txt:1: .*\(and 2 more problems: 1 x class_id, 1 x out_of_range\)"):
        load_dataset(data)
    assert len(read_dataset(data).problems) == 3


def test_legacy_functions_still_raise_on_the_first_bad_line(tmp_path):
    data = make_yolo(tmp_path, {"x.jpg": GOOD + "0 0.5\n"})
    with pytest.raises(DataError, match=r"x.txt:2: expected 5 columns"):
        read_yolo(data)
    with pytest.raises(DataError, match=r"x.txt:2: expected 5 columns"):
        parse_label_file(tmp_path / "labels" / "train" / "x.txt", 64, 48)
    boxes, classes, kps = parse_label_file(tmp_path / "labels" / "train" / "missing.txt", 64, 48)
    assert boxes.shape == (0, 4) and kps is None


def test_warnings_are_silent_for_a_clean_dataset(yolo_two_images):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        dataset = load_dataset(yolo_two_images)
    assert dataset.problems == [] and dataset.num_instances() == 3


@pytest.mark.parametrize("line, extra, message", [
    ("0 0.5 0.5 0.2 0.2 1.5 0.5 2", "kpt_shape: [1, 3]\n", r"keypoint 1 x \(column 6\) = 1.5 is outside \[0, 1\]"),
    ("0 0.5 0.5 0.2 0.2 0.5 0.5 2 0.1 -0.3 1", "kpt_shape: [2, 3]\n", r"keypoint 2 y \(column 10\) = -0.3"),
    ("0 0.5 0.5 0.2 0.2 0.5 0.5 0.2 7", "kpt_shape: [2, 2]\n", r"keypoint 2 y \(column 9\) = 7"),
    ("1 0.25 0.25 1.3 0.25 0.5 0.75", "", r"polygon x2 \(column 4\) = 1.3 is outside"),
])
def test_out_of_range_names_the_column(tmp_path, line, extra, message):
    data = make_yolo(tmp_path, {"x.jpg": line + "\n"}, extra_yaml=extra)
    with pytest.raises(DataError, match=r"x.txt:1: " + message):
        load_dataset(data)


def test_exif_rotated_images_use_the_rotated_size(tmp_path):
    """A 64x48 JPEG with EXIF orientation 6 (rotate 90) is 48x64 for ultralytics; labels normalise by that."""
    from PIL import Image

    from tinydet.data.images import load_pixels

    data = make_yolo(tmp_path, {"x.jpg": "0 0.5 0.25 0.5 0.25\n"})
    image = tmp_path / "images" / "train" / "x.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.open(image).save(image, exif=exif.tobytes())
    (im,) = load_dataset(data).images()
    assert (im.width, im.height) == (48, 64)
    np.testing.assert_allclose(im.boxes, [[12, 8, 36, 24]])
    assert load_pixels(image).shape[:2] == (64, 48)
