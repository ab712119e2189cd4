"""Tiling a dataset for sliced training: every image cut into overlapping tiles (tinydet.ops.slicing grid).

A box cut by a tile border is clipped to the tile and kept when at least `min_visibility` of its area lies in
the tile. Tiles left without boxes are "empty": `empty_ratio` of them (chosen per split by a seeded random
draw, so the same options give the same tiles) are kept as background. The output is a YOLO dataset with its
own data.yaml and a manifest.json that maps every tile to its source image and offset. Tiles are written
losslessly (PNG) by default, so pasting them back at their offsets gives the source pixels exactly.
Ignore regions are not carried over (YOLO has none).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path, PurePath

import numpy as np

from tinydet.data.dataset import Dataset, ImageLabels
from tinydet.data.formats.common import progress, relative_paths
from tinydet.data.formats.yolo import label_lines, write_data_yaml
from tinydet.data.images import load_pixels, save_pixels
from tinydet.data.outdir import new_folder
from tinydet.errors import DataError, TinydetError
from tinydet.ops.slicing import overlap_problem, tile_grid

MANIFEST = "manifest.json"


@dataclass(frozen=True)
class SliceOptions:
    """How to tile.

    Attributes:
        size: tile width and height in source pixels (tiles of images smaller than this are the whole image).
        overlap: fraction of a tile shared with its neighbour, in [0, 1).
        min_visibility: keep a clipped box if at least this fraction of its area is inside the tile.
        empty_ratio: fraction of the tiles without boxes to keep, in [0, 1].
        seed: seed of the draw of the empty tiles kept.
        tile_format: 'png' (lossless) or 'jpg' (smaller, lossy).
    """

    size: int
    overlap: float = 0.2
    min_visibility: float = 0.25
    empty_ratio: float = 0.1
    seed: int = 0
    tile_format: str = "png"

    def __post_init__(self) -> None:
        if self.size < 32:
            raise TinydetError(f"--size must be at least 32 px, got {self.size}")
        if overlap_problem(self.overlap):
            raise TinydetError(overlap_problem(self.overlap))
        if not 0 < self.min_visibility <= 1:
            raise TinydetError(f"--min-visibility must be in (0, 1], got {self.min_visibility}")
        if not 0 <= self.empty_ratio <= 1:
            raise TinydetError(f"--empty-ratio must be in [0, 1], got {self.empty_ratio}")
        if self.tile_format not in ("png", "jpg"):
            raise TinydetError(f"tile format must be png or jpg, got '{self.tile_format}'")


def cut_boxes(boxes: np.ndarray, tile: np.ndarray, min_visibility: float) -> tuple[np.ndarray, np.ndarray]:
    """Boxes as seen by one tile.

    Args:
        boxes: float [N, 4] xyxy in source pixels.
        tile: [4] x1, y1, x2, y2 of the tile in source pixels.
        min_visibility: minimum fraction of a box's area inside the tile.

    Returns:
        (keep bool [N], clipped float64 [N, 4] xyxy in tile pixels; only rows where keep is True are meaningful).
    """
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    x1, y1, x2, y2 = (float(v) for v in tile)
    clipped = np.stack([np.clip(boxes[:, 0], x1, x2), np.clip(boxes[:, 1], y1, y2),
                        np.clip(boxes[:, 2], x1, x2), np.clip(boxes[:, 3], y1, y2)], axis=1)
    inside = (clipped[:, 2] - clipped[:, 0]) * (clipped[:, 3] - clipped[:, 1])
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    keep = (inside > 0) & (inside >= min_visibility * area - 1e-9 * area)
    return keep, clipped - np.array([x1, y1, x1, y1])


def tile_keypoints(keypoints: np.ndarray, tile: np.ndarray) -> np.ndarray:
    """Keypoints float [N, K, 3] (x, y px, visibility) -> tile pixels; points outside the tile become (0, 0, 0)."""
    x1, y1, x2, y2 = (float(v) for v in tile)
    out = keypoints.copy()
    out[..., 0] -= x1
    out[..., 1] -= y1
    outside = (keypoints[..., 0] < x1) | (keypoints[..., 0] > x2) | (keypoints[..., 1] < y1) | (keypoints[..., 1] > y2)
    out[outside] = 0.0
    return out


@dataclass
class Tile:
    """One planned tile: where it is in its source image and the labels it gets (tile pixels)."""

    image: ImageLabels
    x: int
    y: int
    width: int
    height: int
    boxes: np.ndarray
    classes: np.ndarray
    keypoints: np.ndarray | None
    cut: int  # boxes that touch the tile but were dropped (too little visible)


def plan_tiles(im: ImageLabels, opts: SliceOptions) -> list[Tile]:
    """The tiles of one image with their labels (no pixels read). Ignore regions are left out."""
    labels = im.subset(~im.ignore_mask)
    tiles = []
    for t in tile_grid(im.width, im.height, opts.size, opts.size, opts.overlap):
        keep, clipped = cut_boxes(labels.boxes, t, opts.min_visibility)
        touching = cut_boxes(labels.boxes, t, 1e-12)[0]
        kps = None if labels.keypoints is None else tile_keypoints(labels.keypoints[keep], t)
        tiles.append(Tile(im, int(t[0]), int(t[1]), int(t[2] - t[0]), int(t[3] - t[1]), clipped[keep],
                          labels.classes[keep], kps, int((touching & ~keep).sum())))
    return tiles


def choose_empty(count: int, ratio: float, rng: np.random.Generator) -> np.ndarray:
    """bool [count]: which of `count` empty tiles to keep (round(ratio * count) of them, drawn by `rng`)."""
    keep = np.zeros(count, bool)
    keep[rng.choice(count, size=int(round(ratio * count)), replace=False)] = True
    return keep


def reassemble(tiles: list[tuple[np.ndarray, int, int]], width: int, height: int) -> np.ndarray:
    """Paste tiles (pixels [h, w, ...], x, y) into a `width` x `height` canvas (zeros where no tile lies)."""
    first = tiles[0][0]
    canvas = np.zeros((height, width) + first.shape[2:], first.dtype)
    for pixels, x, y in tiles:
        canvas[y : y + pixels.shape[0], x : x + pixels.shape[1]] = pixels
    return canvas


def _tile_name(rel: PurePath, tile: Tile, suffix: str) -> PurePath:
    return rel.with_name(f"{rel.stem}_x{tile.x}_y{tile.y}.{suffix}")


def slice_dataset(dataset: Dataset, out: str | Path, opts: SliceOptions) -> Path:
    """Write the tiles of every split of `dataset` as a YOLO dataset in the new folder `out`.

    Returns the path of the new data.yaml. The manifest (manifest.json) lists, per tile: split, tile image path
    (relative to `out`), source image, x, y (offset of the tile in the source, px), width, height, boxes.
    """
    stats = {"tiles": 0, "empty_kept": 0, "empty_dropped": 0, "box_pieces": 0, "box_pieces_dropped": 0,
             "ignore_regions_dropped": 0}
    records = []
    kdim = dataset.kpt_shape[1] if dataset.kpt_shape else 3
    with new_folder(out, dataset) as tmp:
        for split_no, (split, images) in enumerate(dataset.splits.items()):
            planned = [plan_tiles(im, opts) for im in images]
            empty = [t for tiles in planned for t in tiles if len(t.boxes) == 0]
            kept_empty = choose_empty(len(empty), opts.empty_ratio, np.random.default_rng([opts.seed, split_no]))
            keep_ids = {id(t) for t, k in zip(empty, kept_empty) if k}
            stats["empty_kept"] += int(kept_empty.sum())
            stats["empty_dropped"] += int((~kept_empty).sum())
            rels = relative_paths([im.file for im in images])
            for im, rel, tiles in progress(zip(images, rels, planned), f"slice {split}", total=len(images)):
                stats["ignore_regions_dropped"] += int(im.ignore_mask.sum())
                stats["box_pieces_dropped"] += sum(t.cut for t in tiles)
                chosen = [t for t in tiles if len(t.boxes) or id(t) in keep_ids]
                if not chosen:
                    continue
                pixels = load_pixels(im.file)
                if pixels.shape[:2] != (im.height, im.width):
                    raise DataError(f"decoded as {pixels.shape[1]}x{pixels.shape[0]} px, but its size was read as "
                                    f"{im.width}x{im.height}", im.file)
                for t in chosen:
                    name = _tile_name(rel, t, opts.tile_format)
                    image_path = tmp / "images" / split / name
                    image_path.parent.mkdir(parents=True, exist_ok=True)
                    save_pixels(pixels[t.y : t.y + t.height, t.x : t.x + t.width], image_path)
                    label_path = tmp / "labels" / split / name.with_suffix(".txt")
                    label_path.parent.mkdir(parents=True, exist_ok=True)
                    label_path.write_text(label_lines(t.boxes, t.classes, t.width, t.height, t.keypoints, kdim))
                    records.append({"split": split, "tile": f"images/{split}/{name.as_posix()}",
                                    "source": str(im.file), "x": t.x, "y": t.y, "width": t.width,
                                    "height": t.height, "source_width": im.width, "source_height": im.height,
                                    "boxes": len(t.boxes)})
                    stats["tiles"] += 1
                    stats["box_pieces"] += len(t.boxes)
        write_data_yaml(tmp, dataset.names, list(dataset.splits), dataset.kpt_shape, dataset.flip_idx,
                        comment=f"Tiles of {dataset.source} made by tinydet slice "
                                f"(size {opts.size}, overlap {opts.overlap}); see {MANIFEST}")
        manifest = {"source": None if dataset.source is None else str(dataset.source), "options": asdict(opts),
                    "stats": stats, "tiles": records}
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")
    return Path(out).expanduser().absolute() / "data.yaml"
