"""`prune_checkpoint`: prune a trained checkpoint and save the smaller model as a checkpoint of its own.

    result = prune_checkpoint("best.pt", "pruned.pt", PruneOptions(ratio=0.3))
    print(result.table())

The pruned checkpoint loads with `YOLO("pruned.pt")` after `import tinydet` like any other and is fine-tuned
with `tinydet train --model pruned.pt --data ...`, which trains the pruned model as it is (see
tinydet/integrations/ultralytics/training/trainer.py; plain ultralytics training would rebuild the unpruned architecture).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tinydet.compress.prune import CRITERIA, PruneReport, prune_model
from tinydet.errors import TinydetError
from tinydet.integrations.ultralytics.builder import gflops, model_task
from tinydet.integrations.ultralytics.checkpoints import (
    load_detection_checkpoint,
    save_model_checkpoint,
)


@dataclass(frozen=True)
class PruneOptions:
    """ratio: fraction of the prunable channels to remove, in [0, 1); criterion: bn | l1; min_channels: each
    pruned layer keeps at least this many; round_to: kept counts rounded up to a multiple of it; imgsz: the
    square input size (px) GFLOPs are counted at."""

    ratio: float = 0.3
    criterion: str = "bn"
    min_channels: int = 8
    round_to: int = 8
    imgsz: int = 640

    def __post_init__(self) -> None:
        if self.criterion not in CRITERIA:
            raise TinydetError(f"--criterion must be one of {', '.join(CRITERIA)}, got '{self.criterion}'")
        if not 0 <= self.ratio < 1:
            raise TinydetError(f"--ratio must be in [0, 1), got {self.ratio}")
        if self.min_channels < 1 or self.round_to < 1 or self.imgsz < 32:
            raise TinydetError("--min-channels and --round must be at least 1, and --imgsz at least 32")


@dataclass(frozen=True)
class ModelSize:
    """params: count of parameters; gflops: GFLOPs of one forward at imgsz x imgsz."""

    params: int
    gflops: float


@dataclass(frozen=True)
class PruneResult:
    path: Path
    before: ModelSize
    after: ModelSize
    report: PruneReport
    imgsz: int

    def table(self) -> str:
        """Before / after sizes as a markdown table."""
        b, a = self.before, self.after
        rows = [("model", "params", "GFLOPs @%d" % self.imgsz),
                ("original", f"{b.params:,}", f"{b.gflops:.2f}"),
                ("pruned", f"{a.params:,} ({100 * (a.params / b.params - 1):+.1f}%)",
                 f"{a.gflops:.2f} ({100 * (a.gflops / b.gflops - 1):+.1f}%)")]
        lines = ["| " + " | ".join(r) + " |" for r in rows]
        lines.insert(1, "|---|---|---|")
        r = self.report
        lines.append(f"\nchannels removed: {r.removed} of {r.prunable} prunable ({len(r.groups)} groups, criterion "
                     f"{r.criterion}, ratio {r.ratio}, min {r.min_channels}, multiple of {r.round_to})")
        return "\n".join(lines)


def model_size(model, imgsz: int) -> ModelSize:
    return ModelSize(int(sum(p.numel() for p in model.parameters())), gflops(model, imgsz))


def prune_checkpoint(checkpoint: str | Path, out: str | Path, options: PruneOptions = PruneOptions()) -> PruneResult:
    """Load `checkpoint`, prune it (tinydet/compress/prune.py) and save it to `out` (must differ from the input)."""
    checkpoint, out = Path(checkpoint), Path(out)
    if out.suffix != ".pt":
        raise TinydetError(f"--out must be a .pt file, got {out}")
    if out.resolve() == checkpoint.resolve():
        raise TinydetError("--out must differ from --model: pruning never overwrites its input")
    model = load_detection_checkpoint(checkpoint)
    if model_task(model) != "detect":
        raise TinydetError(f"{checkpoint}: pruning works on detect models, this one is {model_task(model)}")
    before = model_size(model, options.imgsz)
    report = prune_model(model, options.ratio, options.criterion, options.min_channels, options.round_to)
    after = model_size(model, options.imgsz)
    model.tinydet_prune_report = report.to_dict()
    save_model_checkpoint(model, out)
    return PruneResult(out, before, after, report, options.imgsz)
