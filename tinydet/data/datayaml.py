"""Reading an ultralytics `data.yaml` with errors a user can act on.

Ultralytics' own checks raise deep inside training (and may try to download a dataset named in the file);
tinydet reads the file first and stops with one line naming the file and the problem.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from tinydet.errors import DataError

# Exactly the image formats ultralytics 8.4.190 lists (ultralytics.data.utils.IMG_FORMATS; a test checks): a file
# it skips must not be counted by tinydet either. Compared case-insensitively.
IMAGE_SUFFIXES = frozenset(
    {".avif", ".bmp", ".dng", ".heic", ".heif", ".jp2", ".jpeg", ".jpg", ".mpo", ".png", ".tif", ".tiff", ".webp"}
)


@dataclass
class DataConfig:
    """A parsed data.yaml. Split entries resolve to absolute paths (folders, or .txt lists of image paths)."""

    yaml_path: Path
    root: Path
    names: list[str]
    splits: dict[str, list[Path]]
    kpt_shape: list[int] | None = None
    raw: dict = field(default_factory=dict)

    @property
    def nc(self) -> int:
        return len(self.names)


def _names(raw: dict, path: Path) -> list[str]:
    names = raw.get("names")
    if isinstance(names, dict):
        try:
            keys = sorted(int(k) for k in names)
        except (TypeError, ValueError):
            raise DataError("'names' keys must be class ids 0, 1, 2, ...", path) from None
        if keys != list(range(len(keys))):
            raise DataError(f"'names' keys must be 0..{len(keys) - 1} without gaps, got {keys}", path)
        return [str(names[k] if k in names else names[str(k)]) for k in keys]
    if isinstance(names, list) and names:
        return [str(n) for n in names]
    if names is None and isinstance(raw.get("nc"), int):
        return [str(i) for i in range(raw["nc"])]
    raise DataError("missing 'names' (a list or a {id: name} mapping of the classes)", path)


def load_data_yaml(path: str | Path, required_splits: tuple[str, ...] = ("train", "val")) -> DataConfig:
    """Parse and check a data.yaml: it exists, parses, names classes, and its splits exist on disk."""
    path = Path(path).expanduser()
    if path.is_dir() and (path / "data.yaml").is_file():
        path = path / "data.yaml"
    if not path.is_file():
        raise DataError("data file not found", path)
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as e:
        line = getattr(getattr(e, "problem_mark", None), "line", None)
        raise DataError(f"not valid YAML: {getattr(e, 'problem', e)}", path, None if line is None else line + 1) from None
    except UnicodeDecodeError:
        raise DataError("not a text file", path) from None
    if not isinstance(raw, dict):
        raise DataError("expected a mapping with train, val and names", path)
    names = _names(raw, path)
    if isinstance(raw.get("nc"), int) and raw["nc"] != len(names):
        raise DataError(f"'nc' is {raw['nc']} but 'names' lists {len(names)} classes", path)
    path = path.resolve()
    root = Path(str(raw["path"])).expanduser() if raw.get("path") else path.parent
    if not root.is_absolute():
        root = (path.parent / root).resolve()
    if not root.is_dir():
        raise DataError(f"dataset root '{root}' (from 'path') is not a folder", path)
    splits: dict[str, list[Path]] = {}
    for split in ("train", "val", "test"):
        entry = raw.get(split)
        if entry is None:
            if split in required_splits:
                raise DataError(f"missing '{split}' entry", path)
            continue
        entries = entry if isinstance(entry, list) else [entry]
        resolved = []
        for e in entries:
            p = Path(str(e))
            p = p if p.is_absolute() else (root / p)
            if not p.exists():
                raise DataError(f"'{split}' points to '{p}', which does not exist", path)
            resolved.append(p.resolve())
        splits[split] = resolved
    kpt_shape = raw.get("kpt_shape")
    return DataConfig(path.resolve(), root.resolve(), names, splits, kpt_shape, raw)


def label_path_for(image: Path) -> Path:
    """Ultralytics' convention: .../images/x.jpg -> .../labels/x.txt (the last 'images' folder is swapped)."""
    text = os.fspath(image)
    head, sep, tail = text.rpartition(f"{os.sep}images{os.sep}")
    if sep:  # the common case, as string operations (this runs once per image)
        return Path(os.path.splitext(f"{head}{os.sep}labels{os.sep}{tail}")[0] + ".txt")
    parts = list(Path(image).parts)
    for i in range(len(parts) - 1, -1, -1):
        if parts[i] == "images":
            parts[i] = "labels"
            return Path(*parts).with_suffix(".txt")
    return image.with_suffix(".txt")


def listed_images(list_file: Path) -> list[tuple[Path, int]]:
    """(image path, 1-based line) of each image a .txt split list names. As ultralytics reads these lists: './x' is
    relative to the list's folder, other paths as written; blank lines and '#' comments are skipped."""
    found = []
    for number, line in enumerate(list_file.read_text().splitlines(), 1):
        line = line.strip()
        if line and not line.startswith("#"):
            found.append(((list_file.parent / line[2:]) if line.startswith("./") else Path(line), number))
    return found


def list_origins(entries: list[Path]) -> dict[Path, tuple[Path, int]]:
    """{absolute image path: (list file, line)} for the images a split's .txt lists name (first mention wins)."""
    origins: dict[Path, tuple[Path, int]] = {}
    for entry in entries:
        if entry.suffix == ".txt" and entry.is_file():
            for image, number in listed_images(entry):
                origins.setdefault(image.absolute(), (entry, number))
    return origins


def split_images(entries: list[Path]) -> list[Path]:
    """Image files of a split: folders are listed (recursively, sorted), .txt files read as lists of paths."""
    images: list[Path] = []
    for entry in entries:
        if entry.is_dir():
            images.extend(sorted(p for p in entry.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES))
        elif entry.suffix == ".txt":
            images.extend(image for image, _ in listed_images(entry))
        elif entry.suffix.lower() in IMAGE_SUFFIXES:
            images.append(entry)
        else:
            raise DataError("split entry is neither a folder, an image nor a .txt list of images", entry)
    return images
