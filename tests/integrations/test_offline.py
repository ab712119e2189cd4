"""`import tinydet` makes ultralytics work with no network at all.

A fresh interpreter makes every socket connection and DNS lookup fail (and records the attempt) before
anything is imported, then runs synth, a tiny train, val, predict, eval, analyze, convert, slice, compare and
report through the CLI, and a --resume of the finished run (refused with exit 2). It must pass, and no
connection may even be attempted.
"""

import json
import os
import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent(
    """
    import json, os, socket, sys
    attempts = []

    def refuse(kind):
        def _refuse(*args, **kwargs):
            attempts.append(f"{kind} {args[1:] if kind == 'connect' else args[:1]}")
            raise OSError("network disabled by tinydet's offline test")
        return _refuse

    socket.socket.connect = refuse("connect")
    socket.socket.connect_ex = refuse("connect")
    socket.create_connection = refuse("create_connection")
    socket.getaddrinfo = refuse("getaddrinfo")
    socket.gethostbyname = refuse("gethostbyname")

    from tinydet.cli import main
    work = sys.argv[1]
    steps = [
        ["synth", f"{work}/data", "--images", "8", "--val-images", "2", "--size", "128"],
        ["train", "--data", f"{work}/data/data.yaml", "--model", "yolov8n", "--epochs", "1", "--imgsz", "128",
         "--batch", "4", "--out", f"{work}/run", "--set", "plots=true"],
        ["val", "--model", f"{work}/run/weights/best.pt", "--data", f"{work}/data/data.yaml", "--imgsz", "128"],
        ["predict", f"{work}/data/images/val", "--model", f"{work}/run/weights/best.pt", "--imgsz", "128",
         "--conf", "0.0001", "--out", f"{work}/pred", "--save-txt", "--save-json", "--save-img"],
        ["eval", "--gt", f"{work}/data/data.yaml", "--pred", f"{work}/pred/labels"],
        ["analyze", f"{work}/data/data.yaml"],
        ["convert", f"{work}/data/data.yaml", f"{work}/coco", "--to", "coco"],
        ["slice", f"{work}/data/data.yaml", f"{work}/tiles", "--size", "64", "--overlap", "0.2"],
        ["compare", f"{work}/run"],
        ["report", f"{work}/run", "--out", f"{work}/report.html"],
    ]
    codes = [main(step) for step in steps]
    os.chdir(work)
    codes.append(main(["train", "--resume", "run"]))  # finished, and named relatively: a clear error, no coco8

    print("RESULT " + json.dumps({"codes": codes, "attempts": attempts}))
    """
)


@pytest.mark.slow
def test_synth_train_val_predict_without_network(tmp_path):
    env = dict(os.environ, YOLO_CONFIG_DIR=str(tmp_path / "config"))  # a fresh settings dir: no cached font
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path)], capture_output=True, text=True, env=env, timeout=600
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    assert proc.returncode == 0 and lines, proc.stdout[-3000:] + proc.stderr[-3000:]
    result = json.loads(lines[-1][len("RESULT ") :])
    assert result["codes"] == [0] * 10 + [2]
    assert "finished training" in proc.stderr and "--model" in proc.stderr, proc.stderr[-2000:]
    assert result["attempts"] == [], f"network was attempted: {result['attempts'][:5]}"
    assert (tmp_path / "run" / "weights" / "best.pt").is_file()
    assert (tmp_path / "pred" / "predictions.json").is_file()
    assert len(list((tmp_path / "pred" / "labels").glob("*.txt"))) == 2
    assert (tmp_path / "config" / "Arial.ttf").is_file() or (tmp_path / "config" / "Ultralytics" / "Arial.ttf").is_file()
