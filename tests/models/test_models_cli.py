"""`tinydet models`: table and JSON, built numbers, errors."""

from __future__ import annotations

import json
from pathlib import Path

from tinydet.cli import main


def test_models_json_lists_the_ladder_with_built_numbers(capsys):
    code = main(["models", "--json", "--task", "detect", "--filter", "yolov8n-p2-nop5", "--nc", "10"])
    assert code == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert list(rows) == [
        "yolov8n-p2-nop5", "yolov8n-p2-nop5-bifusion", "yolov8n-p2-nop5-bifusion-cbam",
        "yolov8n-p2-nop5-bifusion-cbam-paper",
    ]
    for row in rows.values():
        assert Path(row["yaml"]).is_file() and row["task"] == "detect" and row["strides"] == [4, 8, 16]
        assert row["gflops"] > 5 and row["nc"] == 10 and row["imgsz"] == 640
    assert rows["yolov8n-p2-nop5"]["params"] == 1_382_782
    assert rows["yolov8n-p2-nop5-bifusion"]["params"] == 1_442_142


def test_models_table(capsys):
    assert main(["models", "--filter", "yolo11n-p2-cbam"]) == 0
    out = capsys.readouterr().out
    assert "yolo11n-p2-cbam-pose" in out and "pose" in out and "4,8,16,32" in out and "3 models" in out


def test_models_errors_are_one_line(capsys):
    assert main(["models", "--filter", "no-such-model"]) == 2
    assert "no zoo model matches" in capsys.readouterr().err
