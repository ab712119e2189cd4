"""`tinydet predict` end to end: outputs on a folder of images and a video, and one-line errors."""

import json

import cv2
import numpy as np
import pytest

from tinydet.cli import main


@pytest.fixture
def folder(tmp_path):
    rng = np.random.default_rng(0)
    (tmp_path / "src" / "sub").mkdir(parents=True)
    for name, size in (("a.jpg", (300, 200)), ("sub/a.png", (150, 170))):
        cv2.imwrite(str(tmp_path / "src" / name), (rng.random((size[1], size[0], 3)) * 255).astype(np.uint8))
    writer = cv2.VideoWriter(str(tmp_path / "src" / "clip.avi"), cv2.VideoWriter_fourcc(*"MJPG"), 5, (160, 128))
    for _ in range(3):
        writer.write((rng.random((128, 160, 3)) * 255).astype(np.uint8))
    writer.release()
    return tmp_path


def test_sliced_predict_writes_every_output(folder, checkpoint, capsys):
    out = folder / "out"
    code = main(["predict", str(folder / "src"), "--model", str(checkpoint), "--slice", "128", "--overlap", "0.25",
                 "--conf", "0.6", "--merge", "wbf", "--out", str(out), "--save-json", "--save-txt", "--save-img"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "on 5 images" in captured.out
    assert "predict" in captured.err  # the progress bar
    names = sorted(str(p.relative_to(out / "labels")) for p in (out / "labels").rglob("*.txt"))
    assert names == ["a.txt", "clip_000000.txt", "clip_000001.txt", "clip_000002.txt", "sub/a.txt"]
    results = json.loads((out / "predictions.json").read_text())
    assert {r["image_id"] for r in results} <= {"a.jpg", "sub/a.png", "clip_000000", "clip_000001", "clip_000002"}
    assert all(0 <= r["bbox"][0] and r["bbox"][0] + r["bbox"][2] <= 300.01 for r in results)
    assert sorted(p.name for p in (out / "images").rglob("*.jpg")) == ["a.jpg", "a.jpg"]
    assert cv2.VideoCapture(str(out / "videos" / "clip.mp4")).get(cv2.CAP_PROP_FRAME_COUNT) == 3


def test_whole_image_predict(folder, checkpoint, capsys):
    code = main(["predict", str(folder / "src" / "a.jpg"), "--model", str(checkpoint), "--imgsz", "128",
                 "--conf", "0.6", "--out", str(folder / "o"), "--save-txt"])
    assert code == 0, capsys.readouterr().err
    assert (folder / "o" / "labels" / "a.txt").exists()


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--slice", "8"], "slice must be at least 16x16"),
        (["--slice", "big"], "slice must look like 640 or 640x480"),
        (["--slice", "auto"], "--slice auto needs --data"),
        (["--merge", "diou-nms", "--match", "ios", "--slice", "64"], "matches boxes by diou"),
        (["--overlap", "1.5", "--slice", "64"], r"overlap must be in \[0, 1\)"),
        (["--coco-gt", "/nope.json", "--save-json"], "COCO file not found: /nope.json"),
    ],
)
def test_bad_arguments_are_one_line(folder, checkpoint, capsys, extra, message):
    code = main(["predict", str(folder / "src" / "a.jpg"), "--model", str(checkpoint), "--out", str(folder / "o"), *extra])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err.startswith("tinydet predict: error:") and len(err.splitlines()) == 1
    import re

    assert re.search(message, err), err


def test_corrupt_image_is_named(folder, checkpoint, capsys):
    (folder / "src" / "zz.jpg").write_bytes(b"garbage")
    code = main(["predict", str(folder / "src"), "--model", str(checkpoint), "--slice", "128", "--out", str(folder / "o")])
    err = capsys.readouterr().err
    assert code == 2
    assert "zz.jpg: not a readable image" in err.strip().splitlines()[-1]


def test_missing_model(folder, capsys):
    code = main(["predict", str(folder / "src"), "--model", str(folder / "none.pt")])
    assert code == 2 and "model not found" in capsys.readouterr().err
