"""A model naming every tinydet module trains one epoch, and its checkpoint loads and predicts in a fresh process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]

# Every registered module once: SPDConv, C2fCBAM (seed and paper CBAM), C3k2CBAM, CBAM, BiFusion, ASFF.
ALL_MODULES_YAML = """
nc: 80
scales:
  n: [0.33, 0.25, 1024]
backbone:
  - [-1, 1, Conv, [64, 3, 2]] # 0-P1/2
  - [-1, 1, SPDConv, [128]] # 1-P2/4
  - [-1, 1, C2fCBAM, [128, True]] # 2
  - [-1, 1, SPDConv, [256]] # 3-P3/8
  - [-1, 1, C3k2CBAM, [256, False, 0.25, False, 1, True, paper]] # 4
  - [-1, 1, DeformConv, [512, 3, 2]] # 5-P4/16
  - [-1, 1, C2fCBAM, [512, True, 1, 0.5, paper]] # 6
  - [-1, 1, Conv, [512, 3, 2]] # 7-P5/32
  - [-1, 1, SPPF, [512, 5]] # 8
  - [-1, 1, CBAM, [7, paper]] # 9
head:
  - [[4, 6, 9], 1, BiFusion, [256]] # 10 at P4
  - [-1, 1, C2fDCN, [256]] # 11
  - [[2, 4, 11], 1, BiFusion, [128]] # 12 at P3
  - [-1, 1, C2f, [128]] # 13
  - [[13, 11, 9], 1, ASFF, [128, 0]] # 14 P3
  - [[13, 11, 9], 1, ASFF, [256, 1]] # 15 P4
  - [[14, 15], 1, Detect, [nc]]
"""

RELOAD = textwrap.dedent(
    """
    import json, sys
    import tinydet
    from tinydet.nn import MODULES
    from ultralytics import YOLO
    model = YOLO(sys.argv[1])
    used = sorted({type(m).__name__ for m in model.model.modules()} & set(MODULES))
    results = model.predict(sys.argv[2], imgsz=64, conf=0.0001, verbose=False)
    print("RESULT " + json.dumps({"used": used, "images": len(results), "task": model.task}))
    """
)

# Plain ultralytics, no `import tinydet`: unpickling the checkpoint imports tinydet's module classes itself.
RELOAD_WITHOUT_IMPORT = textwrap.dedent(
    """
    import sys
    from ultralytics import YOLO
    model = YOLO(sys.argv[1])
    print("RESULT", "tinydet" in sys.modules, type(model.model.model[10]).__name__)
    """
)


def _run(script: str, *args: str) -> str:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, env=env, timeout=300)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    assert proc.returncode == 0 and lines, proc.stdout[-2000:] + proc.stderr[-3000:]
    return lines[-1][len("RESULT ") :]


@pytest.mark.slow
def test_every_module_trains_and_its_checkpoint_predicts_in_a_fresh_process(tiny_data, tmp_path):
    from tinydet.nn import MODULES
    from tinydet.train.api import TrainOptions, train

    cfg = tmp_path / "yolov8n-allmodules.yaml"
    cfg.write_text(ALL_MODULES_YAML)
    rows = yaml.safe_load(ALL_MODULES_YAML)
    assert set(MODULES) <= {row[2] for row in rows["backbone"] + rows["head"]}, "add new modules to ALL_MODULES_YAML"

    result = train(TrainOptions(data=str(tiny_data), model=str(cfg), epochs=1, imgsz=64, batch=4,
                                out=str(tmp_path / "run"), workers=0, overrides={"plots": False}))
    assert result.best.is_file()

    images = str(Path(tiny_data).parent / "images" / "val")
    reloaded = json.loads(_run(RELOAD, str(result.best), images))
    assert reloaded == {"used": sorted(MODULES), "images": 4, "task": "detect"}
    assert _run(RELOAD_WITHOUT_IMPORT, str(result.best)) == "True BiFusion"
