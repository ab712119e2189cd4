"""Deterministic synthetic small-object datasets (the built-in default data for the demo and the tests).

Each image is an RGB scene: a smooth, blotchy background with pixel noise and clutter (lines, blobs), shape
distractors that belong to no class (rings, thin ellipses, strokes), and objects of four classes drawn with
anti-aliasing at random colour, rotation and size. Object sizes (square root of box area) are drawn
log-uniformly from 4 to 32 px, with one object in ten between 32 and 56 px, so most are COCO-small and many
are AI-TOD very tiny / tiny. Objects may overlap a little (box IoU below 0.3).

The same (images, seed, size) always gives byte-identical files: every image has its own random generator
seeded from (seed, split, index).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np
import yaml
from tqdm import tqdm

from tinydet.data.outdir import new_folder
from tinydet.errors import TinydetError

CLASS_NAMES = ("disc", "square", "triangle", "cross")
_SPLIT_IDS = {"train": 0, "val": 1}
_SUBPIXEL = 4  # cv2 drawing shift: coordinates in 1/16 px


@dataclass(frozen=True)
class SynthSpec:
    """What to generate. `size` is (width, height) in pixels; `val_images` defaults to a quarter of `images`."""

    images: int = 200
    seed: int = 0
    size: tuple[int, int] = (320, 320)
    val_images: int | None = None
    objects_per_megapixel: float = 120.0
    jpeg_quality: int = 95

    def __post_init__(self) -> None:
        w, h = self.size
        if self.images < 1:
            raise TinydetError(f"--images must be at least 1, got {self.images}")
        if w < 64 or h < 64:
            raise TinydetError(f"--size must be at least 64x64 pixels, got {w}x{h}")
        if self.val_images is not None and self.val_images < 1:
            raise TinydetError(f"val_images must be at least 1, got {self.val_images}")
        if not 0 <= self.objects_per_megapixel < float("inf"):
            raise TinydetError(f"--density must be a number of objects per megapixel >= 0, "
                               f"got {self.objects_per_megapixel}")

    @property
    def n_val(self) -> int:
        return self.val_images if self.val_images is not None else max(4, self.images // 4)


def parse_size(text: str) -> tuple[int, int]:
    """'640' -> (640, 640); '4000x3000' -> (4000, 3000)."""
    parts = text.lower().split("x")
    try:
        values = [int(p) for p in parts]
    except ValueError:
        raise TinydetError(f"size must look like 640 or 4000x3000, got '{text}'") from None
    if len(values) == 1:
        return values[0], values[0]
    if len(values) == 2:
        return values[0], values[1]
    raise TinydetError(f"size must look like 640 or 4000x3000, got '{text}'")


# ------------------------------------------------------------------------------------------------------------------
# Drawing (pure functions of a random generator)
# ------------------------------------------------------------------------------------------------------------------
def _background(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    """Smooth colour blotches + pixel noise + clutter strokes; uint8 [H, W, 3]."""
    base = rng.uniform(40, 200, size=3)
    cells = (max(2, w // 48), max(2, h // 48))
    blotches = rng.normal(0, 28, size=(cells[1], cells[0], 3)).astype(np.float32)
    img = cv2.resize(blotches, (w, h), interpolation=cv2.INTER_CUBIC) + base.astype(np.float32)
    img += rng.normal(0, rng.uniform(4, 12), size=(h, w, 1)).astype(np.float32)  # sensor-like grain
    img = np.clip(img, 0, 255).astype(np.uint8)
    n_strokes = rng.poisson(6 * w * h / 320**2)
    for _ in range(n_strokes):
        p1 = rng.uniform(0, [w, h])
        p2 = p1 + rng.normal(0, 60, size=2)
        colour = tuple(int(c) for c in np.clip(base + rng.normal(0, 45, 3), 0, 255))
        cv2.line(img, _fix(p1), _fix(p2), colour, int(rng.integers(1, 3)), cv2.LINE_AA, _SUBPIXEL)
    return img


def _fix(point) -> tuple[int, int]:
    return int(round(point[0] * (1 << _SUBPIXEL))), int(round(point[1] * (1 << _SUBPIXEL)))


def _contrasting_colour(rng: np.random.Generator, img: np.ndarray, cx: float, cy: float) -> tuple[int, int, int]:
    """A random colour whose brightness differs from the local background by at least ~50 levels."""
    h, w = img.shape[:2]
    x0, y0 = int(np.clip(cx, 0, w - 1)), int(np.clip(cy, 0, h - 1))
    local = img[max(0, y0 - 4) : y0 + 5, max(0, x0 - 4) : x0 + 5].reshape(-1, 3).mean(0)
    colour = rng.uniform(0, 255, size=3)
    delta = colour.mean() - local.mean()
    if abs(delta) < 50:
        colour = np.clip(colour + (50 - abs(delta)) * (1 if delta >= 0 and local.mean() < 205 else -1), 0, 255)
        if abs(colour.mean() - local.mean()) < 50:  # clipped: go the other way
            colour = np.clip(local - 70 if local.mean() > 128 else local + 70, 0, 255)
    return tuple(int(c) for c in colour)


def _rotate(points: np.ndarray, angle: float) -> np.ndarray:
    c, s = math.cos(angle), math.sin(angle)
    return points @ np.array([[c, s], [-s, c]], np.float64)


def _class_polygon(cls: int, size: float, angle: float) -> np.ndarray | None:
    """Outline of class `cls` centred on (0, 0), about `size` px across; None for the disc (drawn as a circle)."""
    r = size / 2
    if cls == 0:
        return None
    if cls == 1:  # square whose rotated box is about `size`
        a = r / (abs(math.cos(angle)) + abs(math.sin(angle)))
        pts = np.array([[-a, -a], [a, -a], [a, a], [-a, a]])
    elif cls == 2:  # equilateral triangle
        pts = np.array([[r * math.cos(t), r * math.sin(t)] for t in (-math.pi / 2, math.pi / 6, 5 * math.pi / 6)])
    else:  # plus sign, arms a third of its span thick
        t = r / 3
        pts = np.array(
            [[-t, -r], [t, -r], [t, -t], [r, -t], [r, t], [t, t], [t, r], [-t, r], [-t, t], [-r, t], [-r, -t], [-t, -t]]
        )
    return _rotate(pts, angle)


def _draw_distractor(rng: np.random.Generator, img: np.ndarray) -> None:
    """A shape of no class: ring, thin ellipse or short thick stroke."""
    h, w = img.shape[:2]
    cx, cy = rng.uniform(0, w), rng.uniform(0, h)
    size = math.exp(rng.uniform(math.log(4), math.log(40)))
    colour = _contrasting_colour(rng, img, cx, cy)
    kind = rng.integers(3)
    if kind == 0:
        cv2.circle(img, _fix((cx, cy)), int(size / 2 * (1 << _SUBPIXEL)), colour, 1, cv2.LINE_AA, _SUBPIXEL)
    elif kind == 1:
        axes = (int(size / 2 * 16), int(size / 2 / rng.uniform(3, 6) * 16))
        cv2.ellipse(img, _fix((cx, cy)), axes, float(rng.uniform(0, 180)), 0, 360, colour, -1, cv2.LINE_AA, _SUBPIXEL)
    else:
        d = _rotate(np.array([[size / 2, 0.0]]), rng.uniform(0, math.pi))[0]
        cv2.line(img, _fix((cx - d[0], cy - d[1])), _fix((cx + d[0], cy + d[1])), colour, 2, cv2.LINE_AA, _SUBPIXEL)


def _box_iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    if len(boxes) == 0:
        return np.zeros(0)
    lt = np.maximum(box[:2], boxes[:, :2])
    rb = np.minimum(box[2:], boxes[:, 2:])
    inter = np.prod(np.clip(rb - lt, 0, None), axis=1)
    area = lambda b: (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])  # noqa: E731
    return inter / (area(box) + area(boxes) - inter)


def render_image(rng: np.random.Generator, width: int, height: int, density: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One scene. Returns (BGR image uint8 [H, W, 3], boxes float64 [N, 4] xyxy pixels, classes int64 [N])."""
    img = _background(rng, width, height)
    megapixels = width * height / 1e6
    for _ in range(rng.poisson(density * megapixels * 0.6)):
        _draw_distractor(rng, img)
    n_objects = max(1, rng.poisson(density * megapixels))
    boxes, classes = [], []
    for _ in range(n_objects * 3):  # rejection sampling: a few tries per object
        if len(boxes) == n_objects:
            break
        size = math.exp(rng.uniform(math.log(4), math.log(32))) if rng.random() > 0.1 else rng.uniform(32, 56)
        cls = int(rng.integers(len(CLASS_NAMES)))
        angle = float(rng.uniform(0, 2 * math.pi))
        margin = size / 2 + 1
        cx, cy = rng.uniform(margin, width - margin), rng.uniform(margin, height - margin)
        poly = _class_polygon(cls, size, angle)
        if poly is None:
            box = np.array([cx - size / 2, cy - size / 2, cx + size / 2, cy + size / 2])
        else:
            poly = poly + [cx, cy]
            box = np.concatenate([poly.min(0), poly.max(0)])
        if boxes and _box_iou(box, np.array(boxes)).max() >= 0.3:
            continue
        colour = _contrasting_colour(rng, img, cx, cy)
        if poly is None:
            cv2.circle(img, _fix((cx, cy)), int(size / 2 * (1 << _SUBPIXEL)), colour, -1, cv2.LINE_AA, _SUBPIXEL)
        else:
            pts = np.round(poly * (1 << _SUBPIXEL)).astype(np.int32)
            cv2.fillPoly(img, [pts], colour, cv2.LINE_AA, _SUBPIXEL)
        boxes.append(box)
        classes.append(cls)
    img = cv2.GaussianBlur(img, (3, 3), 0.6)
    return img, np.array(boxes, np.float64).reshape(-1, 4), np.array(classes, np.int64)


# ------------------------------------------------------------------------------------------------------------------
# Writing a dataset
# ------------------------------------------------------------------------------------------------------------------
def _yolo_lines(boxes: np.ndarray, classes: np.ndarray, width: int, height: int) -> str:
    lines = []
    for (x1, y1, x2, y2), c in zip(boxes, classes):
        cx, cy = (x1 + x2) / 2 / width, (y1 + y2) / 2 / height
        lines.append(f"{c} {cx:.6f} {cy:.6f} {(x2 - x1) / width:.6f} {(y2 - y1) / height:.6f}")
    return "\n".join(lines) + ("\n" if lines else "")


def _write_split(root: Path, split: str, count: int, spec: SynthSpec, progress) -> None:
    (root / "images" / split).mkdir(parents=True)
    (root / "labels" / split).mkdir(parents=True)
    w, h = spec.size
    for i in range(count):
        rng = np.random.default_rng([spec.seed, _SPLIT_IDS[split], i])
        img, boxes, classes = render_image(rng, w, h, spec.objects_per_megapixel)
        stem = f"{split}_{i:06d}"
        ok = cv2.imwrite(str(root / "images" / split / f"{stem}.jpg"), img, [cv2.IMWRITE_JPEG_QUALITY, spec.jpeg_quality])
        if not ok:
            raise TinydetError(f"could not write image {root / 'images' / split / stem}.jpg")
        (root / "labels" / split / f"{stem}.txt").write_text(_yolo_lines(boxes, classes, w, h))
        progress.update(1)


def make_synthetic_dataset(out: str | Path, spec: SynthSpec = SynthSpec(), quiet: bool = False) -> Path:
    """Write a YOLO-layout dataset to `out` and return the path of its data.yaml.

    The folder is built in a temporary sibling and renamed into place, so an interrupted run leaves nothing
    half-written. If `out` already holds a dataset made with the same spec it is reused as is; any other
    existing, non-empty `out` is an error (tinydet never writes over a user's files).
    """
    out = Path(out).resolve()
    manifest = {"generator": "tinydet.synth", "version": 1, **asdict(spec), "size": list(spec.size)}
    if out.exists() and any(out.iterdir()):
        try:
            existing = json.loads((out / "synth.json").read_text())
        except (OSError, ValueError):
            existing = None
        if existing == manifest and (out / "data.yaml").is_file():
            return out / "data.yaml"
        raise TinydetError(f"{out} exists and is not empty; choose a new folder for the synthetic dataset")
    with new_folder(out) as tmp:
        total = spec.images + spec.n_val
        with tqdm(total=total, desc="synth", unit="img", disable=quiet) as progress:
            _write_split(tmp, "train", spec.images, spec, progress)
            _write_split(tmp, "val", spec.n_val, spec, progress)
        data = {"train": "images/train", "val": "images/val", "names": dict(enumerate(CLASS_NAMES))}
        (tmp / "data.yaml").write_text(
            "# tinydet synthetic small-object dataset (dataset root = this folder)\n" + yaml.safe_dump(data, sort_keys=False)
        )
        (tmp / "synth.json").write_text(json.dumps(manifest, indent=1) + "\n")
    return out / "data.yaml"
