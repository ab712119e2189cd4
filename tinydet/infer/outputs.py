"""Writing predictions: YOLO txt with confidences, COCO results JSON, images (and videos) with boxes drawn.

Every file is written atomically (a temporary file in the same folder, then a rename), so an interrupted run
never leaves a truncated file. Outputs are named by each source's path relative to the SOURCE argument
(`labels/sub/a.txt` for `SOURCE/sub/a.jpg`; tinydet.infer.output_names, which checks a run's names before it
starts), so files with equal names in different folders never collide.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from tinydet.detections import Detections
from tinydet.errors import TinydetError
from tinydet.files import write_atomic
from tinydet.infer.output_names import (
    DRAWN_MARK,
    PREDICTIONS_JSON,
    drawn_image_file,
    drawn_video_file,
    image_stem,
    label_file,
)

DRAW_MAX_PIXELS = 50_000_000  # larger images are drawn on a shrunk copy


def yolo_txt(dets: Detections, width: int, height: int) -> str:
    """`class cx cy w h conf` per line, coordinates normalised by the image size."""
    lines = []
    for (x1, y1, x2, y2), c, s in zip(dets.xyxy.astype(np.float64), dets.class_id, dets.confidence):
        lines.append(
            f"{c} {(x1 + x2) / 2 / width:.6f} {(y1 + y2) / 2 / height:.6f} {(x2 - x1) / width:.6f} "
            f"{(y2 - y1) / height:.6f} {s:.5f}"
        )
    return "\n".join(lines) + ("\n" if lines else "")


@functools.lru_cache(maxsize=1024)
def class_colour(class_id: int) -> tuple[int, int, int]:
    """A bright BGR colour per class: hues a golden-ratio step apart, so neighbouring ids never look alike."""
    hue = int((class_id * 0.618033988749895) % 1.0 * 180)  # OpenCV hue range 0-179
    b, g, r = cv2.cvtColor(np.uint8([[[hue, 220, 255]]]), cv2.COLOR_HSV2BGR)[0, 0]
    return int(b), int(g), int(r)


def line_width(height: int, width: int) -> int:
    """Box line width in px for an image of height x width: 1 px up to 640 px on the long side, then one more per
    640 px, so boxes stay visible on a 4000 px image."""
    return max(1, round(max(height, width) / 640))


def draw(image: np.ndarray, dets: Detections, names: dict | list, colour=None, scale: float = 1.0) -> np.ndarray:
    """A copy of a BGR image with boxes and 'name conf' labels drawn (box coordinates multiplied by `scale`), each
    class in its `class_colour` unless `colour` (BGR) is given; line width and text grow with the image."""
    out = image.copy()
    thickness = line_width(*image.shape[:2])
    for (x1, y1, x2, y2), c, s in zip(dets.xyxy * scale, dets.class_id, dets.confidence):
        p1, p2 = (int(round(x1)), int(round(y1))), (int(round(x2)), int(round(y2)))
        bgr = colour if colour is not None else class_colour(int(c))
        cv2.rectangle(out, p1, p2, bgr, thickness, cv2.LINE_AA)
        cv2.putText(out, f"{names[int(c)]} {s:.2f}", (p1[0], max(8 * thickness, p1[1] - 2 * thickness)),
                    cv2.FONT_HERSHEY_SIMPLEX, 0.3 * thickness, bgr, thickness, cv2.LINE_AA)
    return out


class CocoIds:
    """Image and category ids from a COCO ground-truth file, so that results can be evaluated against it.

    Images match by their path relative to SOURCE, or else by file name when that is unique in the file;
    categories match the model's class names (case-insensitive).
    """

    def __init__(self, gt_file: str | Path, names: dict[int, str]):
        self.file = Path(gt_file)
        try:
            gt = json.loads(self.file.read_text())
            images, categories = gt["images"], gt["categories"]
            by_path = {str(Path(im["file_name"])): im["id"] for im in images}
        except FileNotFoundError:
            raise TinydetError(f"COCO file not found: {self.file}") from None
        except (json.JSONDecodeError, KeyError, TypeError) as e:
            raise TinydetError(f"{self.file}: not a COCO ground-truth file (needs 'images' and 'categories'): {e}") from None
        self.by_path = by_path
        by_name: dict[str, list] = {}
        for name, image_id in by_path.items():
            by_name.setdefault(Path(name).name, []).append(image_id)
        self.by_name = by_name
        cats = {str(c["name"]).lower(): c["id"] for c in categories}
        missing = [n for n in names.values() if n.lower() not in cats]
        if missing:
            raise TinydetError(
                f"{self.file}: no category named {', '.join(repr(m) for m in missing)}; the model's classes are "
                f"{', '.join(names.values())} and the file's categories {', '.join(cats)}"
            )
        self.category_ids = [cats[names[k].lower()] for k in sorted(names)]

    def image_id(self, key: str) -> int | str:
        if key in self.by_path:
            return self.by_path[key]
        for stored, image_id in self.by_path.items():
            if stored.endswith("/" + key):
                return image_id
        matches = self.by_name.get(Path(key).name, [])
        if len(matches) == 1:
            return matches[0]
        why = "several images have that file name" if matches else "no image has that file name"
        raise TinydetError(f"{key} is not an image of {self.file} ({why})")


class PredictionWriter:
    """Writes the requested outputs of each prediction under `out` (see the module docstring)."""

    def __init__(self, out: Path, names, save_txt: bool, save_json: bool, save_img: bool, coco_gt: str | Path | None = None):
        self.out, self.names = Path(out), names
        self.save_txt, self.save_json, self.save_img = save_txt, save_json, save_img
        self.coco_ids = CocoIds(coco_gt, names) if coco_gt else None
        self.coco: list[dict] = []
        self._video: _VideoWriter | None = None

    @property
    def writes(self) -> bool:
        return self.save_txt or self.save_json or self.save_img

    def add(self, key: str, dets: Detections, reader, video: tuple[str, float] | None = None) -> None:
        """Record the predictions of one image or frame.

        Args:
            key: its name relative to SOURCE with suffix ('sub/a.jpg'); for a video frame, its frame_stem
                ('sub/clip_000012').
            reader: its image reader (tinydet.infer.images), for size and pixels.
            video: (relative video path, fps) for frames of a video, whose drawn frames go to one video file.
        """
        stem = image_stem(key) if video is None else key
        if self.save_txt:
            write_atomic(self.out / label_file(stem), yolo_txt(dets, reader.width, reader.height))
        if self.save_json:
            if self.coco_ids is not None:
                self.coco.extend(dets.to_coco(self.coco_ids.image_id(key), self.coco_ids.category_ids))
            else:
                self.coco.extend(dets.to_coco(key))
        if self.save_img:
            pixels, scale = _drawable(reader)
            drawn = draw(pixels, dets, self.names, scale=scale)
            if video is None:
                ok, buf = cv2.imencode(".jpg", drawn)
                if not ok:
                    raise TinydetError(f"could not encode the drawn image of {key}")
                _write_drawn(self.out / drawn_image_file(stem), buf.tobytes())
            else:
                self._video_frame(video, drawn)

    def _video_frame(self, video: tuple[str, float], drawn: np.ndarray) -> None:
        name, fps = video
        if self._video is None or self._video.name != name:
            self.finish_video()
            self._video = _VideoWriter(self.out / drawn_video_file(name), name, fps, drawn.shape[1::-1])
        self._video.write(drawn)

    def finish_video(self) -> None:
        if self._video is not None:
            self._video.close()
            self._video = None

    def close(self) -> None:
        self.finish_video()
        if self.save_json:
            write_atomic(self.out / PREDICTIONS_JSON, json.dumps(self.coco))


def _drawable(reader) -> tuple[np.ndarray, float]:
    """The pixels to draw on and the factor from image to drawing coordinates (large images are shrunk)."""
    pixels = reader.width * reader.height
    if pixels <= DRAW_MAX_PIXELS:
        return reader.read(0, 0, reader.width, reader.height), 1.0
    scale = (DRAW_MAX_PIXELS / pixels) ** 0.5
    return reader.resized(max(1, int(reader.width * scale)), max(1, int(reader.height * scale))), scale


def _mark_drawn(folder: Path) -> None:
    """Create `folder` with its DRAWN_MARK (see tinydet.infer.output_names), once."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / DRAWN_MARK).touch(exist_ok=True)


def _write_drawn(path: Path, data: bytes) -> None:
    _mark_drawn(path.parent)
    write_atomic(path, data)


class _VideoWriter:
    """An mp4 written to a temporary name and renamed when complete."""

    def __init__(self, path: Path, name: str, fps: float, size: Sequence[int]):
        self.path, self.name = path, name
        _mark_drawn(path.parent)
        self.tmp = path.with_name(f".{path.stem}.partial.mp4")
        self.writer = cv2.VideoWriter(str(self.tmp), cv2.VideoWriter_fourcc(*"mp4v"), fps, tuple(size))
        if not self.writer.isOpened():
            raise TinydetError(f"cannot write video {path} (OpenCV has no mp4v encoder here)")

    def write(self, frame: np.ndarray) -> None:
        self.writer.write(frame)

    def close(self) -> None:
        self.writer.release()
        os.replace(self.tmp, self.path)
