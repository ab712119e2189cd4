"""Turning a SOURCE argument (file, folder or glob) into a sorted list of image paths."""

from __future__ import annotations

import glob
from pathlib import Path

from tinydet.data.datayaml import IMAGE_SUFFIXES
from tinydet.errors import TinydetError


def list_images(source: str | Path) -> list[Path]:
    """Image files named by `source`: one file, every image under a folder (recursive), or a glob pattern."""
    text = str(source)
    path = Path(text).expanduser()
    if path.is_file():
        if path.suffix.lower() not in IMAGE_SUFFIXES:
            raise TinydetError(f"{path} is not an image (supported: {', '.join(sorted(IMAGE_SUFFIXES))})")
        return [path]
    if path.is_dir():
        found = sorted(p for p in path.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
    elif any(ch in text for ch in "*?["):
        found = sorted(Path(p) for p in glob.glob(text, recursive=True) if Path(p).suffix.lower() in IMAGE_SUFFIXES)
    else:
        raise TinydetError(f"source not found: {text}")
    if not found:
        raise TinydetError(f"no images found in {text}")
    return found
