"""Accuracy tables from the runs of benchmarks/train_matrix.py, evaluated with tinydet's evaluator.

Each run folder RUNS/<label>-s<seed>/ is evaluated once on its val split (tinydet.eval.runs.evaluate_run,
cached in the run folder; pose-aux runs are evaluated through their converted best_detect.pt). A table has one
row per label: the mean over seeds and the spread (half the range), and each row's change against the first
row (the baseline of the same run set) per seed. Params and GFLOPs are of the evaluated checkpoint at the
trained imgsz. Labels without a finished run for some seed are reported with the seeds they have.

  python benchmarks/lite_tables.py --runs .bench/lite --table recipes \\
      --row "YOLOv8n (baseline)=yolov8n" --row "pose-aux=pose-aux" --row "NWD=nwd" --out .bench/recipes.md
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

COLUMNS = (("mAP50", "AP50"), ("mAP50-95", "AP"), ("AP small", "APs"), ("AP very tiny", "APvt"), ("AP tiny", "APt"),
           ("AP50 centre", "AP50_center"))


def evaluate_label(runs: Path, label: str, seeds: list[int]) -> dict[int, dict]:
    from tinydet.eval.result import small_object_metrics
    from tinydet.eval.runs import evaluate_run

    found = {}
    for seed in seeds:
        run_dir = runs / f"{label}-s{seed}"
        if not (run_dir / "matrix.json").is_file():  # written by train_matrix.py when the run finished
            continue
        ev = evaluate_run(run_dir, log=lambda line: None)
        found[seed] = {"metrics": small_object_metrics(ev.result), "params": ev.params, "gflops": ev.gflops,
                       "minutes": json.loads((run_dir / "matrix.json").read_text()).get("seconds", 0) / 60}
    return found


def _mean_spread(values: list[float]) -> str:
    if not values:
        return "-"
    mean = statistics.fmean(values)
    return f"{mean:.3f}" if len(values) == 1 else f"{mean:.3f} ± {(max(values) - min(values)) / 2:.3f}"


def _relative(values: dict[int, float], base: dict[int, float]) -> str:
    common = [s for s in values if s in base and base[s] > 0]
    if not common:
        return "-"
    changes = [100 * (values[s] - base[s]) / base[s] for s in common]
    per_seed = ", ".join(f"{c:+.0f}%" for c in changes)
    return f"{statistics.fmean(changes):+.1f}% ({per_seed})"


def table(rows: list[tuple[str, dict[int, dict]]], focus: str = "APs") -> str:
    head = ["model / recipe", "seeds"] + [name for name, _ in COLUMNS] + [f"{focus} vs baseline", "params (M)", "GFLOPs"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    base = {s: r["metrics"][focus] for s, r in rows[0][1].items()} if rows else {}
    for name, runs in rows:
        cells = [name, ",".join(str(s) for s in sorted(runs)) or "-"]
        for _, key in COLUMNS:
            cells.append(_mean_spread([r["metrics"][key] for r in runs.values() if r["metrics"].get(key, -1) >= 0]))
        cells.append(_relative({s: r["metrics"][focus] for s, r in runs.items()}, base))
        first = next(iter(runs.values()), None)
        cells.append(f"{first['params'] / 1e6:.2f}" if first and first["params"] else "-")
        cells.append(f"{first['gflops']:.1f}" if first and first["gflops"] else "-")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", required=True, help="folder of train_matrix.py runs (<label>-s<seed>)")
    ap.add_argument("--row", action="append", required=True, help="'ROW NAME=label'; the first row is the baseline")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    ap.add_argument("--focus", default="APs", help="metric whose change against the baseline gets its own column")
    ap.add_argument("--out", default=None, help="also write the markdown table (and a .json beside it) here")
    args = ap.parse_args()

    rows = []
    for spec in args.row:
        name, _, label = spec.rpartition("=")
        rows.append((name or label, evaluate_label(Path(args.runs), label, args.seeds)))
    text = table(rows, args.focus)
    print(text)
    if args.out:
        from tinydet.files import write_atomic

        write_atomic(Path(args.out), text)
        write_atomic(Path(args.out).with_suffix(".json"), json.dumps({n: r for n, r in rows}, indent=1, default=str))


if __name__ == "__main__":
    main()
