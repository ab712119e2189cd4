"""Training entry point: checks the inputs, then runs ultralytics' trainer into one run folder.

A run folder holds what ultralytics writes (weights/best.pt, weights/last.pt, results.csv, args.yaml) plus
`tinydet_run.yaml`: every tinydet option of the run, so it can be reproduced and resumed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tinydet.errors import TinydetError


@dataclass
class TrainOptions:
    """What to train. `model`: zoo name, YAML or checkpoint; `out`: the run folder (created, must be new)."""

    data: str
    model: str = "yolov8n"
    epochs: int = 100
    imgsz: int = 640
    batch: int = 16
    out: str = "runs/train"
    seed: int = 0
    device: str | None = None
    deterministic: bool = True
    workers: int = 4
    patience: int = 100
    overrides: dict[str, Any] = field(default_factory=dict)  # any other ultralytics train argument

    def __post_init__(self) -> None:
        for name in ("epochs", "imgsz", "batch"):
            if int(getattr(self, name)) < 1:
                raise TinydetError(f"--{name} must be at least 1, got {getattr(self, name)}")


@dataclass
class TrainResult:
    run_dir: Path
    best: Path
    last: Path
    metrics: dict[str, float]


RUN_FILE = "tinydet_run.yaml"


def _check_new_run_dir(out: Path) -> None:
    if out.exists() and any(out.iterdir()):
        raise TinydetError(
            f"run folder {out} already exists and is not empty; choose a new --out, or continue it with --resume {out}"
        )


def check_override_keys(overrides: dict[str, Any]) -> None:
    """Unknown ultralytics argument names fail here, with suggestions, rather than deep inside ultralytics."""
    import difflib

    from ultralytics.cfg import DEFAULT_CFG_DICT

    for key in overrides:
        if key not in DEFAULT_CFG_DICT:
            close = difflib.get_close_matches(key, list(DEFAULT_CFG_DICT), n=3)
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            raise TinydetError(f"'{key}' is not an ultralytics training argument{hint}")


def _ultralytics_args(opts: TrainOptions, data_yaml: Path, out: Path) -> dict[str, Any]:
    check_override_keys(opts.overrides)
    args = dict(
        data=str(data_yaml),
        epochs=opts.epochs,
        imgsz=opts.imgsz,
        batch=opts.batch,
        project=str(out.parent),
        name=out.name,
        exist_ok=True,
        seed=opts.seed,
        deterministic=opts.deterministic,
        workers=opts.workers,
        patience=opts.patience,
        verbose=True,
    )
    if opts.device is not None:
        args["device"] = opts.device
    args.update(opts.overrides)
    return args


def train(opts: TrainOptions) -> TrainResult:
    """Train `opts.model` on `opts.data`; returns the run folder, checkpoints and final validation metrics."""
    from ultralytics import YOLO

    from tinydet.data.datayaml import load_data_yaml
    from tinydet.models.zoo import resolve_model

    data = load_data_yaml(opts.data)
    model_path = resolve_model(opts.model)
    out = Path(opts.out).expanduser().resolve()
    _check_new_run_dir(out)
    out.mkdir(parents=True, exist_ok=True)
    record = {"tinydet": asdict(opts) | {"data": str(data.yaml_path), "model_resolved": model_path}}
    (out / RUN_FILE).write_text(yaml.safe_dump(record, sort_keys=False))
    model = YOLO(model_path)
    model.train(**_ultralytics_args(opts, data.yaml_path, out))
    return _result(out, model)


def resume(run_dir: str | Path) -> TrainResult:
    """Continue an interrupted run from its weights/last.pt, with the options it was started with."""
    from ultralytics import YOLO

    out = Path(run_dir).expanduser().resolve()
    last = out / "weights" / "last.pt"
    if not last.is_file():
        raise TinydetError(f"cannot resume: {last} not found (is {out} a tinydet/ultralytics run folder?)")
    model = YOLO(str(last))
    model.train(resume=True)
    return _result(out, model)


def _result(out: Path, model) -> TrainResult:
    metrics = {}
    trainer = getattr(model, "trainer", None)
    if trainer is not None and getattr(trainer, "metrics", None):
        metrics = {k: float(v) for k, v in trainer.metrics.items() if isinstance(v, (int, float))}
    best, last = out / "weights" / "best.pt", out / "weights" / "last.pt"
    return TrainResult(out, best if best.exists() else last, last, metrics)
