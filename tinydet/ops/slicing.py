"""Slicing geometry: the grid of overlapping tiles that covers an image. Pure functions, no I/O."""

from __future__ import annotations

import math

import numpy as np

# Tiles per image grow as 1 / (1 - overlap)^2: 0.9 already makes about 100 times the tiles of no overlap.
MAX_OVERLAP = 0.9


def overlap_problem(overlap: float) -> str | None:
    """Why `overlap` is no sensible tile overlap (fraction of a tile shared with its neighbour), or None."""
    if not 0 <= overlap <= MAX_OVERLAP:
        return f"--overlap must be in [0, {MAX_OVERLAP}], got {overlap} (tiles per image grow as 1/(1-overlap)^2)"
    return None


def tile_starts(length: int, tile: int, overlap: float) -> np.ndarray:
    """Start offsets (px) of tiles of size `tile` covering [0, length) with fractional `overlap` between neighbours.

    Tiles step by `tile - round(tile * overlap)`; the last tile is shifted back to end exactly at `length`
    (so every tile lies inside the image and has full size). A length no larger than a tile gives one tile at 0.
    """
    if tile < 1:
        raise ValueError(f"tile size must be at least 1 px, got {tile}")
    if not 0 <= overlap < 1:
        raise ValueError(f"overlap must be in [0, 1), got {overlap}")
    if length <= tile:
        return np.zeros(1, np.int64)
    step = max(1, tile - int(round(tile * overlap)))
    n = math.ceil((length - tile) / step) + 1
    starts = np.arange(n, dtype=np.int64) * step
    starts[-1] = length - tile
    return np.unique(starts)


def tile_grid(width: int, height: int, tile_w: int, tile_h: int, overlap_w: float, overlap_h: float | None = None) -> np.ndarray:
    """Tiles covering a `width` x `height` image, as int64 [T, 4] boxes (x1, y1, x2, y2) in pixels, row-major.

    Tiles are clipped to the image when it is smaller than a tile, so x2 - x1 = min(tile_w, width).
    """
    overlap_h = overlap_w if overlap_h is None else overlap_h
    xs, ys = tile_starts(width, tile_w, overlap_w), tile_starts(height, tile_h, overlap_h)
    x1, y1 = np.meshgrid(xs, ys)
    x1, y1 = x1.reshape(-1), y1.reshape(-1)
    return np.stack([x1, y1, np.minimum(x1 + tile_w, width), np.minimum(y1 + tile_h, height)], axis=1)
