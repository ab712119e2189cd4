"""The demo's budget (light: `tinydet demo --help` shows these defaults without loading torch)."""

from __future__ import annotations

from dataclasses import dataclass, field

from tinydet.errors import TinydetError


@dataclass
class DemoOptions:
    """The demo's budget. Defaults were chosen so both models finish in minutes on 2 CPU cores (README)."""

    out: str = "runs/demo"
    images: int = 160
    val_images: int = 64
    size: int = 256
    density: float = 250.0  # objects per megapixel: dense scenes give a small model enough boxes to learn from
    epochs: int = 12
    imgsz: int = 256
    batch: int = 8  # more optimizer steps for the same images: from scratch, steps matter more than batch size
    seed: int = 0
    models: tuple[str, ...] = ("yolov8n", "yolov8n-p2")
    device: str | None = None
    # AdamW at lr0 0.004 (ultralytics' automatic choice here is 0.0014) and scale jitter 0.25 (not 0.5, which
    # shrinks 4 px objects to 2 px): 8-epoch trials on the demo data reached mAP50 0.034 against 0.006 with
    # ultralytics' defaults. With epochs <= close_mosaic (10) mosaic stays off. nbs 8: one optimizer step per
    # batch. ultralytics' nbs 64 accumulates 8 batches a step, about 30 steps in the whole demo; with nbs 8 the
    # demo makes 240 steps, and AP small rose from 0.020-0.035 to 0.17-0.37 on 2 seeds (BENCHMARKS.md, "Small
    # datasets").
    ultralytics: dict = field(default_factory=lambda: {"warmup_epochs": 1, "plots": False, "optimizer": "AdamW",
                                                       "lr0": 0.004, "scale": 0.25, "nbs": 8})

    def __post_init__(self) -> None:
        """Bad numbers stop here, before minutes of data generation."""
        for name, value, least in (("--epochs", self.epochs, 1), ("--imgsz", self.imgsz, 64), ("--batch", self.batch, 1),
                                   ("--images", self.images, 1), ("--val-images", self.val_images, 1)):
            if value < least:
                raise TinydetError(f"{name} must be at least {least}, got {value}")
