"""Sliced validation while training: pick best.pt on the numbers sliced inference will give.

After ultralytics' whole-image validation of an epoch, the trainer (tinydet/integrations/ultralytics/training/trainer.py) calls
`sliced_validate` with its EMA model: every val image is cut into tiles, predicted and merged exactly as
`tinydet val --slice` does (tinydet.eval.validate + tinydet.infer.sliced), and evaluated with tinydet's evaluator.
The recipe's `fitness` computed on those predictions picks best.pt and drives early stopping; the metrics go
into results.csv as `sliced/<name>` columns.

The in-memory model is run as its checkpoint would be (fp16-rounded weights, fused, see
`TorchBackend.from_module`), so an epoch's sliced numbers equal `tinydet val --slice` on the checkpoint saved at
that epoch.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch

from tinydet.data.synth import parse_size
from tinydet.errors import TinydetError
from tinydet.eval.result import small_object_metrics
from tinydet.eval.validate import ValOptions, slice_options, sliced_predictor, validate
from tinydet.infer.device import resolve_device
from tinydet.infer.backends.pytorch import TorchBackend

PREFIX = "sliced/"
# metrics written to results.csv every sliced validation (plus `sliced/fitness`), as tinydet names them
COLUMNS = ("AP", "AP50", "APs", "APm", "APvt", "APt", "AP_center", "AP50_center")
FITNESS_COLUMN = f"{PREFIX}fitness"


@dataclass(frozen=True)
class SlicedValSettings:
    """slice_wh: tile (width, height) px; overlap: [0, 1); imgsz: network input of a tile (None: its own size);
    merge: merge method (None: sliced prediction's default); every: epochs between sliced validations;
    fitness: 'ultralytics' (0.1 AP50 + 0.9 AP) or a tinydet metric name."""

    slice_wh: tuple[int, int]
    overlap: float = 0.2
    imgsz: int | None = None
    merge: str | None = None
    every: int = 1
    fitness: str = "ultralytics"

    @classmethod
    def from_recipe(cls, recipe) -> SlicedValSettings | None:
        """The recipe's sliced-validation settings, or None when it has no `val_slice`."""
        if not recipe.val_slice:
            return None

        return cls(parse_size(str(recipe.val_slice)), float(recipe.val_overlap), recipe.val_slice_imgsz,
                   recipe.val_merge, int(recipe.val_slice_every), recipe.fitness)

    def due(self, epoch: int, final: bool) -> bool:
        """Whether epoch `epoch` (0-based) is validated sliced: every `every`-th epoch, and always the last."""
        return final or (epoch + 1) % self.every == 0

    def describe(self) -> str:
        w, h = self.slice_wh
        size = "own size" if self.imgsz is None else f"imgsz {self.imgsz}"
        return f"{w}x{h} tiles, overlap {self.overlap:g}, {size}, merge {self.merge or 'default'}"


@dataclass
class SlicedValResult:
    """metrics: tinydet's flat metrics (small_object_metrics) of the sliced predictions; fitness: the recipe's
    fitness of them; images, tiles: how many were predicted; seconds: wall time of prediction and evaluation."""

    metrics: dict[str, float]
    fitness: float
    images: int
    tiles: int
    seconds: float

    def columns(self) -> dict[str, float]:
        """The results.csv columns: `sliced/<metric>` for COLUMNS, and `sliced/fitness`."""
        out = {f"{PREFIX}{k}": self.metrics[k] for k in COLUMNS if k in self.metrics}
        out[FITNESS_COLUMN] = self.fitness
        return out

    def summary(self, settings: SlicedValSettings) -> str:
        shown = " ".join(f"{k} {self.metrics[k]:.4f}" for k in ("AP50", "AP", "APs", "APvt") if k in self.metrics)
        return (f"sliced val ({settings.describe()}): {self.images} images, {self.tiles} tiles, {self.seconds:.1f}s | "
                f"{shown} | fitness ({settings.fitness}) {self.fitness:.4f}")


def skipped_columns() -> dict[str, float]:
    """The results.csv columns of an epoch that was not validated sliced (NaN: not measured)."""
    return {**{f"{PREFIX}{k}": math.nan for k in COLUMNS}, FITNESS_COLUMN: math.nan}


def fitness_of(metrics: dict[str, float], key: str) -> float:
    """The fitness `key` of tinydet's flat metrics: 'ultralytics' is 0.1 AP50 + 0.9 AP (COCO, pycocotools)."""
    if key == "ultralytics":
        return 0.1 * metrics["AP50"] + 0.9 * metrics["AP"]
    if key not in metrics:
        raise TinydetError(f"fitness {key}: not among the sliced validation's metrics ({', '.join(metrics)})")
    return float(metrics[key])


def sliced_validate(model: torch.nn.Module | str | Path, data: str | Path, settings: SlicedValSettings,
                    device: str | torch.device | None = None, progress: bool = False,
                    log: Callable[[str], None] | None = None) -> SlicedValResult:
    """Predict the val split of `data` (a YOLO data.yaml) sliced and evaluate it with tinydet's evaluator.

    model: an ultralytics detection or pose model in memory (e.g. a trainer's EMA; not changed), or a .pt
    checkpoint (then this is `tinydet val --slice` with the settings' options). Prediction settings are
    `tinydet val`'s defaults (conf 0.001, NMS IoU 0.7 inside a tile, 300 boxes per tile), evaluation its
    default blocks (coco, aitod, center). `log` receives a one-line summary.
    """
    start = time.perf_counter()
    options = ValOptions(split="val", device=None if device is None else str(device))
    target = model
    if isinstance(model, torch.nn.Module):
        want_hw = slice_options(settings.slice_wh, settings.overlap, settings.merge, options, settings.imgsz).input_hw
        target = TorchBackend.from_module(model, resolve_device(options.device), want_hw)
    predictor = sliced_predictor(target, settings.slice_wh, settings.overlap, settings.merge, options, settings.imgsz)
    tiles = 0

    def counted(image: Path):
        nonlocal tiles
        found = predictor(image)
        tiles += predictor.timing.tiles
        return found

    result = validate(None, data, options, predictor=counted, progress=progress)
    metrics = small_object_metrics(result)
    out = SlicedValResult(metrics, fitness_of(metrics, settings.fitness), result.n_images, tiles,
                          time.perf_counter() - start)
    if log is not None:
        log(out.summary(settings))
    return out
