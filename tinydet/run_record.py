"""The record tinydet train writes in every run folder (tinydet_run.yaml: every tinydet option and the recipe),
and what readers below train/ (eval's run folders, reports) take from it."""

from __future__ import annotations

from pathlib import Path

import yaml

RUN_FILE = "tinydet_run.yaml"


def recorded_model(run_dir: Path) -> str | None:
    """The --model the run was started with ('yolov8n', 'my.yaml', 'best.pt'), as its record names it; None when
    the folder has no readable record (a run of plain ultralytics)."""
    try:
        record = yaml.safe_load((Path(run_dir) / RUN_FILE).read_text()) or {}
    except (OSError, yaml.YAMLError):
        return None
    model = (record.get("tinydet") or {}).get("model") if isinstance(record, dict) else None
    return str(model) if model else None
