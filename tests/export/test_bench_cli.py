"""`tinydet bench`: a table with one row per model x backend, and JSON with the documented keys. Speed itself
is never asserted."""

from __future__ import annotations

import json

from tests.export.conftest import IMGSZ

ROW_KEYS = {"model", "backend", "imgsz", "images", "runs", "preprocess_ms", "inference_ms", "postprocess_ms",
            "total_ms", "images_per_s"}


def test_bench_prints_a_table_and_writes_json(p2_checkpoint, tmp_path, capsys):
    from tinydet.cli import main

    out = tmp_path / "sub" / "bench.json"
    code = main(["bench", "--model", str(p2_checkpoint), "--backends", "torch,onnxruntime", "--imgsz", str(IMGSZ),
                 "--runs", "2", "--warmup", "1", "--images", "2", "--json", str(out)])
    assert code == 0
    lines = capsys.readouterr().out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("model"))
    assert lines[header].split()[:2] == ["model", "backend"] and "img/s" in lines[header]
    rows = lines[header + 2: header + 4]
    assert [r.split()[:2] for r in rows] == [["p2.pt", "torch"], ["p2.pt", "onnxruntime"]]
    doc = json.loads(out.read_text())
    assert {"device", "threads", "rows"} <= set(doc)
    assert [r["backend"] for r in doc["rows"]] == ["torch", "onnxruntime"]
    for row in doc["rows"]:
        assert set(row) == ROW_KEYS
        assert row["runs"] == 2 and row["images"] == 2 and row["imgsz"] == IMGSZ
        assert row["total_ms"] >= row["inference_ms"] > 0
        assert abs(row["images_per_s"] - 1000 / row["total_ms"]) < 1e-6
    assert list(out.parent.glob(".*")) == []  # written atomically, no temporary left


def test_bench_rejects_unknown_backend_and_missing_model(p2_checkpoint, tmp_path, capsys):
    from tinydet.cli import main

    assert main(["bench", "--model", str(p2_checkpoint), "--backends", "torch,tensorrt"]) == 2
    assert "unknown backend(s) tensorrt" in capsys.readouterr().err
    assert main(["bench", "--model", str(tmp_path / "x.pt")]) == 2
    assert "model not found" in capsys.readouterr().err


def test_time_predictor_medians_are_per_image():
    from tinydet.export.bench import time_predictor
    from tinydet.infer.sliced import Timing

    class Fake:
        timing = Timing()
        calls = 0

        def __call__(self, image):
            Fake.calls += 1
            self.timing = Timing(read=0.001, prepare=0.001, forward=0.010 * Fake.calls, decode=0.002)

    latency = time_predictor(Fake(), [None] * 3, runs=1, warmup=1)  # timed calls 4, 5, 6
    assert Fake.calls == 6
    assert abs(latency.inference_ms - 50.0) < 1e-9 and abs(latency.preprocess_ms - 2.0) < 1e-9
    assert abs(latency.postprocess_ms - 2.0) < 1e-9 and abs(latency.total_ms - 54.0) < 1e-9
