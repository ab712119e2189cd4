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
        (["--overlap", "1.5", "--slice", "64"], r"overlap must be in \[0, 0.9\]"),
        (["--overlap", "0.3"], "--overlap applies to sliced prediction"),
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
    assert "zz.jpg: not a readable image (corrupt or unsupported format); stopped (--skip-bad warns and goes on)" in err.strip().splitlines()[-1]


def test_missing_model(folder, capsys):
    code = main(["predict", str(folder / "src"), "--model", str(folder / "none.pt")])
    assert code == 2 and "model not found" in capsys.readouterr().err


def _checksums(root):
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_a_second_run_into_the_same_out_stops_unless_exist_ok(folder, checkpoint, capsys):
    args = ["predict", str(folder / "src" / "a.jpg"), "--model", str(checkpoint), "--imgsz", "128", "--conf", "0.6",
            "--out", str(folder / "o"), "--save-txt", "--save-json"]
    assert main(args) == 0
    first = _checksums(folder / "o")
    (folder / "o" / "labels" / "a.txt").write_text("mine\n")
    capsys.readouterr()
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "a.txt and 1 more already exist" in err and "--exist-ok" in err, err
    assert (folder / "o" / "labels" / "a.txt").read_text() == "mine\n"
    assert main([*args, "--exist-ok"]) == 0
    assert _checksums(folder / "o") == first


def test_outputs_never_replace_a_source_image(tmp_path, checkpoint, capsys):
    dataset = tmp_path / "ds"
    (dataset / "images").mkdir(parents=True)
    (dataset / "labels").mkdir()
    cv2.imwrite(str(dataset / "images" / "x.jpg"), np.full((64, 64, 3), 90, np.uint8))
    (dataset / "labels" / "x.txt").write_text("0 0.5 0.5 0.2 0.2\n")
    before = _checksums(dataset)
    for extra in ([], ["--exist-ok"]):
        code = main(["predict", str(dataset / "images"), "--model", str(checkpoint), "--imgsz", "64", "--out", str(dataset),
                     "--save-img", "--save-txt", *extra])
        err = capsys.readouterr().err
        assert code == 2 and "would replace the source image" in err and "x.jpg" in err, err
    assert _checksums(dataset) == before


@pytest.mark.parametrize("inside", [".", "preds"])
def test_out_inside_the_source_folder_is_refused(tmp_path, checkpoint, capsys, inside):
    images = tmp_path / "ds" / "images" / "val"
    images.mkdir(parents=True)
    cv2.imwrite(str(images / "x.jpg"), np.full((64, 64, 3), 90, np.uint8))
    before = _checksums(tmp_path / "ds")
    code = main(["predict", str(images), "--model", str(checkpoint), "--imgsz", "64", "--out", str(images / inside),
                 "--save-img", "--save-txt"])
    err = capsys.readouterr().err
    assert code == 2 and "is inside the source folder" in err and str(images) in err, err
    assert _checksums(tmp_path / "ds") == before


def test_equal_stems_in_one_folder_stop_before_predicting(folder, checkpoint, capsys):
    cv2.imwrite(str(folder / "src" / "a.png"), np.zeros((32, 32, 3), np.uint8))
    code = main(["predict", str(folder / "src"), "--model", str(checkpoint), "--out", str(folder / "o"), "--save-txt"])
    err = capsys.readouterr().err
    assert code == 2 and "a.jpg and a.png would both write" in err and "labels/a.txt" in err, err
    assert not (folder / "o").exists()
    # without outputs that collide (only the JSON, keyed by the full name) the same folder is fine
    assert main(["predict", str(folder / "src"), "--model", str(checkpoint), "--slice", "128", "--conf", "0.9",
                 "--out", str(folder / "o"), "--save-json"]) == 0


def test_skip_bad_goes_on_past_an_unreadable_image(folder, checkpoint, capsys):
    (folder / "src" / "b.jpg").write_bytes(b"garbage")
    code = main(["predict", str(folder / "src"), "--model", str(checkpoint), "--slice", "128", "--conf", "0.6",
                 "--out", str(folder / "o"), "--save-json", "--save-txt", "--skip-bad"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "b.jpg: not a readable image (corrupt or unsupported format); skipped" in captured.err
    assert "on 5 images" in captured.out  # a.jpg, sub/a.png and 3 frames
    assert (folder / "o" / "predictions.json").is_file() and (folder / "o" / "labels" / "sub" / "a.txt").is_file()


def test_default_out_is_a_new_folder_each_run(folder, checkpoint, capsys, monkeypatch):
    monkeypatch.chdir(folder)
    args = ["predict", str(folder / "src" / "a.jpg"), "--model", str(checkpoint), "--imgsz", "64", "--save-txt"]
    assert main(args) == 0 and main(args) == 0
    out = capsys.readouterr().out
    assert "written to runs/predict;" not in out
    assert (folder / "runs" / "predict" / "labels" / "a.txt").is_file()
    assert (folder / "runs" / "predict2" / "labels" / "a.txt").is_file()


def test_earlier_outputs_inside_a_later_source_are_not_predicted(folder, checkpoint, capsys):
    common = ["--model", str(checkpoint), "--slice", "128", "--conf", "0.9", "--save-img"]
    assert main(["predict", str(folder / "src"), *common, "--out", str(folder / "o")]) == 0
    assert main(["predict", str(folder), *common, "--out", str(folder.parent / "o2")]) == 0
    out = capsys.readouterr().out
    assert out.count("on 5 images") == 2, out  # the second run skips o/images/*.jpg, drawn by the first


def test_default_out_inside_the_source_is_refused(folder, checkpoint, capsys, monkeypatch):
    monkeypatch.chdir(folder / "src")
    code = main(["predict", ".", "--model", str(checkpoint), "--save-img"])
    err = capsys.readouterr().err
    assert code == 2 and "--out runs/predict (the default) is inside the source folder ." in err, err
    assert not (folder / "src" / "runs").exists()
