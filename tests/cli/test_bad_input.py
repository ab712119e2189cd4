"""Bad input to the CLI ends in one line naming the problem and exit status 2, before any long work starts; an
error nobody foresaw ends in one line too (exit status 1), with the traceback behind --debug."""

from __future__ import annotations

import pytest

from tinydet.cli import main


@pytest.fixture()
def files(tiny_data, tmp_path):
    (tmp_path / "fake.pt").write_text("x")
    (tmp_path / "fake.yaml").write_text("a: 1\n")
    (tmp_path / "binary").mkdir()
    (tmp_path / "binary" / "train_000000.txt").write_bytes(bytes(range(128, 256)))
    (tmp_path / "empty").mkdir()
    (tmp_path / "a_file").write_text("x")
    return {"data": str(tiny_data), "images": str(tiny_data.parent / "images" / "train"), "tmp": str(tmp_path)}


CASES = [
    ("val --model {tmp}/fake.pt --data {data}", "fake.pt: not a PyTorch checkpoint"),
    ("train --data {data} --model {tmp}/fake.yaml --out {tmp}/r", "fake.yaml: not a model config"),
    ("train --data {data} --model {data} --out {tmp}/r", "data.yaml: not a model config"),
    ("train --data {data} --model yolov8n --device cuda:7 --out {tmp}/r", "CUDA GPU"),
    ("train --data {data} --model yolov8n --set mosaic=abc --out {tmp}/r", "--set: 'mosaic=abc' is of invalid type"),
    ("analyze {data} --anchors 0", "--anchors must be at least 1"),
    ("analyze {data} --json {data}", "would replace the input"),
    ("analyze {data} --plots {images}", "holds images"),
    ("analyze {data} --plots {tmp}/a_file", "is a file; give a folder"),
    ("val --model {tmp}/fake.pt --data {data} --json {tmp}/a_file", "exists and is not a .json file"),
    ("eval --gt {data} --pred {tmp}/binary --split train", "train_000000.txt: not a text file"),
    ("eval --gt {data} --pred {tmp}/empty", "empty: no .txt prediction files"),
    ("compare {tmp} --out {tmp}", "is a folder"),
    ("report {tmp} --out {data}", "exists and is not a .html/.htm file"),
    ("tune --data {data} --out {tmp}/a_file --trials 1", "is a file; tune needs a folder"),
    ("synth {tmp}/s --density -1", "--density must be a number of objects per megapixel >= 0"),
    ("demo --epochs 0 --out {tmp}/d", "--epochs must be at least 1"),
]


@pytest.mark.parametrize("command, message", CASES, ids=[c.split()[0] + ":" + m[:24] for c, m in CASES])
def test_bad_input_is_one_clear_line(files, command, message, capsys):
    code = main(command.format(**files).split())
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and message in err, err


def test_an_unforeseen_error_is_one_line_and_debug_shows_the_traceback(files, monkeypatch, capsys):
    import tinydet.cli.commands.val as val

    def broken(args):
        raise ValueError("deep\ninside")

    monkeypatch.setattr(val, "run", broken)
    args = ["val", "--model", "m.pt", "--data", files["data"]]
    assert main(args) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("tinydet val: error: ValueError: deep inside (unexpected: ") and "--debug" in err
    with pytest.raises(ValueError, match="deep"):
        main(["--debug", *args])


def test_data_warnings_during_train_are_one_line_each(tiny_data, tmp_path, capsys):
    """--skip-bad warnings name file and line in the CLI's own form, without Python's source-line echo."""
    import shutil

    data = tmp_path / "data"
    shutil.copytree(tiny_data.parent, data)
    label = sorted((data / "labels" / "train").glob("*.txt"))[0]
    label.write_text(label.read_text() + "7 0.5 0.5 0.1 0.1\n")
    code = main(["train", "--data", str(data / "data.yaml"), "--skip-bad", "--model", "yolov8n", "--epochs", "1",
                 "--imgsz", "64", "--batch", "4", "--workers", "0", "--set", "plots=false", "--out",
                 str(tmp_path / "run")])
    assert code == 0
    lines = [line for line in capsys.readouterr().err.splitlines() if "class id 7" in line]
    assert len(lines) == 1, lines
    assert lines[0].startswith("tinydet train: warning: 1 x class_id [skipped]: ") and f"{label.name}:" in lines[0]
    assert "DataWarning" not in lines[0]
