"""Writing a new output folder atomically, and never into the user's data.

Outputs are built in a temporary sibling folder and renamed into place at the end, so an interrupted run
leaves nothing half-written; an existing non-empty folder is refused, and so is a folder inside the dataset's
own image or label folders (the new files would then become part of the dataset).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from tinydet.data.dataset import Dataset
from tinydet.errors import TinydetError


def check_new_folder(out: str | Path, dataset: Dataset | None = None) -> Path:
    """The absolute output path, after checking that it is new (or empty) and outside the dataset's folders."""
    out = Path(out).expanduser().absolute()
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise TinydetError(f"{out} exists and is not empty; choose a new folder (tinydet never writes over files)")
    if dataset is not None:
        folders = {im.file.parent for im in dataset.images()} | {
            im.label_file.parent for im in dataset.images() if im.label_file is not None}
        if dataset.source is not None:  # the dataset's own folder: that of its data.yaml or JSON, where it
            source = Path(dataset.source).expanduser().absolute()  # holds images or labels (a data.yaml beside
            root = source if source.is_dir() else source.parent    # a project, naming images elsewhere, does not)
            if any(root == f or root in f.parents for f in folders):
                folders.add(root)
        for folder in sorted(folders, key=lambda f: len(f.parts)):
            if out == folder or folder in out.parents:
                raise TinydetError(f"{out} is inside the dataset's folder {folder}; choose a folder outside it")
    return out


@contextmanager
def new_folder(out: str | Path, dataset: Dataset | None = None) -> Iterator[Path]:
    """Yields a temporary folder next to `out`; on success it becomes `out`, on any error it is removed."""
    out = check_new_folder(out, dataset)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        yield tmp
        if out.exists():
            out.rmdir()  # empty (checked above)
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise

