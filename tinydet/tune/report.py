"""What a study leaves in OUT: trials.md and trials.csv (one row per trial) and best_recipe.yaml (the best
trial as a recipe for `tinydet train --recipe-file`). Every file is written atomically (temporary file in the
same folder, then rename: tinydet.files.write_atomic), so a reader, or a second worker writing the same
file, never sees half a file."""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import yaml

from tinydet.files import write_atomic
from tinydet.train.api import TrainOptions
from tinydet.tune.space import SearchSpace
from tinydet.tune.trial import trial_setup

TRIALS_MD, TRIALS_CSV, BEST_RECIPE = "trials.md", "trials.csv", "best_recipe.yaml"
_LEADING = ("number", "state", "value", "epochs", "seconds")
_TRAILING = ("retry_of", "worker", "run_dir")


@dataclass(frozen=True)
class ReportFiles:
    trials_md: Path
    trials_csv: Path
    best_recipe: Path | None  # None while no trial has completed


def _cell(value: Any) -> Any:
    if isinstance(value, float):
        return "" if math.isnan(value) else float(f"{value:.6g}")
    return "" if value is None else value


def trial_rows(trials: Sequence, param_names: Sequence[str]) -> list[dict[str, Any]]:
    """One dict per trial (optuna FrozenTrials), ordered by number; parameters as the study stores them."""
    rows = []
    for t in sorted(trials, key=lambda t: t.number):
        seconds = None
        if t.datetime_complete and t.datetime_start:
            seconds = (t.datetime_complete - t.datetime_start).total_seconds()
        row = {"number": t.number, "state": t.state.name, "value": t.value,
               "epochs": t.user_attrs.get("epochs", len(t.intermediate_values) or None),
               "seconds": None if seconds is None else round(seconds, 1)}
        row.update({name: t.params.get(name) for name in param_names})
        row.update(retry_of=t.system_attrs.get("failed_trial"), worker=t.user_attrs.get("worker"),
                   run_dir=t.user_attrs.get("run_dir"))
        rows.append({k: _cell(v) for k, v in row.items()})
    return rows


def columns(param_names: Sequence[str]) -> list[str]:
    return [*_LEADING, *param_names, *_TRAILING]


def to_csv(rows: Sequence[dict[str, Any]], cols: Sequence[str]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(cols), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def to_markdown(rows: Sequence[dict[str, Any]], cols: Sequence[str], title: str) -> str:
    lines = [f"# {title}", "", "| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in rows:
        lines.append("| " + " | ".join(str(row.get(c, "")).replace("|", "\\|") for c in cols) + " |")
    return "\n".join(lines) + "\n"


def best_recipe_text(plan: TrainOptions, space: SearchSpace, trial, study_name: str, metric_name: str) -> str:
    """The best trial as a recipe file: tinydet options at the top level, ultralytics arguments (imgsz
    included) under `ultralytics:`, with a header saying where it came from."""
    recipe = trial_setup(plan, space, trial.params).as_recipe()
    header = (
        f"# Best trial of tinydet tune study '{study_name}': trial {trial.number}, {metric_name} = {trial.value:.6g}\n"
        f"# (trained {plan.model}, {plan.epochs} epoch(s), batch {plan.batch}, seed {plan.seed}).\n"
        f"# Train with it:  tinydet train --data DATA --model {plan.model} --recipe-file best_recipe.yaml --epochs N\n"
        "# The ultralytics block wins over the train command's own --imgsz.\n"
    )
    return header + yaml.safe_dump(recipe.to_dict(), sort_keys=False)


def learned(values: Sequence[float | None]) -> bool:
    """Whether any completed trial scored above 0: when every one scored 0 (a budget too small to learn
    anything), no trial is better than another and none is crowned."""
    return any(v is not None and v > 0 for v in values)


def write_reports(study, plan: TrainOptions, space: SearchSpace, metric_name: str, out: Path) -> ReportFiles:
    """(Re)write OUT/trials.md, OUT/trials.csv and, once a completed trial has scored above 0,
    OUT/best_recipe.yaml."""
    from optuna.trial import TrialState  # optional: tinydet[tune]

    out = Path(out)
    trials = study.get_trials(deepcopy=False)
    cols = columns(space.names)
    rows = trial_rows(trials, space.names)
    md, csv_path = out / TRIALS_MD, out / TRIALS_CSV
    write_atomic(csv_path, to_csv(rows, cols))
    write_atomic(md, to_markdown(rows, cols, f"tinydet tune: study '{study.study_name}', {metric_name} (value)"))
    best_path = None
    if learned([t.value for t in trials if t.state == TrialState.COMPLETE]):
        best_path = out / BEST_RECIPE
        write_atomic(best_path, best_recipe_text(plan, space, study.best_trial, study.study_name, metric_name))
    return ReportFiles(md, csv_path, best_path)
