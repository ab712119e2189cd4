"""What eval reads from a run folder (tinydet.eval.runs.read_run): the model column of compare and report."""

import yaml

from tinydet.eval.runs import read_run
from tinydet.run_record import RUN_FILE


def run_folder(tmp_path, model, record_model=None):
    run = tmp_path / "p2-seed0"
    (run / "weights").mkdir(parents=True)
    (run / "weights" / "best.pt").write_bytes(b"")
    (run / "args.yaml").write_text(yaml.safe_dump({"model": str(model), "imgsz": 320, "epochs": 3}))
    if record_model is not None:
        (run / RUN_FILE).write_text(yaml.safe_dump({"tinydet": {"model": record_model}}))
    return run


def test_a_fresh_run_names_its_model(tmp_path):
    assert read_run(run_folder(tmp_path, "yolov8n-p2.yaml", "yolov8n-p2")).model == "yolov8n-p2.yaml"


def test_a_resumed_run_names_the_model_it_started_from(tmp_path):
    # ultralytics rewrites args.yaml's model to the run's own last.pt when it resumes
    run = run_folder(tmp_path, tmp_path / "p2-seed0" / "weights" / "last.pt", "yolov8n-p2")
    assert read_run(run).model == "yolov8n-p2"


def test_a_resumed_run_without_a_record_is_named_by_its_folder(tmp_path):
    run = run_folder(tmp_path, tmp_path / "p2-seed0" / "weights" / "last.pt")
    assert read_run(run).model == "p2-seed0"
