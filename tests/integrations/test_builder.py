"""tinydet's data-driven builder against ultralytics' own parse_model, and the errors a YAML author sees."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from tinydet.errors import TinydetError
from tinydet.integrations.ultralytics import builder as integration

REPO = Path(__file__).resolve().parents[2]


def _stock(name: str) -> dict:
    from ultralytics.nn.tasks import yaml_model_load

    return yaml_model_load(f"{name}.yaml")


def _signature(layers: torch.nn.Sequential, save: list[int]) -> dict:
    head = layers[-1]
    return {
        "layers": [(type(m), m.i, m.f, m.type, m.np) for m in layers],
        "state": {k: tuple(v.shape) for k, v in layers.state_dict().items()},
        "params": sum(p.numel() for p in layers.parameters()),
        "save": save,
        "legacy": getattr(head, "legacy", None),  # class state the builders set; it changes the head's layout
    }


@pytest.mark.parametrize(
    "name",
    ["yolov8n", "yolov8n-p2", "yolo11n", "yolo26n", "yolo26n-p2", "yolov8n-pose", "yolov8n-seg", "yolo11n-pose",
     "yolo11n-seg", "yolo26n-pose", "yolo26n-seg", "yolo11m", "yolov8s-p2"],
)
def test_build_layers_matches_ultralytics_parse_model(name):
    d = _stock(name)
    theirs = _signature(*integration.ultralytics_parse_model(copy.deepcopy(d), 3, verbose=False))
    ours = _signature(*integration.build_layers(copy.deepcopy(d), 3, verbose=False))
    assert ours == theirs


def _nop5_with(bad_row: list) -> dict:
    """yolov8n-p2-nop5 (layers 0-24, Detect from 18, 21, 24) plus a CBAM row (25, so that tinydet's builder runs)
    and `bad_row` (26) before its Detect."""
    from ultralytics.nn.tasks import yaml_model_load

    from tinydet.models.zoo import zoo

    d = yaml_model_load(zoo()["yolov8n-p2-nop5"].model_path)
    d["head"][-1:-1] = [[24, 1, "CBAM", []], bad_row]
    return d


@pytest.mark.parametrize(
    "bad_row, error, message",
    [
        ([-1, 1, "NoSuchBlock", [64]], integration.UltralyticsAssumptionError, "unknown module 'NoSuchBlock'"),
        ([-1, 1, "C3", [64]], integration.UltralyticsAssumptionError, "no channel rule for 'C3'.*BiFusion"),
        ([[2, 4], 1, "BiFusion", [64]], integration.ModelConfigError, "layer 26 .*BiFusion.*takes 3 inputs"),
        ([[2, 4, 11], 6, "BiFusion", [64]], integration.ModelConfigError, "layer 26 .*cannot be repeated"),
        ([[2, 4, 11], 1, "ASFF", [64, 5]], integration.ModelConfigError, "layer 26 .*level"),
    ],
)
def test_bad_rows_fail_with_a_message_naming_the_row(bad_row, error, message):
    with pytest.raises(error, match=message) as info:
        integration.build_layers(_nop5_with(bad_row), 3, verbose=False)
    assert isinstance(info.value, TinydetError)


def test_stock_yamls_still_go_to_ultralytics(monkeypatch):
    calls = []
    monkeypatch.setattr(integration, "build_layers", lambda *a, **k: calls.append(a))
    monkeypatch.setattr(integration, "_ORIGINAL_PARSE_MODEL", lambda d, ch, verbose=True: ("stock", d["nc"]))
    assert integration.parse_model(_stock("yolov8n"), 3) == ("stock", 80)
    assert calls == []


def test_a_missing_ultralytics_building_block_is_reported_clearly():
    script = textwrap.dedent(
        """
        import ultralytics.nn.modules as modules
        del modules.CBAM  # as if ultralytics had dropped it
        try:
            import tinydet
        except Exception as e:
            print(type(e).__name__, e)
        """
    )
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "UltralyticsAssumptionError" in proc.stdout and "CBAM" in proc.stdout and "8.4.190" in proc.stdout
