"""Plots of an `Analysis` as PNG files: box-size histogram with the bucket boundaries, box-centre heatmap,
instances per class. Matplotlib (Agg backend) is imported only here."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from tinydet.data.analysis import Analysis, BoxTable
from tinydet.data.datayaml import IMAGE_SUFFIXES
from tinydet.data.sizes import AITOD_EDGES, COCO_EDGES
from tinydet.errors import TinydetError


def _figure():
    import matplotlib  # heavy (0.3 s): only where a plot is drawn

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt  # heavy (0.3 s): only where a plot is drawn

    return plt


def _save(plt, fig, path: Path) -> Path:
    """Save atomically: a temporary file in the same folder, then renamed."""
    tmp = path.with_name(f".{path.stem}.tmp{path.suffix}")
    fig.tight_layout()
    fig.savefig(tmp)
    plt.close(fig)
    os.replace(tmp, path)
    return path


def plot_sizes(table: BoxTable, imgsz: int, path: Path) -> Path:
    """Histogram of sqrt(box area) in native pixels and at imgsz (log x), with AI-TOD and COCO boundaries."""
    plt = _figure()
    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=100)
    native = np.sqrt(table.w * table.h)
    resized = native * imgsz / table.long_side if len(table) else native
    values = np.concatenate([native, resized]) if len(table) else np.array([1.0])
    bins = np.geomspace(max(0.5, values.min() * 0.9), max(2.0, values.max() * 1.1), 60)
    ax.hist(native, bins=bins, alpha=0.6, label="native resolution")
    ax.hist(resized, bins=bins, histtype="step", lw=1.5, color="tab:orange", label=f"at imgsz {imgsz}")
    ax.set_xscale("log")
    for edge in AITOD_EDGES:
        ax.axvline(edge, color="tab:red", ls="--", lw=1)
    for edge in COCO_EDGES:
        ax.axvline(edge, color="black", ls=":", lw=1.2)
    ax.set_xlabel("sqrt(box area) [px]   (red dashed: AI-TOD 8/16/32/64; black dotted: COCO 32/96)")
    ax.set_ylabel("boxes")
    ax.set_title(f"Box sizes ({len(table)} boxes)")
    ax.legend()
    return _save(plt, fig, path)


def plot_centres(table: BoxTable, path: Path, bins: int = 50) -> Path:
    """2-D histogram of box centres, normalised image coordinates (y down, like the images)."""
    plt = _figure()
    fig, ax = plt.subplots(figsize=(5.5, 5), dpi=100)
    grid, _, _ = np.histogram2d(table.cy, table.cx, bins=bins, range=[[0, 1], [0, 1]])
    shown = ax.imshow(grid, extent=(0, 1, 1, 0), cmap="viridis", aspect="auto")
    fig.colorbar(shown, ax=ax, label="boxes")
    ax.set_xlabel("centre x / width")
    ax.set_ylabel("centre y / height")
    ax.set_title("Box centres")
    return _save(plt, fig, path)


def plot_classes(per_class: dict[str, int], path: Path) -> Path:
    """Bar chart of instances per class."""
    plt = _figure()
    names = list(per_class)
    fig, ax = plt.subplots(figsize=(max(5, 0.5 * len(names) + 2), 4), dpi=100)
    ax.bar(range(len(names)), [per_class[n] for n in names], color="tab:blue")
    tilt = len(names) > 6
    ax.set_xticks(range(len(names)), names, rotation=45 if tilt else 0, ha="right" if tilt else "center")
    ax.set_ylabel("instances")
    ax.set_title("Instances per class")
    return _save(plt, fig, path)


PLOT_NAMES = ("sizes.png", "centres.png", "classes.png")


def check_plots_folder(out_dir: str | Path) -> None:
    """Raise TinydetError unless `out_dir` is new or a folder without the plots' names and without other images (an
    image folder of a dataset would train on the plots)."""
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise TinydetError(f"--plots {out_dir} is a file; give a folder")
    if not out.exists():
        return
    existing = [n for n in PLOT_NAMES if (out / n).exists()]
    if existing:
        raise TinydetError(f"{out / existing[0]} already exists; choose a new --plots folder")
    images = sorted(p.name for p in out.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if images:
        raise TinydetError(f"--plots {out_dir} holds images ({images[0]}, ...): a dataset's images would gain the "
                           "plots; choose a new folder")


def write_plots(analysis: Analysis, out_dir: str | Path) -> list[Path]:
    """Write sizes.png, centres.png and classes.png into `out_dir` (created if missing; see `check_plots_folder`)."""
    check_plots_folder(out_dir)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if analysis.table is None:
        raise TinydetError("this Analysis has no box table (it was loaded from JSON?); run analyze again")
    return [
        plot_sizes(analysis.table, analysis.imgsz, out / PLOT_NAMES[0]),
        plot_centres(analysis.table, out / PLOT_NAMES[1]),
        plot_classes(analysis.per_class, out / PLOT_NAMES[2]),
    ]
