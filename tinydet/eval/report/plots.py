"""Figures of the report, each returned as a PNG data URI (so the page needs no other file)."""

from __future__ import annotations

import base64
import io
import math

import numpy as np

from tinydet.eval.analysis import ErrorBreakdown, SizeRecall
from tinydet.eval.params import RECALL_THRESHOLDS

ERROR_COLOURS = {"localisation": "#f2a33a", "classification": "#8e6bd6", "duplicate": "#3fa7d6",
                 "background": "#e04f5f", "missed": "#7f7f7f"}


def _pyplot():
    import matplotlib  # heavy (0.3 s): only where a plot is drawn

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt  # heavy (0.3 s): only where a plot is drawn

    return plt


def to_data_uri(fig) -> str:
    """PNG data URI of a matplotlib figure (which is closed)."""
    plt = _pyplot()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def class_mean_precision(precision: np.ndarray) -> np.ndarray | None:
    """[R] precision averaged over categories with objects, from [R, K]; None when no category has any."""
    valid = precision[0] > -1
    return precision[:, valid].mean(axis=1) if valid.any() else None


def pr_curves(runs: list[tuple[str, dict]], buckets: list[tuple[str, str]], threshold_index: int = 0) -> str:
    """One panel per bucket ('block:bucket' key, title): precision against recall at IoU 0.5, a line per run."""
    plt = _pyplot()
    cols = min(3, len(buckets))
    rows = math.ceil(len(buckets) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.4 * rows), squeeze=False)
    for ax, (key, title) in zip(axes.ravel(), buckets):
        drawn = False
        for name, curves in runs:
            if key not in curves:
                continue
            p = class_mean_precision(curves[key].precision[threshold_index])
            if p is not None:
                ax.plot(RECALL_THRESHOLDS, p, label=name)
                drawn = True
        if not drawn:
            ax.text(0.5, 0.5, "no objects of this size", ha="center", va="center", transform=ax.transAxes, color="#888")
        ax.set(title=title, xlim=(0, 1), ylim=(0, 1.02), xlabel="recall", ylabel="precision")
        ax.grid(alpha=0.3)
    for ax in axes.ravel()[len(buckets):]:
        ax.axis("off")
    handles, labels = axes.ravel()[0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="lower center", ncol=min(4, len(labels)), bbox_to_anchor=(0.5, -0.04))
    fig.tight_layout()
    return to_data_uri(fig)


def recall_vs_size(runs: list[tuple[str, SizeRecall]]) -> str:
    """Recall per object-size bin: solid = IoU 0.5, dashed = centre distance (tau 0.5)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 3.8))
    edges = runs[0][1].edges
    labels = [f"{edges[i]:g}-{edges[i + 1]:g}" if math.isfinite(edges[i + 1]) else f">{edges[i]:g}"
              for i in range(len(edges) - 1)]
    x = np.arange(len(labels))
    for i, (name, sr) in enumerate(runs):
        line = ax.plot(x, sr.recall, marker="o", label=f"{name} (IoU 0.5)")[0]
        if np.isfinite(sr.recall_center).any():
            ax.plot(x, sr.recall_center, marker=".", ls="--", color=line.get_color(), label=f"{name} (centre)")
    n_gt = runs[0][1].n_gt
    ax.set_xticks(x, [f"{lab}\n(n={n})" for lab, n in zip(labels, n_gt)], fontsize=7)
    ax.set(xlabel="object size sqrt(w*h) (px)", ylabel="recall", ylim=(0, 1.02))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return to_data_uri(fig)


def confusion(cm: np.ndarray, names: list[str], title: str) -> str:
    """Confusion matrix heat map, rows normalised (true class -> predicted), counts written in the cells."""
    plt = _pyplot()
    labels = list(names) + ["background"]
    k = len(labels)
    fig, ax = plt.subplots(figsize=(1.0 + 0.55 * k, 0.8 + 0.5 * k))
    norm = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    for i in range(k):
        for j in range(k):
            if cm[i, j]:
                ax.text(j, i, str(cm[i, j]), ha="center", va="center", fontsize=7,
                        color="white" if norm[i, j] > 0.5 else "black")
    cols = list(names) + ["missed"]
    ax.set_xticks(range(k), cols, rotation=45, ha="right", fontsize=7)
    ax.set_yticks(range(k), labels, fontsize=7)
    ax.set(xlabel="predicted", ylabel="true", title=title)
    return to_data_uri(fig)


def error_bars(runs: list[tuple[str, ErrorBreakdown]]) -> str:
    """Stacked horizontal bars: each run's errors by kind."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 0.9 + 0.5 * len(runs)))
    names = [name for name, _ in runs]
    left = np.zeros(len(runs))
    for kind, colour in ERROR_COLOURS.items():
        values = np.array([eb.as_dict()[kind] for _, eb in runs], float)
        ax.barh(names, values, left=left, color=colour, label=kind)
        left += values
    ax.invert_yaxis()
    ax.set_xlabel("count (at each run's best-F1 confidence)")
    ax.legend(ncol=5, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.35 if len(runs) < 3 else -0.2))
    return to_data_uri(fig)


def training_curves(runs: list[tuple[str, dict]]) -> str | None:
    """mAP50-95 and mAP50 (ultralytics' validation) per epoch from results.csv; None without any."""
    plt = _pyplot()
    series = [(n, h) for n, h in runs if h.get("metrics/mAP50-95(B)")]
    if not series:
        return None
    fig, ax = plt.subplots(figsize=(8, 3.2))
    for name, h in series:
        epochs = h.get("epoch") or list(range(1, len(h["metrics/mAP50-95(B)"]) + 1))
        line = ax.plot(epochs, h["metrics/mAP50-95(B)"], label=f"{name} mAP50-95")[0]
        if h.get("metrics/mAP50(B)"):
            ax.plot(epochs, h["metrics/mAP50(B)"], ls="--", color=line.get_color(), label=f"{name} mAP50")
    ax.set(xlabel="epoch", ylabel="ultralytics val metric")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return to_data_uri(fig)
