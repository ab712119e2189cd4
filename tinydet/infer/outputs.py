"""Writing predictions: YOLO txt with confidences, COCO results JSON, images with boxes. Files are written
atomically (temporary file, then rename), so an interrupted run never leaves a truncated file."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import cv2
import numpy as np

from tinydet.detections import Detections


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomic(path: Path, data: bytes | str) -> None:
    """Write `data` to `path` through a temporary file in the same folder and a rename (ordinary permissions)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode() if isinstance(data, str) else data)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600 files
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def yolo_txt(dets: Detections, width: int, height: int) -> str:
    """`class cx cy w h conf` per line, coordinates normalised by the image size."""
    lines = []
    for (x1, y1, x2, y2), c, s in zip(dets.xyxy.astype(np.float64), dets.class_id, dets.confidence):
        lines.append(
            f"{c} {(x1 + x2) / 2 / width:.6f} {(y1 + y2) / 2 / height:.6f} {(x2 - x1) / width:.6f} "
            f"{(y2 - y1) / height:.6f} {s:.5f}"
        )
    return "\n".join(lines) + ("\n" if lines else "")


def draw(image: np.ndarray, dets: Detections, names: dict | list, colour=(0, 255, 0)) -> np.ndarray:
    """A copy of a BGR image with boxes and 'name conf' labels drawn."""
    out = image.copy()
    for (x1, y1, x2, y2), c, s in zip(dets.xyxy, dets.class_id, dets.confidence):
        p1, p2 = (int(round(x1)), int(round(y1))), (int(round(x2)), int(round(y2)))
        cv2.rectangle(out, p1, p2, colour, 1, cv2.LINE_AA)
        cv2.putText(out, f"{names[int(c)]} {s:.2f}", (p1[0], max(8, p1[1] - 2)), cv2.FONT_HERSHEY_SIMPLEX, 0.3, colour, 1, cv2.LINE_AA)
    return out


class PredictionWriter:
    """Collects per-image predictions and writes the requested outputs under `out`."""

    def __init__(self, out: Path, names, save_txt: bool, save_json: bool, save_img: bool):
        self.out, self.names = out, names
        self.save_txt, self.save_json, self.save_img = save_txt, save_json, save_img
        self.coco: list[dict] = []

    @property
    def writes(self) -> bool:
        return self.save_txt or self.save_json or self.save_img

    def add(self, image: Path, dets: Detections) -> None:
        if self.save_txt or self.save_img:
            pixels = cv2.imread(str(image))
            height, width = pixels.shape[:2]
            if self.save_txt:
                write_atomic(self.out / "labels" / f"{image.stem}.txt", yolo_txt(dets, width, height))
            if self.save_img:
                ok, buf = cv2.imencode(".jpg", draw(pixels, dets, self.names))
                write_atomic(self.out / "images" / f"{image.stem}.jpg", buf.tobytes())
        if self.save_json:
            self.coco.extend(dets.to_coco(image.name))

    def close(self) -> None:
        if self.save_json:
            write_atomic(self.out / "predictions.json", json.dumps(self.coco))
