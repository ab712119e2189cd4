"""Sources (files, folders, globs, videos), outputs (txt, COCO JSON with ids from a ground truth, drawings,
videos) and `--slice auto`."""

import json

import cv2
import numpy as np
import pytest

from tinydet import Detections, TinydetError
from tinydet.infer import auto
from tinydet.infer.images import ArrayReader
from tinydet.infer.output_names import DRAWN_MARK
from tinydet.infer.outputs import CocoIds, PredictionWriter, class_colour, draw, line_width, yolo_txt
from tinydet.infer.sources import frame_count, frames, list_sources, source_root


def write_video(path, n=5, size=(64, 48)):
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, size)
    for k in range(n):
        frame = np.zeros((size[1], size[0], 3), np.uint8)
        frame[10:20, 5 + 5 * k : 15 + 5 * k] = (0, 0, 255)
        writer.write(frame)
    writer.release()


def test_listing(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / ".hidden").mkdir()
    for name in ("b.jpg", "sub/a.png", "sub/notes.txt", ".hidden/x.jpg"):
        (tmp_path / name).write_bytes(b"x")
    write_video(tmp_path / "clip.avi")
    assert [p.name for p in list_sources(tmp_path)] == ["b.jpg", "clip.avi", "a.png"]
    assert [p.name for p in list_sources(f"{tmp_path}/**/*.png")] == ["a.png"]
    assert list_sources(tmp_path / "b.jpg") == [tmp_path / "b.jpg"]
    assert source_root(tmp_path, list_sources(tmp_path)) == tmp_path
    assert source_root(f"{tmp_path}/*", [tmp_path / "b.jpg", tmp_path / "sub" / "a.png"]) == tmp_path


def test_listing_skips_drawn_outputs_below_the_source(tmp_path):
    for name in ("a.jpg", "runs/predict/images/a.jpg", f"runs/predict/images/{DRAWN_MARK}"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"x")
    assert list_sources(tmp_path) == [tmp_path / "a.jpg"]
    drawn = tmp_path / "runs" / "predict" / "images"
    assert list_sources(drawn) == [drawn / "a.jpg"]  # named on purpose: listed


@pytest.mark.parametrize("source, message", [("missing", "source not found"), ("sub/notes.txt", "neither an image nor a video"),
                                             ("empty", "no images or videos found")])
def test_listing_errors(tmp_path, source, message):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "notes.txt").write_text("x")
    (tmp_path / "empty").mkdir()
    with pytest.raises(TinydetError, match=message):
        list_sources(tmp_path / source)


def test_video_frames_one_at_a_time(tmp_path):
    write_video(tmp_path / "clip.avi", n=5)
    assert frame_count(tmp_path / "clip.avi") == 5
    got = list(frames(tmp_path / "clip.avi"))
    assert [f.name for f in got] == [f"clip_{k:06d}" for k in range(5)]
    assert got[2].pixels.shape == (48, 64, 3) and got[2].index == 2


def test_unreadable_video(tmp_path):
    (tmp_path / "bad.mp4").write_bytes(b"not a video")
    with pytest.raises(TinydetError, match="bad.mp4: cannot open video|bad.mp4: no frame"):
        list(frames(tmp_path / "bad.mp4"))


def dets():
    return Detections(np.array([[10, 20, 30, 60], [0, 0, 5, 5]], np.float32), np.array([0.9, 0.3]), np.array([1, 0]))


def test_yolo_txt_round_trip():
    text = yolo_txt(dets(), 100, 200)
    assert text.splitlines()[0] == "1 0.200000 0.200000 0.200000 0.200000 0.90000"


def coco_gt(tmp_path, names=("cat", "dog")):
    gt = {"images": [{"id": 7, "file_name": "val/a.jpg"}, {"id": 9, "file_name": "val/b.jpg"}],
          "categories": [{"id": 11 + k, "name": n} for k, n in enumerate(names)]}
    (tmp_path / "gt.json").write_text(json.dumps(gt))
    return tmp_path / "gt.json"


def test_drawn_boxes_are_coloured_by_class_and_thicker_on_large_images():
    assert [line_width(h, w) for h, w in ((480, 640), (3000, 4000), (100, 5000))] == [1, 6, 8]
    colours = [class_colour(c) for c in range(12)]
    assert len(set(colours)) == 12 and all(max(bgr) >= 200 for bgr in colours)  # distinct and bright
    dets = Detections(np.array([[100.0, 100, 300, 300], [500, 500, 900, 900]]), np.array([0.9, 0.8]), np.array([0, 1]))
    drawn = draw(np.zeros((3000, 4000, 3), np.uint8), dets, ["a", "b"])
    column = drawn[150:250, 95:106]  # across the left edge of box 0, away from its label
    assert (np.abs(column.astype(int) - class_colour(0)).sum(axis=2) < 30).any(axis=0).sum() >= 5  # >= 5 px wide
    assert tuple(drawn[700, 500]) == class_colour(1)  # box 1 in its own colour
    red = draw(np.zeros((1000, 1000, 3), np.uint8), dets, ["a", "b"], colour=(0, 0, 255))  # one colour for all
    assert red[..., :2].max() == 0 and red[150:250, 98:103, 2].max() > 200 and red[700, 498:503, 2].max() > 200


def test_coco_ids_by_path_name_and_category_name(tmp_path):
    ids = CocoIds(coco_gt(tmp_path, ("Dog", "cat")), {0: "cat", 1: "dog"})
    assert ids.category_ids == [12, 11]
    assert ids.image_id("val/a.jpg") == 7 and ids.image_id("b.jpg") == 9
    with pytest.raises(TinydetError, match="c.jpg is not an image of .*gt.json"):
        ids.image_id("c.jpg")
    with pytest.raises(TinydetError, match="no category named 'bird'"):
        CocoIds(coco_gt(tmp_path), {0: "cat", 1: "bird"})
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(TinydetError, match="bad.json: not a COCO ground-truth file"):
        CocoIds(tmp_path / "bad.json", {0: "cat"})


def test_writer_outputs_are_complete_and_atomic(tmp_path):
    out = tmp_path / "out"
    writer = PredictionWriter(out, {0: "cat", 1: "dog"}, True, True, True, coco_gt(tmp_path))
    reader = ArrayReader(np.zeros((200, 100, 3), np.uint8))
    writer.add("val/a.jpg", dets(), reader)
    writer.add("val/b.jpg", Detections.empty(), reader)
    assert not (out / "predictions.json").exists()  # written once, at the end
    writer.close()
    results = json.loads((out / "predictions.json").read_text())
    assert [r["image_id"] for r in results] == [7, 7] and [r["category_id"] for r in results] == [12, 11]
    assert results[0]["bbox"] == [10.0, 20.0, 20.0, 40.0]
    assert (out / "labels" / "val" / "a.txt").read_text().count("\n") == 2
    assert (out / "labels" / "val" / "b.txt").read_text() == ""
    assert cv2.imread(str(out / "images" / "val" / "a.jpg")).shape == (200, 100, 3)
    leftovers = [p for p in out.rglob(".*") if p.name != DRAWN_MARK]
    assert leftovers == [] and (out / "images" / "val" / DRAWN_MARK).is_file()


def test_writer_draws_video_frames_into_one_video(tmp_path):
    writer = PredictionWriter(tmp_path, {0: "cat", 1: "dog"}, False, True, True)
    reader = ArrayReader(np.zeros((48, 64, 3), np.uint8))
    for k in range(4):
        writer.add(f"clip_{k:06d}", dets(), reader, video=("clip.avi", 10.0))
    writer.close()
    assert frame_count(tmp_path / "videos" / "clip.mp4") == 4
    assert {r["image_id"] for r in json.loads((tmp_path / "predictions.json").read_text())} == {f"clip_{k:06d}" for k in range(4)}
    assert [p.name for p in (tmp_path / "videos").glob(".*")] == [DRAWN_MARK]


def test_slice_auto_reads_the_recommendations(monkeypatch):
    import types

    calls = []
    recommendations = types.SimpleNamespace(slice="512x384", overlap=0.25)
    monkeypatch.setattr(auto, "analyze", lambda dataset, imgsz: calls.append((dataset, imgsz))
                        or types.SimpleNamespace(recommendations=recommendations))
    monkeypatch.setattr(auto, "load_dataset", lambda path, skip_bad: f"dataset at {path}, {skip_bad}")
    assert auto.auto_slice("d.yaml", 800) == ((512, 384), 0.25)
    assert calls == [("dataset at d.yaml, True", 800)]
    recommendations.slice = None
    assert auto.auto_slice("d.yaml", 800) == (None, 0.25)


def test_slice_auto_warns_about_a_bad_label_line_and_goes_on(tiny_data, tmp_path):
    import shutil

    from tinydet.data.validate import DataWarning

    data = tmp_path / "data"
    shutil.copytree(tiny_data.parent, data)
    label = sorted((data / "labels" / "train").glob("*.txt"))[0]
    label.write_text(label.read_text() + "7 0.5 0.5 0.1 0.1\n")
    with pytest.warns(DataWarning, match=f"{label.name}:"):
        size, overlap = auto.auto_slice(data / "data.yaml", 640)
    assert 0 <= overlap <= 0.9 and (size is None or min(size) >= 16)


@pytest.mark.parametrize("value, expected", [(640, (640, 640)), ("512", (512, 512)), ("640x480", (640, 480)),
                                             ((320, 256), (320, 256)), (None, None)])
def test_parse_slice(value, expected):
    assert auto.parse_slice(value) == expected


@pytest.mark.parametrize("value", ["big", "0", "1x2x3"])
def test_parse_slice_errors(value):
    with pytest.raises(TinydetError, match="slice must look like"):
        auto.parse_slice(value)
