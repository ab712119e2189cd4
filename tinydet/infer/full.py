"""Full-image prediction with an ultralytics checkpoint, yielding `Detections` per image."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from tinydet.detections import Detections


@dataclass(frozen=True)
class FullImageOptions:
    """imgsz: network input size (px); conf: score threshold; iou: NMS IoU; max_det: boxes kept per image;
    nms_free: infer with the model's end-to-end (one-to-one) head and no NMS (YOLO26-style heads only; the
    default is ultralytics': the one-to-many head and NMS)."""

    imgsz: int = 640
    conf: float = 0.25
    iou: float = 0.7
    max_det: int = 300
    device: str | None = None
    agnostic_nms: bool = False
    nms_free: bool = False


def load_model(model: str | Path):
    """An ultralytics YOLO object for a checkpoint path (never a bare name that would download)."""
    from ultralytics import YOLO

    from tinydet.models.zoo import resolve_model

    return YOLO(resolve_model(model))


def predict_images(model, images: Iterable[Path], options: FullImageOptions = FullImageOptions()) -> Iterator[tuple[Path, Detections]]:
    """Predict each image whole; yields (image path, Detections in that image's pixels)."""
    kwargs = dict(
        imgsz=options.imgsz, conf=options.conf, iou=options.iou, max_det=options.max_det,
        agnostic_nms=options.agnostic_nms, verbose=False,
    )
    if options.device is not None:
        kwargs["device"] = options.device
    if options.nms_free:
        from tinydet.integrations.ultralytics import check_nms_free_head

        check_nms_free_head(model.model, model.ckpt_path or "model")
    # ultralytics: False = the one-to-one head, no NMS; None = its default. Always given, since a YOLO object
    # rebuilds its predictor (and so picks the head again) only when this argument changes.
    kwargs["nms"] = False if options.nms_free else None
    for image in images:
        (result,) = model.predict(source=str(image), **kwargs)
        yield Path(image), Detections.from_ultralytics(result)
