"""The BENCHMARKS.md section of benchmarks/sliced_vs_sahi.py: its tables, from the run's result.json dict, and
the load other processes put on the machine meanwhile."""

from __future__ import annotations

import os
import resource
import time
from pathlib import Path

SECTION = "## Sliced inference against SAHI"
FOLDER_PASSES = 3
TILE = 512
OVERLAP = 0.2
MATCH_THRESHOLD = 0.5


def cpu_text() -> str:
    """The CPU's model name and its bf16 instructions, from /proc/cpuinfo ('CPU' elsewhere)."""
    try:
        info = Path("/proc/cpuinfo").read_text()
    except OSError:
        return "CPU"
    name = next((line.split(":", 1)[1].strip() for line in info.splitlines() if line.startswith("model name")), "CPU")
    flags = next((line.split(":", 1)[1].split() for line in info.splitlines() if line.startswith("flags")), [])
    bf16 = [f for f in ("amx_bf16", "avx512_bf16") if f in flags]
    return f"{name}, {' and '.join(bf16) if bf16 else 'no bf16 instructions'}"


def cpu_seconds() -> tuple[float, float, float] | None:
    """(wall s, CPU s all processes used, CPU s this process and its children used); None off Linux."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[:8])
    ticks = os.sysconf("SC_CLK_TCK")
    own = sum(resource.getrusage(who).ru_utime + resource.getrusage(who).ru_stime
              for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    return time.perf_counter(), (user + nice + system + irq + softirq + steal) / ticks, own


def other_cores(before, after) -> float | None:
    """Cores that other processes kept busy, on average, between two cpu_seconds() readings."""
    if before is None or after is None:
        return None
    wall = after[0] - before[0]
    return max(0.0, ((after[1] - before[1]) - (after[2] - before[2])) / wall)


def load_text(other_cores: float | None) -> str:
    if other_cores is None:
        return "load of other processes not measured"
    return f"other processes kept {other_cores:.2f} cores busy on average while the methods were timed"


def report(result: dict, command: str) -> str:
    rows = {r["method"]: r for r in result["rows"]}
    sahi = next(r for r in result["rows"] if r["method"].startswith("SAHI"))
    lines = [
        SECTION,
        "",
        f"Command: `{command}` ({result['total_seconds'] / 60:.0f} min wall in all, training included)",
        "",
        f"Machine: {os.cpu_count()} CPU cores ({cpu_text()}), {load_text(result.get('other_cores'))}, {result['threads']} threads for "
        f"every method (SAHI's OpenVINO rows: ultralytics' own count); {result['images']} synthetic 4000x3000 val images, {result['tiles_per_image']} tiles of "
        f"{TILE} px each (overlap {OVERLAP}), conf {result['conf']}, greedy NMM with IoS {MATCH_THRESHOLD}, class-wise "
        "(rows naming another merge: that merge, threshold 0.5), no full-image pass, the same yolov8n checkpoint (trained on 512 px tiles of the same generator; SAHI "
        "also with the same OpenVINO export, run by ultralytics' own OpenVINO backend, which uses bf16 on this "
        "CPU and its own thread count). mAP by pycocotools (maxDets 10000). Methods run in rotating order on each "
        "image, so that they see the same load.",
        "",
        f"| method | s / image | images / s | speed vs {sahi['method']} | AP50-95 | AP50 | AP small | boxes |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in result["rows"]:
        per_image = r["seconds"] / result["images"]
        speed = sahi["seconds"] / r["seconds"]
        metrics = (f"{r['AP']:.3f} | {r['AP50']:.3f} | {r['AP_small']:.3f} | {r['boxes']}" if "AP" in r else " | | | ")
        lines.append(f"| {r['method']} | {per_image:.2f} | {r['img_per_s']:.3f} | {speed:.2f}x | {metrics} |")
    lines += ["", "Overhead of the whole tinydet pipeline (reading, tiling, decoding, merging) over the model's forward pass "
              "on the same tiles:", ""]
    for r in result["rows"]:
        if "forward_in_pipeline" not in r:
            continue
        backend = r["method"].split("(")[1]
        bare = rows.get(f"bare forward ({backend}")
        inside = r["seconds"] / r["forward_in_pipeline"] - 1
        text = f"- {r['method']}: {100 * inside:+.1f}% over its own forward calls"
        if bare:
            text += f", {100 * (r['seconds'] / bare['seconds'] - 1):+.1f}% over a separate bare-forward run"
        lines.append(text)
    if result.get("folder"):
        lines += ["", f"A folder of images one after another, as `tinydet predict FOLDER` runs them (medians of "
                  f"{FOLDER_PASSES} passes over the {result['images']} images, the two ways alternating): each image "
                  "decoded when its turn comes, and each next image decoded in a background thread meanwhile "
                  "(read-ahead, what the CLI, sliced validation and Ray workers do). The overhead is over the "
                  "bare-forward row above:", "",
                  "| method | decode in turn, s / image | read-ahead, s / image | gain | read-ahead overhead over bare forward |",
                  "|---|---:|---:|---:|---:|"]
        for f in result["folder"]:
            backend = f["method"].split("(")[1]
            bare = rows.get(f"bare forward ({backend}")
            overhead = f"{100 * (f['read_ahead'] / bare['seconds'] - 1):+.1f}%" if bare else ""
            lines.append(f"| {f['method']} | {f['plain'] / result['images']:.2f} | {f['read_ahead'] / result['images']:.2f} "
                         f"| {f['plain'] / f['read_ahead']:.2f}x | {overhead} |")
    if result.get("merges"):
        lines += ["", f"Merging alone, {result['merge_boxes']:,} boxes shaped like sliced output (4 classes, objects "
                  "seen by 1-3 tiles, clutter), one torch thread, best of 3 (`PYTHONPATH=. python "
                  "benchmarks/merge_speed.py` prints the same table):", "",
                  "| merge | wall s | CPU s | boxes out |", "|---|---:|---:|---:|"]
        lines += [f"| {m} | {wall:.3f} | {cpu:.3f} | {kept} |" for m, wall, cpu, kept in result["merges"]]
    return "\n".join(lines) + "\n"
