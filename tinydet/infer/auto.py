"""`--slice auto`: the tile size and overlap recommended by the dataset analysis.

`tinydet.data.analysis.analyze(dataset, imgsz)` gives a result whose `.recommendations` has `.slice` (an int, a
(width, height) pair, a 'WxH' string, or None when the objects are large enough not to slice) and `.overlap`.
"""

from __future__ import annotations

from pathlib import Path

from tinydet.data import load_dataset
from tinydet.data.analysis import analyze
from tinydet.errors import TinydetError


def auto_slice(data: str | Path, imgsz: int) -> tuple[tuple[int, int] | None, float]:
    """(slice (width, height) or None for no slicing, overlap) recommended for the dataset at `data`."""
    # The sizes of the good boxes are all the analysis needs: a bad label line is warned about, not fatal (predict's
    # own --skip-bad is about unreadable images to predict, so the error's hint would not apply here).
    result = analyze(load_dataset(data, skip_bad=True), imgsz)
    recommendations = result.recommendations
    return parse_slice(recommendations.slice), float(recommendations.overlap)


def parse_slice(value) -> tuple[int, int] | None:
    """640 -> (640, 640); (640, 480), [640, 480] or '640x480' -> (640, 480); None -> None."""
    if value is None:
        return None
    if isinstance(value, str):
        parts = value.lower().replace(" ", "").split("x")
        try:
            numbers = [int(p) for p in parts]
        except ValueError:
            raise TinydetError(f"slice must look like 640 or 640x480, got '{value}'") from None
    elif isinstance(value, (int, float)):
        numbers = [int(value)]
    else:
        numbers = [int(v) for v in value]
    if len(numbers) == 1:
        numbers = numbers * 2
    if len(numbers) != 2 or min(numbers) < 1:
        raise TinydetError(f"slice must look like 640 or 640x480, got '{value}'")
    return numbers[0], numbers[1]
