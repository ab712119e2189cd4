"""Geometry of test-time augmentation: where boxes found on a flipped or rescaled image lie on the original.

Pure functions on numpy arrays, no I/O. Boxes are `xyxy float [N, 4]` in absolute pixels. Pixel edges are the
coordinates (a pixel column c spans [c, c + 1)), so a horizontal flip of an image `width` pixels wide maps
x to `width - x`, and a resize from (w, h) to (w', h') maps x to `x * w' / w`, y to `y * h' / h`: both are
exact inverses of each other (up to float rounding), whatever the interpolation used on the pixels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


def hflip_boxes(xyxy: np.ndarray, width: float) -> np.ndarray:
    """Boxes of an image mirrored left-right: `[N, 4]` -> `[N, 4]` (x1' = width - x2, x2' = width - x1).

    Its own inverse: `hflip_boxes(hflip_boxes(b, w), w) == b`.
    """
    xyxy = np.asarray(xyxy)
    out = xyxy.copy()
    out[:, 0] = width - xyxy[:, 2]
    out[:, 2] = width - xyxy[:, 0]
    return out


def scale_boxes(xyxy: np.ndarray, sx: float, sy: float) -> np.ndarray:
    """Boxes multiplied by (sx, sy) along x and y: `[N, 4]` -> `[N, 4]` (the image resized by those factors)."""
    xyxy = np.asarray(xyxy)
    return xyxy * np.array([sx, sy, sx, sy], dtype=np.result_type(xyxy.dtype, np.float32))


def scaled_size(width: int, height: int, scale: float) -> tuple[int, int]:
    """(width, height) of an image resized by `scale`, rounded half up to whole pixels, at least 1x1."""
    return max(1, math.floor(width * scale + 0.5)), max(1, math.floor(height * scale + 0.5))


@dataclass(frozen=True)
class Augment:
    """One test-time view of an image: resized by `scale`, then mirrored left-right when `flip`."""

    flip: bool = False
    scale: float = 1.0

    def __post_init__(self) -> None:
        if not self.scale > 0:
            raise ValueError(f"a TTA scale must be positive, got {self.scale}")

    @property
    def identity(self) -> bool:
        return not self.flip and self.scale == 1.0

    def size(self, width: int, height: int) -> tuple[int, int]:
        """(width, height) of the augmented image of an image of (width, height)."""
        return scaled_size(width, height, self.scale)

    def forward(self, xyxy: np.ndarray, width: int, height: int) -> np.ndarray:
        """Boxes of the original image (width x height) -> the same boxes on the augmented image."""
        w, h = self.size(width, height)
        out = scale_boxes(xyxy, w / width, h / height)
        return hflip_boxes(out, w) if self.flip else out

    def inverse(self, xyxy: np.ndarray, width: int, height: int) -> np.ndarray:
        """Boxes found on the augmented image -> the original image's pixels (width x height are the original's).

        Uses the factors of the rounded size actually predicted, so `inverse(forward(b)) == b` up to rounding.
        """
        w, h = self.size(width, height)
        out = hflip_boxes(xyxy, w) if self.flip else np.asarray(xyxy)
        return scale_boxes(out, width / w, height / h)


def tta_views(flip: bool, scales: tuple[float, ...] | list[float]) -> list[Augment]:
    """Every combination of the scales with (flip: and without) a horizontal flip, the identity view first."""
    scales = list(dict.fromkeys(float(s) for s in scales)) or [1.0]
    views = [Augment(f, s) for s in scales for f in ((False, True) if flip else (False,))]
    views.sort(key=lambda v: not v.identity)  # stable: otherwise in the order given
    return views
