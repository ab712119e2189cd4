"""Box -> centre-keypoint pose datasets (`tinydet convert --to pose`, `to_pose_dataset`)."""

from pathlib import Path

import numpy as np
import pytest
import yaml
from datahelpers import checksums, make_yolo, write_image
from PIL import Image

from tinydet.data import load_dataset, to_pose_dataset
from tinydet.data.datayaml import IMAGE_SUFFIXES
from tinydet.data.pose import centre_keypoints
from tinydet.errors import DataError, TinydetError
from tinydet.integrations.ultralytics.env import label_cache_file


def test_centre_keypoints():
    np.testing.assert_allclose(centre_keypoints(np.array([[0, 0, 10, 4], [2, 2, 3, 3]])),
                               [[[5, 2, 2]], [[2.5, 2.5, 2]]])
    assert centre_keypoints(np.zeros((0, 4))).shape == (0, 1, 3)


def test_pose_labels_and_data_yaml(tmp_path, yolo_two_images):
    before = checksums(yolo_two_images.parent)
    out = to_pose_dataset(yolo_two_images, tmp_path / "pose")
    assert out == (tmp_path / "pose" / "data.yaml").absolute()
    assert (tmp_path / "pose" / "labels" / "train" / "x.txt").read_text() == (
        "0 0.500000 0.500000 0.250000 0.250000 0.500000 0.500000 2\n"
        "1 0.200000 0.300000 0.125000 0.100000 0.200000 0.300000 2\n")
    cfg = yaml.safe_load(out.read_text())
    assert cfg["kpt_shape"] == [1, 3] and cfg["flip_idx"] == [0]
    assert cfg["names"] == {0: "a", 1: "b"} and cfg["train"] == "images/train"
    assert checksums(yolo_two_images.parent) == before
    pose = load_dataset(out)
    assert pose.kpt_shape == (1, 3) and pose.num_instances() == 3


def test_every_ultralytics_image_extension_and_empty_label_files(tmp_path):
    """Each suffix Pillow can write here, in upper and lower case; empty and missing label files."""
    writable = {".bmp": "BMP", ".dng": "TIFF", ".jpeg": "JPEG", ".jpg": "JPEG", ".mpo": "JPEG", ".png": "PNG",
                ".tif": "TIFF", ".tiff": "TIFF", ".webp": "WEBP", ".avif": "AVIF", ".jp2": "JPEG2000"}
    assert set(writable) == IMAGE_SUFFIXES - {".heic", ".heif"}  # no HEIF encoder without pi-heif
    root = tmp_path / "src"
    names = [f"im{i}{s.upper() if i % 2 else s}" for i, s in enumerate(sorted(writable))]
    empty, unlabelled = names[0], names[1]  # an empty label file; no label file at all
    (root / "labels" / "train").mkdir(parents=True)
    for i, name in enumerate(names):
        write_image(root / "images" / "train" / name, (40, 30), seed=i, fmt=writable[Path(name).suffix.lower()])
        if name != unlabelled:
            text = "" if name == empty else "0 0.5 0.5 0.5 0.5\n"
            (root / "labels" / "train" / (name.rsplit(".", 1)[0] + ".txt")).write_text(text)
    (root / "data.yaml").write_text("train: images/train\nval: images/train\nnames: [a]\n")
    before = checksums(root)
    with pytest.warns(UserWarning, match="missing_labels"):
        out = to_pose_dataset(root / "data.yaml", tmp_path / "pose")
    assert checksums(root) == before
    written = sorted(p.name for p in (out.parent / "images" / "train").iterdir())
    assert written == sorted(names)
    for name in names:
        text = (out.parent / "labels" / "train" / (name.rsplit(".", 1)[0] + ".txt")).read_text()
        assert text == ("" if name in (empty, unlabelled) else
                        "0 0.500000 0.500000 0.500000 0.500000 0.500000 0.500000 2\n")
        assert Image.open(out.parent / "images" / "train" / name).size == (40, 30)


def test_heic_without_a_decoder_is_a_clear_error(tmp_path):
    data = make_yolo(tmp_path / "src", {"x.jpg": ""})
    (tmp_path / "src" / "images" / "train" / "y.heic").write_bytes(b"\0\0\0\x18ftypheic" + b"\0" * 64)
    with pytest.raises(DataError, match=r"y.heic: cannot read image .*needs the pi-heif package"):
        to_pose_dataset(data, tmp_path / "pose")
    assert not (tmp_path / "pose").exists()


def test_refuses_pose_input_and_existing_output(tmp_path, yolo_two_images):
    out = to_pose_dataset(yolo_two_images, tmp_path / "pose")
    with pytest.raises(TinydetError, match="already has keypoints"):
        to_pose_dataset(out, tmp_path / "again")
    with pytest.raises(TinydetError, match="exists and is not empty"):
        to_pose_dataset(yolo_two_images, tmp_path / "pose")


@pytest.mark.slow
def test_ultralytics_trains_on_the_pose_dataset(tmp_path, tiny_data):
    """ultralytics' pose trainer reads every converted label (1 epoch, 64 px; its label cache counts them)."""
    from ultralytics import YOLO

    out = to_pose_dataset(tiny_data, tmp_path / "pose")
    model = YOLO("yolov8n-pose.yaml")
    model.train(data=str(out), epochs=1, imgsz=64, batch=4, workers=0, plots=False, val=False,
                project=str(tmp_path / "runs"), name="p", verbose=False)
    assert model.model.yaml["kpt_shape"] == [1, 3]
    cache = np.load(label_cache_file(out.parent / "labels" / "train.cache"), allow_pickle=True).item()
    found, missing, empty, corrupt, total = cache["results"]
    assert (found, corrupt, total) == (12, 0, 12)
