"""Validation of a checkpoint on a dataset split (ultralytics' validator; tinydet's metrics are added by the
evaluation module)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ValOptions:
    split: str = "val"
    imgsz: int = 640
    batch: int = 16
    conf: float = 0.001
    iou: float = 0.7
    device: str | None = None


def validate(model: str, data: str, options: ValOptions = ValOptions()) -> dict[str, float]:
    """mAP50 and mAP50-95 of `model` on a split of `data` (a data.yaml)."""
    from tinydet.data.datayaml import load_data_yaml
    from tinydet.infer.full import load_model

    import tempfile

    cfg = load_data_yaml(data, required_splits=(options.split,))
    yolo = load_model(model)
    with tempfile.TemporaryDirectory(prefix="tinydet-val-") as scratch:  # ultralytics insists on a save folder
        kwargs = dict(data=str(cfg.yaml_path), split=options.split, imgsz=options.imgsz, batch=options.batch,
                      conf=options.conf, iou=options.iou, plots=False, verbose=False, project=scratch, name="val")
        if options.device is not None:
            kwargs["device"] = options.device
        box = yolo.val(**kwargs).box
    return {"mAP50": float(box.map50), "mAP50-95": float(box.map)}
