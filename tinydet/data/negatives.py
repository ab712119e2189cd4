"""Hard-negative mining (seed 004, "Reducing false positives: more negative samples"): find where a model fires on
background in the training images and add those places as labelled-empty training images.

1. Predict every training image (any predictor yielding `Detections`).
2. A prediction is a false positive when its IoU with every ground-truth box, of any class, ignore regions
   included, is below `iou` (0.1): it overlaps no object at all, so it is not a mislocalised or misclassified
   detection but a detection of background.
3. Around each false positive (highest confidence first) a `crop` x `crop` px window (integer pixels) that
   contains it and stays `margin` px clear of every ground-truth box is searched (the centred window first, then
   shifted ones); a false positive whose centre lies in an already chosen window is skipped; at most
   `max_per_image` windows per image. The margin is there because labels are rarely pixel-tight: a window that
   grazes an object would teach the model that the visible part of it is background.
4. Each image with windows yields one negative image: the windows' pixels at their places on a canvas of the
   source image's size, filled with ultralytics' padding grey (114). Keeping the source size keeps the scale:
   ultralytics resizes every training image so that its long side is imgsz, so a bare 256 px crop would be
   enlarged and its background patterns would no longer look like what fooled the model.
5. The new dataset is the original (copied, in YOLO layout) plus the negatives under
   `images/train/tinydet_negatives/` with empty label files, and `negatives.json`, a manifest of every window
   and the false positives whose centres it holds. Validation and test splits are copied unchanged; the original
   dataset is only read.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from tinydet.data.convert import write_into
from tinydet.data.dataset import Dataset, ImageLabels
from tinydet.data.images import load_pixels, save_pixels
from tinydet.data.outdir import check_new_folder, new_folder
from tinydet.detections import Detections
from tinydet.errors import TinydetError

NEGATIVES_FOLDER = "tinydet_negatives"
MANIFEST = "negatives.json"
FILL = 114  # ultralytics' padding value


@dataclass(frozen=True)
class MiningOptions:
    """iou: a prediction with IoU below this with every ground-truth box is a false positive; crop: window side,
    px; max_per_image: windows per image; candidates: window positions tried per axis; margin: px a window keeps
    clear of every ground-truth box."""

    iou: float = 0.1
    crop: int = 256
    max_per_image: int = 4
    candidates: int = 5
    margin: float = 2.0

    def __post_init__(self) -> None:
        if not 0 < self.iou <= 1:
            raise TinydetError(f"--iou must be in (0, 1], got {self.iou}")
        if self.crop < 8:
            raise TinydetError(f"--crop must be at least 8 px, got {self.crop}")
        if self.max_per_image < 1:
            raise TinydetError(f"--max-per-image must be at least 1, got {self.max_per_image}")
        if self.candidates < 1:
            raise TinydetError(f"candidates must be at least 1, got {self.candidates}")
        if self.margin < 0:
            raise TinydetError(f"--margin must be >= 0 px, got {self.margin}")


def _pairwise_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU float64 [A, B] of xyxy boxes."""
    a, b = np.asarray(a, np.float64).reshape(-1, 1, 4), np.asarray(b, np.float64).reshape(1, -1, 4)
    w = np.clip(np.minimum(a[..., 2], b[..., 2]) - np.maximum(a[..., 0], b[..., 0]), 0, None)
    h = np.clip(np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1]), 0, None)
    inter = w * h
    area = lambda x: (x[..., 2] - x[..., 0]) * (x[..., 3] - x[..., 1])  # noqa: E731
    union = area(a) + area(b) - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def false_positive_mask(pred: np.ndarray, gt: np.ndarray, iou: float = 0.1) -> np.ndarray:
    """bool [P]: predictions (xyxy [P, 4]) whose IoU with every ground-truth box (xyxy [G, 4]) is below `iou`."""
    pred = np.asarray(pred, np.float64).reshape(-1, 4)
    if len(np.asarray(gt).reshape(-1, 4)) == 0:
        return np.ones(len(pred), bool)
    return _pairwise_iou(pred, gt).max(1) < iou


def overlaps_any(window: np.ndarray, boxes: np.ndarray) -> bool:
    """True when `window` [4] and some box of `boxes` [N, 4] share area (touching edges do not count)."""
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    if len(boxes) == 0:
        return False
    w = np.minimum(window[2], boxes[:, 2]) - np.maximum(window[0], boxes[:, 0])
    h = np.minimum(window[3], boxes[:, 3]) - np.maximum(window[1], boxes[:, 1])
    return bool(((w > 0) & (h > 0)).any())


def _positions(lo: int, hi: int, centred: float, n: int) -> list[int]:
    """Integer window starts in [lo, hi] (lo <= hi), the centred one first, the others by distance from it."""
    candidates = {int(np.clip(round(centred), lo, hi))}
    candidates.update(int(np.clip(round(v), lo, hi)) for v in np.linspace(lo, hi, n))
    return sorted(candidates, key=lambda v: (abs(v - centred), v))


def place_window(fp: np.ndarray, gt: np.ndarray, width: int, height: int, size: int, n: int = 5,
                 margin: float = 0.0) -> np.ndarray | None:
    """A window [x1, y1, x2, y2] (integer px, inside the image, min(size, W) x min(size, H)) that contains the
    false positive `fp` [4] (xyxy px) where it can (centred on it when it is larger) and shares no area with any
    ground-truth box of `gt` [G, 4] grown by `margin` px; None if none of the n x n candidate positions qualifies."""
    cw, ch = min(int(size), int(width)), min(int(size), int(height))
    x1, y1, x2, y2 = (float(v) for v in fp)
    grown = np.asarray(gt, np.float64).reshape(-1, 4) + np.array([-margin, -margin, margin, margin])

    def axis(a1, a2, extent, limit):
        centred = (a1 + a2) / 2 - extent / 2
        # integer starts that keep [a1, a2] inside the window, and the window inside the image
        lo, hi = max(0, int(np.ceil(a2 - extent))), min(int(np.floor(a1)), limit - extent)
        if lo > hi:  # the box is larger than the window (or sticks out of the image): centre on it
            lo = hi = int(np.clip(round(centred), 0, limit - extent))
        return _positions(lo, hi, centred, n)

    for top in axis(y1, y2, ch, int(height)):
        for left in axis(x1, x2, cw, int(width)):
            window = np.array([left, top, left + cw, top + ch], np.int64)
            if not overlaps_any(window, grown):
                return window
    return None


def holds(window: np.ndarray, box: np.ndarray) -> bool:
    """True when the centre of `box` [4] lies in `window` [4] (both xyxy px)."""
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    return bool(window[0] <= cx <= window[2] and window[1] <= cy <= window[3])


def mine_windows(image: ImageLabels, dets: Detections, options: MiningOptions) -> tuple[list[np.ndarray], list[list[int]]]:
    """Windows (int64 [4] xyxy px each) for one image and, for each, the indices into `dets` of the false positives
    whose centres it holds."""
    gt = image.boxes  # every class and ignore region: a prediction on any of them is not background
    fp = np.flatnonzero(false_positive_mask(dets.xyxy, gt, options.iou))
    fp = fp[np.argsort(-dets.confidence[fp], kind="stable")]
    windows: list[np.ndarray] = []
    for i in fp:
        if len(windows) == options.max_per_image:
            break
        box = dets.xyxy[i].astype(np.float64)
        if any(holds(w, box) for w in windows):
            continue
        window = place_window(box, gt, image.width, image.height, options.crop, options.candidates, options.margin)
        if window is not None:
            windows.append(window)
    held = [[int(i) for i in fp if holds(w, dets.xyxy[i])] for w in windows]
    return windows, held


def negative_canvas(pixels: np.ndarray, windows: list[np.ndarray]) -> np.ndarray:
    """The windows' pixels at their places on a FILL-coloured canvas of the image's size."""
    fill = FILL if pixels.dtype == np.uint8 else pixels.mean()
    canvas = np.full_like(pixels, fill)
    for x1, y1, x2, y2 in windows:
        canvas[y1:y2, x1:x2] = pixels[y1:y2, x1:x2]
    return canvas


Predictor = Callable[[list[Path]], Iterable[tuple[Path, Detections]]]


def mine_negatives(dataset: Dataset, predict: Predictor, out: str | Path, options: MiningOptions = MiningOptions(),
                   info: dict | None = None) -> Path:
    """Write the new dataset `out` (original + negatives, YOLO layout); returns its data.yaml.

    `predict(files)` yields (file, Detections in that image's pixels) for the training images, in any order.
    `info` (e.g. the model and thresholds) is stored in the manifest.
    """
    if "train" not in dataset.splits or not dataset.splits["train"]:
        raise TinydetError(f"{dataset.source}: no training images to mine")
    check_new_folder(out, dataset)
    train = dataset.splits["train"]
    by_file = {im.file.resolve(): im for im in train}
    found: dict[Path, tuple[list, list, Detections]] = {}
    for file, dets in predict([im.file for im in train]):
        image = by_file.get(Path(file).resolve())
        if image is None:
            raise TinydetError(f"the predictor returned an image that is not in the training split: {file}")
        windows, held = mine_windows(image, dets, options)
        if windows:
            found[image.file.resolve()] = (windows, held, dets)
    with new_folder(out, dataset) as tmp:
        data_yaml = write_into(dataset, tmp, "yolo")
        folder = tmp / "images" / "train" / NEGATIVES_FOLDER
        if folder.exists():
            raise TinydetError(f"the training split already has a folder named {NEGATIVES_FOLDER}")
        folder.mkdir(parents=True)
        (tmp / "labels" / "train" / NEGATIVES_FOLDER).mkdir(parents=True)
        records = []
        for k, (file, (windows, held, dets)) in enumerate(sorted(found.items())):
            name = f"{k:06d}_{file.stem}.png"
            save_pixels(negative_canvas(load_pixels(file), windows), folder / name)
            (tmp / "labels" / "train" / NEGATIVES_FOLDER / name).with_suffix(".txt").write_text("")
            records.append({
                "image": f"images/train/{NEGATIVES_FOLDER}/{name}", "source": str(file),
                "windows": [[int(v) for v in w] for w in windows],
                "false_positives": [[{"box": [round(float(v), 2) for v in dets.xyxy[i]],
                                      "confidence": round(float(dets.confidence[i]), 4),
                                      "class": int(dets.class_id[i])} for i in idx] for idx in held],
            })
        manifest = {"source": str(dataset.source), "options": asdict(options), "info": info or {},
                    "train_images": len(train), "negative_images": len(records),
                    "windows": sum(len(r["windows"]) for r in records), "negatives": records}
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1))
        final = Path(out).expanduser().absolute() / Path(data_yaml).relative_to(tmp)
    return final
