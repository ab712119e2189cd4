"""Multi-GPU training goes through a script ultralytics generates and runs with torch.distributed.run; the
trainer class, its callbacks and the recipe they carry are pickled into it. On CPU the generated script can
be run as it is (a CPU trainer trains in-process), which checks exactly what a DDP worker would rebuild."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tinydet.train.recipe import Recipe

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_generated_ddp_script_rebuilds_tinydet_trainer_and_recipe(tiny_data, tmp_path):
    from ultralytics.utils import callbacks
    from ultralytics.utils.dist import generate_ddp_file

    from tinydet.integrations.ultralytics.training.criterion import RecipeCallback

    from tinydet.integrations.ultralytics.training.trainer import RecipeDetectionTrainer

    recipe = Recipe(box_loss="nwd", assigner_metric="nwd", small_copy_paste=0.5)
    hooks = callbacks.get_default_callbacks()
    hooks[RecipeCallback.event].append(RecipeCallback(recipe))
    overrides = dict(model="yolov8n.yaml", data=str(tiny_data), epochs=1, imgsz=64, batch=4, device="cpu",
                     project=str(tmp_path), name="ddp", plots=False, workers=0)
    trainer = RecipeDetectionTrainer(overrides=overrides, _callbacks=hooks)
    script = generate_ddp_file(trainer)
    try:
        env = dict(os.environ, PYTHONPATH=str(REPO))
        proc = subprocess.run([sys.executable, script], capture_output=True, text=True, env=env, timeout=600)
    finally:
        Path(script).unlink(missing_ok=True)
        Path(script).with_suffix(".pt").unlink(missing_ok=True)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-3000:]
    assert "tinydet recipe: {'box_loss': 'nwd', 'assigner_metric': 'nwd', 'small_copy_paste': 0.5}" in log
    header = (tmp_path / "ddp" / "results.csv").read_text().splitlines()[0]
    assert "metrics/APs(T)" in header  # tinydet's validator ran in the rebuilt trainer
