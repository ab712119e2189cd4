"""`tinydet demo` end to end on a tiny budget: both models trained, evaluated, tabled and drawn; a re-run reuses."""

from __future__ import annotations

import json

import pytest

from tinydet.cli import main


@pytest.mark.slow
def test_demo_writes_the_table_the_json_and_the_picture_and_reuses_finished_runs(tmp_path, capsys):
    out = tmp_path / "demo"
    args = ["demo", "--out", str(out), "--images", "8", "--val-images", "4", "--imgsz", "64", "--epochs", "1",
            "--batch", "4"]
    assert main(args) == 0
    printed = capsys.readouterr().out
    result = json.loads((out / "results.json").read_text())
    assert [row["model"] for row in result["rows"]] == ["yolov8n", "yolov8n-p2"]
    for row in result["rows"]:
        assert {"AP50", "AP", "APs", "APvt"} <= set(row["metrics"]) and row["params_m"] > 0
    table = (out / "results.md").read_text()
    assert "| yolov8n |" in table and "| yolov8n-p2 |" in table and table.strip() in printed
    assert (out / "predictions.jpg").stat().st_size > 0
    assert main(args) == 0
    assert "already trained, reusing" in capsys.readouterr().out


def test_a_demo_folder_made_with_other_options_is_refused(tmp_path, capsys):
    out = tmp_path / "demo"
    out.mkdir()
    (out / "demo_options.json").write_text(json.dumps({"epochs": 99}))
    assert main(["demo", "--out", str(out), "--epochs", "1"]) == 2
    assert "holds a demo made with other options" in capsys.readouterr().err
    (out / "demo_options.json").unlink()
    (out / "something").write_text("x")
    assert main(["demo", "--out", str(out)]) == 2
    assert "holds no demo_options.json" in capsys.readouterr().err
