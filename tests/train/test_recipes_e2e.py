"""Recipes end to end on tiny synthetic data: pose-aux produces a detect checkpoint with every check passed,
and a checkpoint trained with tinydet's losses and augmentations stays loadable by plain ultralytics."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _fresh_python(code: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)


@pytest.mark.slow
def test_pose_aux_end_to_end(tiny_data, tmp_path, capsys):
    import torch
    from ultralytics.nn.tasks import DetectionModel
    from ultralytics.utils.torch_utils import get_flops

    from tinydet.cli import main
    from tinydet.models.zoo import resolve_model

    out = tmp_path / "run"
    code = main(["train", "--data", str(tiny_data), "--model", "yolov8n", "--recipe", "pose-aux", "--epochs", "1",
                 "--imgsz", "64", "--batch", "4", "--out", str(out), "--workers", "0", "--set", "plots=false"])
    printed = capsys.readouterr().out
    assert code == 0
    best_detect = out / "weights" / "best_detect.pt"
    assert f"best checkpoint: {best_detect}" in printed
    assert "pose-aux: 355/355 tensors transferred, max output difference 0" in printed
    assert (out / "pose_data" / "data.yaml").is_file() and "kpt_shape" in (out / "pose_data" / "data.yaml").read_text()
    ckpt = torch.load(best_detect, weights_only=False)
    model = ckpt["model"].float()
    assert type(model) is DetectionModel and model.nc == 4
    reference = DetectionModel(resolve_model("yolov8n"), nc=4, verbose=False)
    assert get_flops(model, 640) == get_flops(reference, 640)  # zero inference overhead
    probe = _fresh_python(
        "import tinydet; from ultralytics import YOLO; "
        f"m = YOLO({str(best_detect)!r}); r = m.predict({str(tiny_data.parent / 'images' / 'val')!r}, imgsz=64, verbose=False); "
        "print('TASK', m.task, len(r))"
    )
    assert "TASK detect 4" in probe.stdout, probe.stderr[-2000:]


@pytest.mark.slow
def test_losses_and_augmentations_keep_checkpoints_stock(tiny_data, tmp_path):
    from tinydet.cli import main

    out = tmp_path / "run"
    code = main(["train", "--data", str(tiny_data), "--model", "yolov8n", "--epochs", "1", "--imgsz", "64",
                 "--batch", "4", "--out", str(out), "--workers", "0", "--box-loss", "nwd-ciou",
                 "--assigner-metric", "nwd", "--cls-loss", "varifocal", "--label-smoothing", "0.05",
                 "--geo-mixup", "0.5", "--small-copy-paste", "0.5", "--random-interp", "--fitness", "APs",
                 "--set", "plots=false"])
    assert code == 0
    header = (out / "results.csv").read_text().splitlines()[0]
    assert "metrics/APs(T)" in header and "metrics/APvt(T)" in header
    recorded = (out / "tinydet_run.yaml").read_text()
    assert "box_loss: nwd-ciou" in recorded and "fitness: APs" in recorded
    # plain ultralytics, without tinydet, loads and runs the checkpoint of a stock architecture
    probe = _fresh_python(
        "import os; os.environ['YOLO_OFFLINE'] = '1'; from ultralytics import YOLO; "
        f"m = YOLO({str(out / 'weights' / 'best.pt')!r}); "
        "import sys; assert 'tinydet' not in sys.modules; "
        f"print('OK', m.task, len(m.predict({str(tiny_data.parent / 'images' / 'val')!r}, imgsz=64, verbose=False)))"
    )
    assert "OK detect 4" in probe.stdout, probe.stderr[-2000:]
