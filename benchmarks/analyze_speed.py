"""Benchmark: wall time of `tinydet analyze` on a dataset (default: hit_uav, 2,319 images, 19,971 boxes).

Runs the real command, plain and with `--json FILE --plots DIR`, in fresh interpreters (so imports count),
several times, and reports the median wall and CPU time with the spread; then times the stages in one process (import, read + validate,
analyze, plots). With --write FILE it replaces the "Dataset analysis speed" section of that BENCHMARKS.md with the
result and the command.

    PYTHONPATH=$PWD .venv/bin/python benchmarks/analyze_speed.py [DATA] [--runs 5] [--write BENCHMARKS.md]
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from markdown_section import replace_section

SECTION = "## Dataset analysis speed"
DEFAULT_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "datasets" / "hit_uav" / "data.yaml"


VARIANTS = {"analyze DATA": [], "analyze DATA --json FILE --plots DIR": ["--json", "{tmp}/a.json", "--plots", "{tmp}/p"]}


def time_cli(data: str, runs: int) -> dict[str, list[tuple[float, float]]]:
    """Per variant, (wall s, CPU s = user + sys of the child) of each run; variants interleaved, so that both
    see the same background load."""
    out: dict[str, list[tuple[float, float]]] = {name: [] for name in VARIANTS}
    for _ in range(runs):
        for name, extra in VARIANTS.items():
            with tempfile.TemporaryDirectory() as tmp:
                cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
                start = time.perf_counter()
                done = subprocess.run([sys.executable, "-m", "tinydet", "analyze", data,
                                       *[a.format(tmp=tmp) for a in extra]], capture_output=True, text=True)
                wall = time.perf_counter() - start
                cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
            if done.returncode != 0:
                sys.exit(f"tinydet analyze failed:\n{done.stderr}")
            cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
            out[name].append((wall, cpu))
    return out


def time_stages(data: str) -> tuple[dict[str, float], dict]:
    code = f"""
import json, tempfile, time
t0 = time.perf_counter()
from tinydet.data import load_dataset
from tinydet.data.analysis import analyze
t1 = time.perf_counter()
ds = load_dataset({data!r})
t2 = time.perf_counter()
a = analyze(ds, 640)
t3 = time.perf_counter()
from tinydet.data.plots import write_plots
with tempfile.TemporaryDirectory() as tmp:
    write_plots(a, tmp)
t4 = time.perf_counter()
d = a.to_dict()
print(json.dumps({{"stages": {{"import": t1 - t0, "read + validate": t2 - t1, "analyze": t3 - t2, "plots": t4 - t3}},
                  "images": d["images"], "instances": d["instances"], "coco_small": d["buckets"]["coco"]["small"]}}))
"""
    import json

    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return result.pop("stages"), result


def report(data: str, runs: int) -> str:
    load_before = os.getloadavg()[0]
    times = time_cli(data, runs)
    stages, counts = time_stages(data)
    load_after = os.getloadavg()[0]
    lines = [f"hit_uav: {counts['images']:,} images, {counts['instances']:,} boxes ({counts['coco_small']:,} "
             f"COCO-small, as the analysis reports). Median of {runs} runs in fresh processes (imports included), "
             "target < 10 s:", "", "| command | wall s (range) | CPU s (user + sys) |", "|---|---|---|"]
    for name, values in times.items():
        walls, cpus = [w for w, _ in values], [c for _, c in values]
        lines.append(f"| `tinydet {name}` | **{statistics.median(walls):.2f}** ({min(walls):.2f}-{max(walls):.2f}) "
                     f"| {statistics.median(cpus):.2f} |")
    stage_text = ", ".join(f"{k} {v:.2f} s" for k, v in stages.items())
    return "\n".join(lines) + (
        f"\n\nStages in one process (wall): {stage_text}. Import is tinydet's package import, which loads "
        "ultralytics and torch.\n"
        f"Machine: {os.cpu_count()} CPU cores ({platform.machine()}), shared with other jobs: load average "
        f"{load_before:.1f} before, {load_after:.1f} after; wall time grows with the load, CPU time much less.\n\n"
        "```\nPYTHONPATH=$PWD .venv/bin/python benchmarks/analyze_speed.py ../shared/datasets/hit_uav/data.yaml "
        f"--runs {runs} --write BENCHMARKS.md\n```\n\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", nargs="?", default=str(DEFAULT_DATA))
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--write", type=Path, default=None, help="BENCHMARKS.md whose section to replace")
    args = parser.parse_args()
    text = report(args.data, args.runs)
    print(text)
    if args.write:
        replace_section(args.write, SECTION, text)


if __name__ == "__main__":
    main()
