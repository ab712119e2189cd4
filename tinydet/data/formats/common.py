"""Helpers shared by the format readers and writers: file naming, image copying, number formatting."""

from __future__ import annotations

import os
import shutil
import warnings
from pathlib import Path, PurePath

from tqdm import tqdm

from tinydet.data.dataset import ImageLabels
from tinydet.data.images import probe_image
from tinydet.data.validate import DataWarning, ProblemLog
from tinydet.errors import DataError

SPLITS = ("train", "val", "test")


def progress(items, desc: str, total: int | None = None):
    """A tqdm progress bar on stderr, shown only on a terminal."""
    return tqdm(items, desc=desc, total=total, unit="img", disable=None, leave=False)


def split_from_name(name: str) -> str:
    """'instances_val2017' -> 'val', 'VisDrone2019-DET-test-dev' -> 'test', anything else -> 'train'."""
    lowered = name.lower()
    for split in ("val", "test"):
        if split in lowered:
            return split
    return "train"


def relative_paths(files: list[Path]) -> list[PurePath]:
    """Paths of `files` relative to their deepest common folder (keeps sub-folders, avoids name clashes)."""
    if not files:
        return []
    parents = {os.fspath(f.parent) for f in files}
    common = Path(os.path.commonpath(list(parents))) if len(parents) > 1 else files[0].parent
    return [PurePath(os.path.relpath(f, common)) for f in files]


def copy_image(src: Path, dst: Path) -> None:
    """Copy an image file (a real copy: never a link, so nothing written to the copy can reach the source)."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dst)


def is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def floats(fields: list[str], log: ProblemLog, file: Path, line: int | None, context: str = "") -> list[float] | None:
    """The fields as floats, or None after logging the first one that is not a number."""
    try:
        return [float(v) for v in fields]
    except ValueError:
        bad = next(v for v in fields if not is_number(v))
        log.add("not_a_number", f"'{bad}'{context} is not a number", file, line)
        return None


def number(value: float, decimals: int = 6) -> str:
    """A pixel value as short text: '12' for integral values, else rounded to `decimals` without trailing zeros."""
    rounded = round(float(value), decimals)
    if rounded == int(rounded):
        return str(int(rounded))
    return f"{rounded:.{decimals}f}".rstrip("0").rstrip(".")


def checked_image(path: Path, log: ProblemLog, decode: bool = False) -> tuple[int, int] | None:
    """Probe an image; log what is wrong with it. Returns (width, height), or None if it cannot be used."""
    check = probe_image(path, decode)
    if check.kind is not None:
        log.add(check.kind, check.message, path, fatal=not check.ok)
    return (check.width, check.height) if check.ok else None


def warn_dropped_ignore(images: list[ImageLabels], format_name: str) -> None:
    """Writers of formats without ignore regions drop them; say how many."""
    count = sum(int(im.ignore_mask.sum()) for im in images)
    if count:
        warnings.warn(f"{count} ignore regions dropped: the {format_name} format has no ignore regions",
                      DataWarning, stacklevel=3)


def select_splits(found: dict, splits, where: Path) -> dict:
    """The entries of `found` (split -> anything) for the wanted `splits` (all when None); DataError if absent."""
    if not splits:
        return found
    missing = [s for s in splits if s not in found]
    if missing:
        raise DataError(f"no '{missing[0]}' split (has: {', '.join(found)})", where)
    return {s: found[s] for s in splits}


def read_text(path: Path, log: ProblemLog) -> str | None:
    """A label file's text (UTF-8, optional BOM), or None (logged) when it is not text."""
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        log.add("bad_file", "not a UTF-8 text file", path)
        return None


def read_names(path: Path) -> list[str]:
    """Class names, one per line (labels.txt, classes.txt)."""
    return [n.strip() for n in path.read_text().splitlines() if n.strip()]
