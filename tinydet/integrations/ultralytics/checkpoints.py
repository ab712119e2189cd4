"""Checkpoints in ultralytics' format: loading (as a module or as a YOLO object) and saving.

A checkpoint pickles its module classes, so one with tinydet modules loads once tinydet/nn is importable
(setup.py imports it). Saving writes a file that `ultralytics.YOLO(path)` loads as it is.
"""

from __future__ import annotations

import os
from copy import deepcopy
from datetime import datetime
from pathlib import Path

import torch
import ultralytics
from ultralytics import YOLO
from ultralytics.nn import tasks as ul_tasks

from tinydet.errors import TinydetError
from tinydet.integrations.ultralytics.builder import gflops
from tinydet.integrations.ultralytics.env import internal

PRUNED_MARK = "tinydet_pruned"  # attribute set on a pruned model; travels with it through EMA copies and pickling
LICENSE = "AGPL-3.0 License (https://ultralytics.com/license)"


def load_detection_checkpoint(path: str | Path) -> torch.nn.Module:
    """The float32 model of a checkpoint (its EMA when it has one), in eval mode, on the CPU."""
    path = Path(path)
    if not path.is_file():
        raise TinydetError(f"checkpoint not found: {path}")
    try:
        model = internal(ul_tasks, "load_checkpoint")(str(path))[0]
    except (TypeError, KeyError, RuntimeError, EOFError, ModuleNotFoundError, AttributeError) as e:
        raise TinydetError(f"{path}: not a ultralytics checkpoint ({e})") from None
    return model


def load_yolo(model: str | Path) -> YOLO:
    """An ultralytics YOLO object for a checkpoint or config path (never a bare name, which would download)."""
    return YOLO(str(model))


def load_detect_yolo(path: Path) -> YOLO:
    """A YOLO for a detection (or pose) checkpoint, with a clear error for anything else."""
    try:
        yolo = load_yolo(path)
    except TinydetError:
        raise
    except Exception as e:  # a corrupt or foreign file fails deep inside torch.load / ultralytics
        raise TinydetError(f"{path}: cannot load as an ultralytics checkpoint ({type(e).__name__}: {e})") from None
    if yolo.task not in ("detect", "pose"):
        raise TinydetError(f"{path}: a '{yolo.task}' model; tinydet predicts with detection (or pose) models")
    return yolo


def training_finished(path: str | Path) -> bool:
    """Whether a run's last.pt is the end of a finished training: ultralytics strips the optimizer and sets
    epoch -1 when a run completes (strip_optimizer), so such a file cannot be resumed."""
    try:
        ckpt = torch.load(str(path), map_location="cpu", weights_only=False)
    except Exception as e:  # a truncated or foreign file: the user's to fix, named
        raise TinydetError(f"{path}: not a readable checkpoint ({type(e).__name__}: {e})") from None
    return isinstance(ckpt, dict) and (ckpt.get("epoch", -1) == -1 or ckpt.get("optimizer") is None)


def save_model_checkpoint(model: torch.nn.Module, path: str | Path, train_args: dict | None = None,
                          extra: dict | None = None) -> Path:
    """Write `model` as a checkpoint that `YOLO(path)` loads as it is (fp16 weights, no optimizer, no EMA),
    atomically. train_args: the arguments recorded with it (ultralytics reads imgsz, data, task from them);
    extra: more keys for the checkpoint dict (e.g. 'tinydet': where it came from)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    copy = deepcopy(model).half()
    if hasattr(copy, "criterion"):
        copy.criterion = None
    ckpt = {"model": copy, "ema": None, "train_args": dict(train_args or getattr(model, "args", None) or {}),
            "date": datetime.now().astimezone().isoformat(), "version": ultralytics.__version__, "license": LICENSE,
            **(extra or {})}
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        torch.save(ckpt, tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def model_size(yolo: YOLO, imgsz: int) -> tuple[int, float | None]:
    """(parameters, GFLOPs at imgsz x imgsz or None when they cannot be counted) of a loaded YOLO."""
    params = int(sum(p.numel() for p in yolo.model.parameters()))
    try:
        return params, gflops(yolo.model, imgsz) or None
    except Exception:  # FLOPs counting (thop) is optional; size without it is still useful
        return params, None
