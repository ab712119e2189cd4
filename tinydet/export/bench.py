"""Latency of checkpoints on inference backends: median milliseconds per image for preprocessing, inference and
postprocessing, and throughput, measured with tinydet's full-image predictor (one image per forward pass).

    rows = bench(["best.pt"], ["torch", "onnxruntime", "openvino"], imgsz=640, runs=20, warmup=3)
    print(format_table(rows))

Stages (as `tinydet.infer.sliced.Timing` splits them): preprocess = resize, pad, RGB, float (`prepare`; for
OpenVINO the conversion to float runs inside the compiled model, so it counts as inference there);
inference = the backend call (`forward`); postprocess = confidence filter, NMS, boxes to image pixels
(`decode` + `merge`). Images are held in memory, so no decoding from disk is timed. Numbers are medians over
`runs` passes over all images, after `warmup` passes that are not timed. This is the only place tinydet
measures speed; tests never assert it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from statistics import median

import numpy as np

from tinydet.export.runtime import synthetic_images
from tinydet.infer.backends.load import load_backend
from tinydet.infer.sliced import SlicedPredictor, SliceOptions
from tinydet.integrations.ultralytics.runtime import quiet_logs


@dataclass(frozen=True)
class Latency:
    """Median milliseconds per image per stage; `images_per_s` = 1000 / median total."""

    preprocess_ms: float
    inference_ms: float
    postprocess_ms: float
    total_ms: float
    images_per_s: float


@dataclass(frozen=True)
class BenchRow:
    """One model on one backend: `model` (path), `backend`, `imgsz`, `images` (per pass), `runs`, `latency`."""

    model: str
    backend: str
    imgsz: int
    images: int
    runs: int
    latency: Latency

    def to_dict(self) -> dict:
        out = asdict(self)
        out.update(out.pop("latency"))
        return out


def time_predictor(predictor, images: list[np.ndarray], runs: int = 20, warmup: int = 3) -> Latency:
    """Median per-image stage times of a `SlicedPredictor` over `runs` passes through `images` (BGR uint8)."""
    if runs < 1 or warmup < 0:
        raise ValueError("runs must be at least 1 and warmup at least 0")
    for _ in range(warmup):
        for image in images:
            predictor(image)
    pre, inf, post, total = [], [], [], []
    for _ in range(runs):
        for image in images:
            predictor(image)
            t = predictor.timing
            pre.append((t.read + t.prepare) * 1e3)
            inf.append(t.forward * 1e3)
            post.append((t.decode + t.merge) * 1e3)
            total.append(t.total * 1e3)
    med = median(total)
    return Latency(median(pre), median(inf), median(post), med, 1e3 / med if med > 0 else float("inf"))


def bench(models: list[str | Path], backends: list[str], imgsz: int = 640, runs: int = 20, warmup: int = 3,
          images: list[np.ndarray] | None = None, conf: float = 0.25) -> list[BenchRow]:
    """One `BenchRow` per model x backend, on `images` (default: 4 synthetic images of imgsz x imgsz)."""
    images = images if images is not None else synthetic_images(4, imgsz)
    options = SliceOptions(slice=None, imgsz=imgsz, conf=conf, batch=1)
    rows = []
    for model in models:
        for kind in backends:
            with quiet_logs():  # onnxruntime / openvino export the checkpoint on first use
                backend = load_backend(model, kind, "cpu", (imgsz, imgsz))
            latency = time_predictor(SlicedPredictor(backend, options), images, runs, warmup)
            rows.append(BenchRow(str(model), kind, imgsz, len(images), runs, latency))
    return rows


def format_table(rows: list[BenchRow]) -> str:
    """A plain-text table, one line per row: model, backend, the three stages, total (ms/img) and img/s."""
    head = ("model", "backend", "imgsz", "pre ms", "infer ms", "post ms", "total ms", "img/s")
    body = [(Path(r.model).name, r.backend, str(r.imgsz), f"{r.latency.preprocess_ms:.2f}",
             f"{r.latency.inference_ms:.2f}", f"{r.latency.postprocess_ms:.2f}", f"{r.latency.total_ms:.2f}",
             f"{r.latency.images_per_s:.1f}") for r in rows]
    widths = [max(len(line[i]) for line in (head, *body)) for i in range(len(head))]
    fmt = lambda line: "  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(line, widths)))  # noqa: E731
    return "\n".join([fmt(head), "  ".join("-" * w for w in widths), *map(fmt, body)])
