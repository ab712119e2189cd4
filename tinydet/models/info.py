"""What `tinydet models` shows: zoo models, each built and measured (parameters, GFLOPs, strides, task)."""

from __future__ import annotations

import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterable

from tqdm import tqdm

from tinydet.errors import TinydetError
from tinydet.integrations.ultralytics.builder import build_model, gflops
from tinydet.models.zoo import TWIN_SUFFIXES, ZooEntry, zoo

TASKS = ("detect", *TWIN_SUFFIXES)
_TASK_ORDER = {task: i for i, task in enumerate(TASKS)}


@dataclass(frozen=True)
class ModelInfo:
    """One built zoo model. `yaml`: the config file; `gflops`: at `imgsz` x `imgsz`; `strides`: of its outputs."""

    name: str
    task: str
    scale: str
    source: str
    yaml: str
    params: int
    gflops: float
    strides: list[int]
    nc: int
    imgsz: int

    def to_dict(self) -> dict:
        return asdict(self)


_SCALE_ORDER = "nsmlx"


def _listing_key(entry: ZooEntry) -> tuple:
    """Config family (twins with their detect config), then scale n, s, m, ..., then detect, pose, segment."""
    family = Path(entry.family_file).stem
    family = family[: len(family) - len(TWIN_SUFFIXES.get(entry.task, ""))]
    return family, _SCALE_ORDER.find(entry.scale), _TASK_ORDER[entry.task]


def select(task: str | None = None, scale: str | None = "n", contains: str | None = None) -> list[ZooEntry]:
    """Zoo entries filtered by task, scale letter (None: all) and a substring of the name; twins next to each other."""
    if task is not None and task not in TASKS:
        raise TinydetError(f"unknown task '{task}'; choose one of {', '.join(TASKS)}")
    entries = [
        e
        for e in zoo().values()
        if (task is None or e.task == task) and (scale is None or e.scale == scale) and (not contains or contains in e.name)
    ]
    if not entries:
        raise TinydetError(f"no zoo model matches task={task} scale={scale} filter={contains!r}")
    return sorted(entries, key=_listing_key)


def describe(entry: ZooEntry, nc: int = 80, imgsz: int = 640) -> ModelInfo:
    """Build `entry` with `nc` classes and measure it."""
    model = build_model(entry.model_path, nc=nc)
    return ModelInfo(
        name=entry.name,
        task=entry.task,
        scale=entry.scale,
        source=entry.source,
        yaml=str(entry.config_path),
        params=sum(p.numel() for p in model.parameters()),
        gflops=round(gflops(model, imgsz), 2),
        strides=[int(s) for s in model.stride.tolist()],
        nc=nc,
        imgsz=imgsz,
    )


def describe_all(entries: Iterable[ZooEntry], nc: int = 80, imgsz: int = 640, progress: bool = True) -> list[ModelInfo]:
    """`describe` each entry, with a progress bar on stderr when it is a terminal (and `progress`)."""
    entries = list(entries)
    bar = tqdm(entries, desc="building", unit="model", file=sys.stderr, disable=None if progress else True, leave=False)
    infos = []
    for entry in bar:
        bar.set_postfix_str(entry.name)
        infos.append(describe(entry, nc=nc, imgsz=imgsz))
    return infos


def format_table(infos: list[ModelInfo]) -> str:
    """A plain-text table: name, task, params, GFLOPs, strides, source."""
    header = f"{'name':<42} {'task':<8} {'params':>11} {'GFLOPs':>7}  {'strides':<14} source"
    lines = [header, "-" * len(header)]
    for i in infos:
        strides = ",".join(map(str, i.strides))
        lines.append(f"{i.name:<42} {i.task:<8} {i.params:>11,} {i.gflops:>7.1f}  {strides:<14} {i.source}")
    return "\n".join(lines)
