"""Turning a SOURCE argument (image or video file, folder, glob) into the frames to predict.

`list_sources` gives the sorted files; `frames` turns one file into `Frame`s: one for an image, one per decoded
frame for a video (read one at a time, never all at once).
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2

from tinydet.data.datayaml import IMAGE_SUFFIXES
from tinydet.errors import TinydetError
from tinydet.infer.output_names import DRAWN_MARK

VIDEO_SUFFIXES = frozenset({".asf", ".avi", ".gif", ".m4v", ".mkv", ".mov", ".mp4", ".mpeg", ".mpg", ".ts", ".webm", ".wmv"})
_KNOWN = IMAGE_SUFFIXES | VIDEO_SUFFIXES


def is_video(path: Path) -> bool:
    return path.suffix.lower() in VIDEO_SUFFIXES


def list_sources(source: str | Path) -> list[Path]:
    """Image and video files named by `source`: one file, everything under a folder (recursive; hidden folders
    and the drawn outputs of earlier predict runs below it skipped), or a glob pattern (quote it in the shell)."""
    text = str(source)
    path = Path(text).expanduser()
    if path.is_file():
        if path.suffix.lower() not in _KNOWN:
            kinds = ", ".join(sorted(_KNOWN))
            raise TinydetError(f"{path} is neither an image nor a video (supported: {kinds})")
        return [path]
    if path.is_dir():
        drawn = {mark.parent for mark in path.rglob(DRAWN_MARK)} - {path}
        found = sorted(
            p for p in path.rglob("*")
            if p.suffix.lower() in _KNOWN and p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
            and drawn.isdisjoint(p.parents)
        )
    elif any(ch in text for ch in "*?["):
        found = sorted(Path(p) for p in glob.glob(text, recursive=True) if Path(p).suffix.lower() in _KNOWN)
    else:
        raise TinydetError(f"source not found: {text}")
    if not found:
        raise TinydetError(f"no images or videos found in {text}")
    return found


def list_images(source: str | Path) -> list[Path]:
    """Image files only (see `list_sources`)."""
    images = [p for p in list_sources(source) if not is_video(p)]
    if not images:
        raise TinydetError(f"no images found in {source}")
    return images


@dataclass
class Frame:
    """One thing to predict: `name` identifies it in outputs (file name, or `<video stem>_<frame>` for video
    frames), `path` is its file, `index` the frame number (None for an image), `pixels` the decoded BGR frame
    (None for an image file, which the predictor reads itself)."""

    name: str
    path: Path
    index: int | None = None
    pixels: object = None


def frame_count(path: Path) -> int | None:
    """Frames in a video as its container reports them (None when unknown); 1 for an image."""
    if not is_video(path):
        return 1

    capture = cv2.VideoCapture(str(path))
    try:
        n = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
    finally:
        capture.release()
    return n if n > 0 else None


def frames(path: Path) -> Iterator[Frame]:
    """The frames of one source file, decoded one at a time."""
    if not is_video(path):
        yield Frame(path.name, path)
        return

    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise TinydetError(f"{path}: cannot open video (corrupt file or codec not supported by OpenCV)")
    try:
        index = 0
        while True:
            ok, pixels = capture.read()
            if not ok:
                break
            yield Frame(f"{path.stem}_{index:06d}", path, index, pixels)
            index += 1
        if index == 0:
            raise TinydetError(f"{path}: no frame could be decoded")
    finally:
        capture.release()


def video_fps(path: Path) -> float:
    capture = cv2.VideoCapture(str(path))
    try:
        fps = capture.get(cv2.CAP_PROP_FPS)
    finally:
        capture.release()
    return fps if fps and fps > 0 else 25.0


def source_key(path: Path, root: Path | None) -> str:
    """The name a source's outputs are derived from: its path relative to `root` ('sub/a.jpg'), else its name."""
    return path.relative_to(root).as_posix() if root is not None else path.name


def source_root(source: str | Path, files: list[Path]) -> Path | None:
    """The folder outputs are named relative to: SOURCE itself when a folder, else the files' common folder."""
    path = Path(str(source)).expanduser()
    if path.is_dir():
        return path
    if len(files) == 1:
        return files[0].parent

    return Path(os.path.commonpath([str(f.parent) for f in files]))
