"""Sliced validation picks best.pt (`tinydet train --val-slice`): options, results.csv columns, which checkpoint
becomes best.pt, and that the recorded numbers are what `tinydet val --slice` computes on the checkpoint.

Training runs use 128x128 synthetic images, imgsz 64 and 64 px validation tiles (36 tiles per image with 0.2
overlap), 3 epochs: a few seconds each."""

from __future__ import annotations

import csv
import json
import math

import pytest
import torch

from tinydet.cli import main
from tinydet.errors import TinydetError
from tinydet.train.recipe import Recipe
from tinydet.train.sliced_val import FITNESS_COLUMN, SlicedValSettings, fitness_of

# nbs=4: an optimizer step every batch (ultralytics accumulates to 64 images otherwise, and 3 batches an epoch
# would leave the weights unchanged); save_period=1: weights/epochN.pt of every epoch, to find best.pt among them


def _flags(epochs: int = 3) -> list[str]:
    return ["--model", "yolov8n", "--epochs", str(epochs), "--imgsz", "64", "--batch", "4", "--workers", "0",
            "--set", "plots=false", "--set", "warmup_epochs=0", "--set", "save_period=1", "--set", "nbs=4"]


@pytest.mark.parametrize(
    "options, message",
    [
        ({"val_overlap": 0.3}, "val_overlap: only used by sliced validation; add val_slice"),
        ({"val_slice_every": 2}, "val_slice_every: only used by sliced validation"),
        ({"val_slice": "big"}, "val_slice: size must look like 640 or 4000x3000, got 'big'"),
        ({"val_slice": "8"}, "slice must be at least 16x16 pixels, got 8x8"),
        ({"val_slice": 64, "val_overlap": 1.0}, r"overlap must be in \[0, 0.9\], got 1.0"),
        ({"val_slice": 64, "val_merge": "vote"}, "unknown merge 'vote'"),
        ({"val_slice": 64, "val_slice_imgsz": 16}, "imgsz must be at least 32, got 16"),
        ({"val_slice": 64, "val_slice_every": 0}, "val_slice_every must be at least 1, got 0"),
        ({"val_slice": 64, "fitness": "mAP50"}, "fitness must be 'ultralytics' or a tinydet metric"),
    ],
)
def test_bad_options_fail_with_a_clear_message(options, message):
    with pytest.raises(TinydetError, match=message):
        Recipe(**options)


def test_bad_flags_stop_before_any_work(tiny_data, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--data", str(tiny_data), "--out", str(out), "--val-slice", "64x", *_flags()]) == 2
    assert "val_slice: size must look like 640 or 4000x3000, got '64x'" in capsys.readouterr().err
    assert main(["train", "--data", str(tiny_data), "--out", str(out), "--val-merge", "nms", *_flags()]) == 2
    assert "val_merge: only used by sliced validation; add val_slice (--val-slice W[xH])" in capsys.readouterr().err
    assert not out.exists()


def test_settings_from_the_recipe():
    recipe = Recipe(val_slice="96x64", val_overlap=0.25, val_slice_every=2, fitness="APs")
    assert recipe.val_slice == "96x64" and Recipe(val_slice=64).val_slice == "64x64"  # one spelling on record
    settings = SlicedValSettings.from_recipe(recipe)
    assert settings.slice_wh == (96, 64) and settings.overlap == 0.25 and settings.fitness == "APs"
    assert [e for e in range(6) if settings.due(e, final=False)] == [1, 3, 5] and settings.due(0, final=True)
    assert SlicedValSettings.from_recipe(Recipe()) is None


def test_fitness_of_sliced_metrics():
    metrics = {"AP": 0.2, "AP50": 0.5, "APs": 0.1}
    assert fitness_of(metrics, "ultralytics") == pytest.approx(0.1 * 0.5 + 0.9 * 0.2)
    assert fitness_of(metrics, "APs") == 0.1
    with pytest.raises(TinydetError, match="fitness APvt: not among the sliced validation's metrics"):
        fitness_of(metrics, "APvt")


def _rows(run):
    with open(run / "results.csv") as f:
        return [{k.strip(): float(v) for k, v in row.items()} for row in csv.DictReader(f)]


def _epoch_of_best(run) -> int:
    """The 1-based epoch whose checkpoint (weights/epochN.pt, save_period=1) holds best.pt's weights."""
    best = torch.load(run / "weights" / "best.pt", weights_only=False)["model"].state_dict()
    found = []
    for path in sorted((run / "weights").glob("epoch*.pt")):
        ckpt = torch.load(path, weights_only=False)
        state = ckpt["ema"].state_dict()
        if all(torch.equal(best[k], v) for k, v in state.items()):
            found.append(ckpt["epoch"] + 1)
    assert len(found) == 1, f"best.pt matches the checkpoints of epochs {found}"
    return found[0]


@pytest.mark.slow
def test_scripted_sliced_fitness_decides_best_pt(tiny_data, tmp_path, monkeypatch):
    """The sliced fitness (scripted per epoch) picks best.pt although whole-image fitness would pick another
    epoch; the real sliced metrics of the last epoch equal `tinydet val --slice` on last.pt."""
    import tinydet.integrations.ultralytics.training.trainer as trainer  # where the trainer calls it from

    real, script = trainer.sliced_validate, iter([0.2, 0.7, 0.4, 0.7])  # 3 epochs, then best.pt at the end

    def scripted(model, data, settings, **kwargs):
        result = real(model, data, settings, **kwargs)
        result.fitness = next(script)
        return result

    monkeypatch.setattr(trainer, "sliced_validate", scripted)
    run = tmp_path / "run"
    assert main(["train", "--data", str(tiny_data), "--out", str(run), "--val-slice", "64", *_flags()]) == 0
    rows = _rows(run)
    assert [r[FITNESS_COLUMN] for r in rows] == [0.2, 0.7, 0.4]
    whole = [0.1 * r["metrics/mAP50(B)"] + 0.9 * r["metrics/mAP50-95(B)"] for r in rows]
    assert max(range(3), key=lambda i: (whole[i], -i)) != 1  # ultralytics' choice would not be epoch 2
    assert _epoch_of_best(run) == 2
    recorded = (run / "tinydet_run.yaml").read_text()
    assert "val_slice: 64x64" in recorded and "val_overlap: 0.2" in recorded
    from tinydet.train.api import load_run_recipe

    assert load_run_recipe(run).val_slice == "64x64"  # what --resume trains with

    # (b) the last epoch's sliced numbers are those of `tinydet val --slice` on last.pt (the EMA it saved)
    out = tmp_path / "val.json"
    assert main(["val", "--model", str(run / "weights" / "last.pt"), "--data", str(tiny_data), "--slice", "64",
                 "--json", str(out)]) == 0
    val = json.loads(out.read_text())["metrics"]
    last = torch.load(run / "weights" / "last.pt", weights_only=False)["train_metrics"]
    columns = [k for k in last if k.startswith("sliced/") and k != FITNESS_COLUMN]
    assert len(columns) == 8
    for key in columns:
        assert last[key] == pytest.approx(val[key.removeprefix("sliced/")], abs=1e-9), key
        assert rows[-1][key] == pytest.approx(val[key.removeprefix("sliced/")], rel=1e-5, abs=1e-6), key


@pytest.mark.slow
def test_real_sliced_fitness_picks_best_pt_and_final_eval_reports_it(tiny_data, tmp_path):
    """No stand-ins: best.pt is the first epoch with the highest sliced fitness (AP50_center here: the one metric
    an almost untrained model moves), and the final evaluation reports best.pt's sliced numbers."""
    from tinydet.train.api import TrainOptions, train

    run = tmp_path / "run"
    overrides = {"plots": False, "warmup_epochs": 0, "save_period": 1, "nbs": 4}
    result = train(TrainOptions(data=str(tiny_data), model="yolov8n", epochs=3, imgsz=64, batch=4, workers=0,
                                out=str(run), recipe=Recipe(val_slice="64", fitness="AP50_center"),
                                overrides=overrides))
    rows = _rows(run)
    column = [r[FITNESS_COLUMN] for r in rows]
    assert column == [r["sliced/AP50_center"] for r in rows] and not any(math.isnan(v) for v in column)
    assert _epoch_of_best(run) == 1 + max(range(len(column)), key=lambda i: (column[i], -i))
    best_metrics = torch.load(run / "weights" / "best.pt", weights_only=False)["train_metrics"]
    assert best_metrics[FITNESS_COLUMN] == max(column)
    assert result.metrics[FITNESS_COLUMN] == pytest.approx(max(column), abs=1e-9)  # final eval: best.pt, sliced


@pytest.mark.slow
def test_every_k_epochs_leaves_the_others_unmeasured(tiny_data, tmp_path):
    run = tmp_path / "run"
    assert main(["train", "--data", str(tiny_data), "--out", str(run), "--val-slice", "64", "--val-slice-every", "2",
                 "--fitness", "AP50_center", *_flags()]) == 0
    column = [r[FITNESS_COLUMN] for r in _rows(run)]
    assert math.isnan(column[0]) and not math.isnan(column[1]) and not math.isnan(column[2])  # 2nd and the last
    assert _epoch_of_best(run) in (2, 3)


@pytest.mark.slow
def test_pose_aux_picks_the_pose_twin_on_its_sliced_boxes(tiny_data, tmp_path):
    """pose-aux: the pose twin is validated sliced on its boxes; best_detect.pt (bit-identical box outputs)
    gets the same numbers from `tinydet val --slice`."""
    run = tmp_path / "run"
    assert main(["train", "--data", str(tiny_data), "--out", str(run), "--recipe", "pose-aux", "--val-slice", "64",
                 "--fitness", "AP50_center", *_flags(epochs=1)]) == 0
    assert FITNESS_COLUMN in (run / "results.csv").read_text().splitlines()[0]
    recorded = torch.load(run / "weights" / "best.pt", weights_only=False)["train_metrics"]
    out = tmp_path / "val.json"
    assert main(["val", "--model", str(run / "weights" / "best_detect.pt"), "--data", str(tiny_data), "--slice", "64",
                 "--json", str(out)]) == 0
    val = json.loads(out.read_text())["metrics"]
    assert recorded["sliced/AP50_center"] == pytest.approx(val["AP50_center"], abs=1e-9)
    assert recorded["sliced/AP"] == pytest.approx(val["AP"], abs=1e-9)
