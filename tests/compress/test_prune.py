"""Channel pruning: exact when the removed channels are zero, smaller, runnable, saved, reloaded, exported, and
kept pruned through fine-tuning."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from zoo_helpers import perturb_
from tinydet.compress.prune import find_groups, prune_model
from tinydet.errors import TinydetError

REPO = Path(__file__).resolve().parents[2]


def _model(cfg: str = "yolov8n.yaml", nc: int = 2, seed: int = 0):
    """A stock config with spread-out weights and BN statistics (an untrained model's outputs hide mistakes)."""
    from tinydet.integrations.ultralytics.builder import build_model

    model = perturb_(build_model(cfg, nc=nc), seed)
    g = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):  # distinct gammas, so the BN criterion has an order to find
                m.weight.uniform_(0.5, 1.5, generator=g)
                m.bias.uniform_(-0.5, 0.5, generator=g)
    return model.eval()


def _outputs(model, x):
    with torch.no_grad():
        return model(x)[0]


def _zero_channels(model, beta_too: bool) -> tuple[int, int, dict]:
    """Zero gamma (and beta) of the last 3 channels of every 4th prunable group; returns (zeroed, prunable, where)."""
    groups = find_groups(model)
    where = {}
    with torch.no_grad():
        for g in groups[::4]:
            idx = torch.arange(g.channels - 3, g.channels)
            g.producer.bn.weight[idx] = 0
            if beta_too:
                g.producer.bn.bias[idx] = 0
            where[g.name] = g.channels - 3
    return 3 * len(where), sum(g.channels for g in groups), where


def test_removing_zeroed_channels_keeps_outputs_identical():
    model = _model()
    x = torch.rand(2, 3, 96, 96)
    zeroed, prunable, where = _zero_channels(model, beta_too=True)
    before = _outputs(model, x)
    report = prune_model(model, zeroed / prunable + 1e-9, "bn", min_channels=1, round_to=1)
    assert report.removed == zeroed
    assert {k: v[1] for k, v in report.groups.items() if k in where} == where  # the zeroed ones went
    torch.testing.assert_close(_outputs(model, x), before, rtol=1e-4, atol=1e-4)


def test_the_exactness_check_can_fail():
    """With beta left, a removed channel still carried SiLU(beta): outputs change, so the test above means something."""
    model = _model()
    x = torch.rand(2, 3, 96, 96)
    zeroed, prunable, _ = _zero_channels(model, beta_too=False)
    before = _outputs(model, x)
    prune_model(model, zeroed / prunable + 1e-9, "bn", min_channels=1, round_to=1)
    assert (_outputs(model, x) - before).abs().max() > 1e-2


@pytest.mark.parametrize("cfg", ["yolov8n.yaml", "yolo11n.yaml", "yolo26n.yaml", "yolov8n-p2.yaml"])
@pytest.mark.parametrize("criterion", ["bn", "l1"])
def test_pruning_makes_models_smaller_and_they_still_run(cfg, criterion):
    from tinydet.integrations.ultralytics.builder import gflops

    model = _model(cfg)
    n0, f0 = sum(p.numel() for p in model.parameters()), gflops(model, 128)
    report = prune_model(model, 0.4, criterion, min_channels=8, round_to=8)
    n1, f1 = sum(p.numel() for p in model.parameters()), gflops(model, 128)
    assert report.removed > 0 and n1 < 0.85 * n0 and f1 < f0
    assert all(after >= min(8, before) and (after % 8 == 0 or after == before)
               for before, after in report.groups.values())
    out = _outputs(model, torch.rand(1, 3, 64, 64))
    assert torch.isfinite(out).all()
    model.train()
    model(torch.rand(2, 3, 64, 64))  # the training forward (BN in batch mode) works too


def test_ratio_zero_changes_nothing():
    model = _model()
    x = torch.rand(1, 3, 64, 64)
    before, n0 = _outputs(model, x), sum(p.numel() for p in model.parameters())
    report = prune_model(model, 0.0, "l1", min_channels=8, round_to=1)
    assert report.removed == 0 and sum(p.numel() for p in model.parameters()) == n0
    torch.testing.assert_close(_outputs(model, x), before)


@pytest.mark.parametrize("argv, message", [
    (["--ratio", "1.0"], "--ratio must be in [0, 1)"),
    (["--ratio", "0.3", "--min-channels", "0"], "--min-channels"),
    (["--ratio", "0.3", "--same-out"], "must differ from --model"),
])
def test_bad_prune_options_are_one_line_errors(argv, message, tmp_path, capsys):
    from tests.export.conftest import make_checkpoint

    from tinydet.cli import main

    ckpt = make_checkpoint("yolov8n", tmp_path / "m.pt")
    out = ckpt if "--same-out" in argv else tmp_path / "p.pt"
    argv = [a for a in argv if a != "--same-out"]
    assert main(["prune", "--model", str(ckpt), "--out", str(out), *argv]) == 2
    assert message in capsys.readouterr().err
    with pytest.raises(TinydetError, match="not found"):
        from tinydet.compress.checkpoint import prune_checkpoint

        prune_checkpoint(tmp_path / "missing.pt", tmp_path / "x.pt")


RELOAD = """
import sys
import tinydet
from ultralytics import YOLO
m = YOLO(sys.argv[1])
r = m.predict(sys.argv[2], imgsz=64, conf=0.001, verbose=False)
print("RESULT", m.model.model[0].conv.out_channels, m.model.model[2].m[0].cv1.conv.out_channels, len(r))
"""


def test_pruned_checkpoint_reloads_in_a_fresh_process_and_exports(tmp_path, capsys):
    from tests.export.conftest import make_checkpoint

    from tinydet.cli import main
    from tinydet.export import ExportSpec, export_model
    from tinydet.integrations.ultralytics.checkpoints import load_detection_checkpoint

    ckpt = make_checkpoint("yolov8n", tmp_path / "m.pt")
    pruned = tmp_path / "pruned.pt"
    assert main(["prune", "--model", str(ckpt), "--out", str(pruned), "--ratio", "0.5", "--criterion", "l1",
                 "--imgsz", "64"]) == 0
    table = capsys.readouterr().out
    assert "| original |" in table and "| pruned |" in table
    model = load_detection_checkpoint(pruned)
    c0, c2 = model.model[0].conv.out_channels, model.model[2].m[0].cv1.conv.out_channels
    assert c0 < 16 or c2 < 16  # yolov8n: 16 each before pruning
    image = tmp_path / "im.png"
    import numpy as np
    from PIL import Image

    Image.fromarray((np.random.default_rng(0).random((64, 64, 3)) * 255).astype("uint8")).save(image)
    proc = subprocess.run([sys.executable, "-c", RELOAD, str(pruned), str(image)], capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=str(REPO)), timeout=300)
    assert f"RESULT {c0} {c2} 1" in proc.stdout, proc.stderr[-3000:]
    report = export_model(pruned, ExportSpec(format="onnx", imgsz=64), tmp_path / "pruned.onnx", parity_images=2)
    assert report.artifact.path.is_file() and not report.parity.failures


@pytest.mark.slow
def test_fine_tuning_keeps_the_pruned_channels(tiny_data, tmp_path):
    from tests.export.conftest import make_checkpoint

    from tinydet.compress.checkpoint import PruneOptions, prune_checkpoint
    from tinydet.integrations.ultralytics.checkpoints import load_detection_checkpoint
    from tinydet.train.api import TrainOptions, train

    ckpt = make_checkpoint("yolov8n", tmp_path / "m.pt", nc=4)  # tiny_data has 4 classes
    pruned = prune_checkpoint(ckpt, tmp_path / "pruned.pt", PruneOptions(ratio=0.5, imgsz=64)).path

    def widths(path):
        model = load_detection_checkpoint(path)
        return [m.weight.shape for m in model.modules() if isinstance(m, torch.nn.Conv2d)]

    result = train(TrainOptions(data=str(tiny_data), model=str(pruned), epochs=1, imgsz=64, batch=4,
                                out=str(tmp_path / "ft"), workers=0, overrides={"plots": False}))
    assert widths(result.best) == widths(pruned)
    assert widths(result.best) != widths(ckpt)
