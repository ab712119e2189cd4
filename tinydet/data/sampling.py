"""Repeat-factor sampling (Gupta, Dollar, Girshick, "LVIS: A Dataset for Large Vocabulary Instance Segmentation",
CVPR 2019, sec. 4): oversample the training images that contain rare classes, at the data level.

For each class c, f_c is the share of training images that contain it and r_c = max(1, sqrt(t / f_c)); an
image's repeat factor is the largest r_c of the classes in it (1 for an image without labels). Classes in more
than a share t of the images are not oversampled.

LVIS draws the copies anew every epoch (stochastic rounding of r). tinydet works without a sampler hook in the
trainer: it writes a training list in which image i appears floor(r_i) times, plus once more with probability
frac(r_i), drawn once per run from the run's seed (a fixed expansion). In expectation image i is seen r_i times
per epoch, exactly as with LVIS' sampler; the draw does not change between epochs. An epoch then has about
sum(r_i) images, so it takes longer; reduce `epochs` to keep the compute of a run.

ultralytics reads a .txt list of image paths and keeps duplicates (ultralytics/data/base.py `get_img_files`
collects the lines into a list). It also writes its label cache next to the first image's label folder; to keep
that cache out of the user's dataset, the list names the images through links (`images/<k>` -> an image folder,
`labels/<k>` -> its label folder) inside the new folder. Where links cannot be made the list names the
original files and ultralytics' cache goes next to the user's labels, as in ordinary training.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
from pathlib import Path

import numpy as np
import yaml

from tinydet.data.dataset import ImageLabels
from tinydet.data.datayaml import label_path_for, load_data_yaml, split_images
from tinydet.data.loading import load_dataset
from tinydet.data.outdir import check_new_folder, new_folder
from tinydet.errors import TinydetError


def image_classes(images: list[ImageLabels]) -> list[np.ndarray]:
    """The distinct classes (int64, sorted) of each image, ignore regions left out."""
    return [np.unique(im.classes[~im.ignore_mask]) for im in images]


def class_image_frequency(classes: list[np.ndarray], nc: int) -> np.ndarray:
    """f_c, float64 [nc]: the share of images that contain class c (0 for classes that never occur)."""
    if not classes:
        return np.zeros(nc)
    counts = np.zeros(nc)
    for c in classes:
        counts[c] += 1
    return counts / len(classes)


def repeat_factors(classes: list[np.ndarray], nc: int, t: float) -> np.ndarray:
    """float64 [N]: max over the image's classes of max(1, sqrt(t / f_c)); 1 for images without labels."""
    if not 0 < t <= 1:
        raise ValueError(f"t must be in (0, 1], got {t}")
    f = class_image_frequency(classes, nc)
    r_class = np.maximum(1.0, np.sqrt(t / np.where(f > 0, f, np.inf)))
    return np.array([r_class[c].max() if len(c) else 1.0 for c in classes], np.float64)


def stochastic_repeats(factors: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """int64 [N]: floor(r) plus one more with probability r - floor(r); the expectation is r."""
    factors = np.asarray(factors, np.float64)
    whole = np.floor(factors)
    return (whole + (rng.random(len(factors)) < factors - whole)).astype(np.int64)


def expanded_class_frequency(classes: list[np.ndarray], copies: np.ndarray, nc: int) -> np.ndarray:
    """f_c after repeating image i `copies[i]` times (share of list entries containing class c)."""
    total = max(int(np.sum(copies)), 1)
    counts = np.zeros(nc)
    for c, k in zip(classes, copies):
        counts[c] += k
    return counts / total


# ---------------------------------------------------------------------------------------------------------------
# Writing the training list
# ---------------------------------------------------------------------------------------------------------------
def _link(target: Path, link: Path) -> bool:
    try:
        os.symlink(target, link, target_is_directory=True)
        return True
    except (OSError, NotImplementedError):
        return False


def linked_paths(images: list[Path], root: Path) -> list[str] | None:
    """The images as seen through folder links made under `root` (`images/<k>` -> an image folder, `labels/<k>`
    -> its label folder), as paths relative to `root` ('./images/3/x.jpg'), or None where links cannot be made.
    Label folders follow ultralytics' convention (the last 'images' folder of the path becomes 'labels')."""
    folders: dict[Path, int] = {}
    for image in images:
        folders.setdefault(image.parent, len(folders))
    (root / "images").mkdir(parents=True)
    (root / "labels").mkdir()
    for folder, k in folders.items():
        labels = label_path_for(folder / "x.jpg").parent
        if not _link(folder, root / "images" / str(k)):
            return None
        if labels.is_dir():
            if not _link(labels, root / "labels" / str(k)):
                return None
        else:
            (root / "labels" / str(k)).mkdir()  # images without label files: background images
    return [f"./images/{folders[image.parent]}/{image.name}" for image in images]


def write_repeat_list(images: list[Path], copies: np.ndarray, root: Path) -> tuple[Path, bool]:
    """`root/train.txt` listing image i `copies[i]` times; returns (list path, whether it goes through links).

    Paths through links are relative to the list ('./images/...', as ultralytics reads them), so `root` can be
    renamed afterwards; without links they are the original absolute paths.
    """
    seen = linked_paths(images, root)
    if seen is None:
        shutil.rmtree(root / "images")  # removes the links made so far, never what they point to
        shutil.rmtree(root / "labels")
    names = seen if seen is not None else [str(Path(p).resolve()) for p in images]
    lines = [p for p, k in zip(names, copies) for _ in range(int(k))]
    (root / "train.txt").write_text("\n".join(lines) + "\n")
    return root / "train.txt", seen is not None


def write_list_dataset(data_yaml: str | Path, images: list[Path], copies: np.ndarray, out: str | Path, note: str,
                       table: str | None = None) -> Path:
    """Write `out` (a new folder): train.txt listing image i copies[i] times, data.yaml (train -> that list;
    val/test and everything else as in `data_yaml`) and, if given, `table` as repeat_factors.csv. Returns the
    new data.yaml."""
    config = load_data_yaml(data_yaml)
    final = Path(out).expanduser().absolute()
    with new_folder(out) as tmp:
        listed, linked = write_repeat_list(images, copies, tmp)
        raw = dict(config.raw)
        raw.update(path=str(config.root), train=str(final / listed.name))
        for split in ("val", "test"):
            if split in config.splits:
                paths = [str(p) for p in config.splits[split]]
                raw[split] = paths[0] if len(paths) == 1 else paths
        note += f"\n# {len(images)} training images -> {int(np.sum(copies))} list entries"
        note += "" if linked else " (no folder links: the list names the original files)"
        (tmp / "data.yaml").write_text(f"# Written by tinydet: {note} of {config.yaml_path}\n"
                                       + yaml.safe_dump(raw, sort_keys=False))
        if table is not None:
            (tmp / "repeat_factors.csv").write_text(table)
    return final / "data.yaml"


def view_dataset(data_yaml: str | Path, out: str | Path) -> Path:
    """The dataset with its training images listed once, through links in `out`: ultralytics then writes its
    label cache into `out`, not into the user's dataset (used by read-only commands such as augment-preview)."""
    config = load_data_yaml(data_yaml)
    images = split_images(config.splits["train"])
    return write_list_dataset(config.yaml_path, images, np.ones(len(images), np.int64), out, "training images listed once")


def repeat_factor_dataset(data_yaml: str | Path, out: str | Path, t: float, seed: int = 0) -> Path:
    """Repeat-factor sampling of `data_yaml`'s training split written to the new folder `out` (see
    `write_list_dataset`, plus repeat_factors.csv: image, classes, repeat factor, copies); returns the new
    data.yaml. The training labels are read with tinydet's loader (ignore regions do not count as classes).
    """
    check_new_folder(out)
    config = load_data_yaml(data_yaml)
    images = load_dataset(config.yaml_path, splits="train").images("train")
    if not images:
        raise TinydetError(f"{config.yaml_path}: no training images to resample")
    classes = image_classes(images)
    factors = repeat_factors(classes, config.nc, t)
    copies = stochastic_repeats(factors, np.random.default_rng(seed))
    table = io.StringIO()
    writer = csv.writer(table)
    writer.writerow(["image", "classes", "repeat_factor", "copies"])
    for im, c, r, k in zip(images, classes, factors, copies):
        writer.writerow([str(im.file), " ".join(map(str, c.tolist())), f"{r:.6f}", int(k)])
    return write_list_dataset(config.yaml_path, [im.file for im in images], copies, out,
                              f"repeat-factor sampling (t={t}, seed={seed})", table.getvalue())
