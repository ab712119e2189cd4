"""Evaluation speed: tinydet against pycocotools, faster-coco-eval, ultrafast-pycocotools and hotcoco on one
realistic 5,000-image case, as library calls and as whole processes.

The case is generated here (seeded): COCO ground truth and results JSON files with about 47k boxes and 70k
predictions over 10 classes, mostly small objects, ~1% crowd regions, some empty images, predictions that are
jittered, duplicated, misclassified or pure background, with scores that favour good boxes. Each evaluator is
timed end to end from the two JSON files (load, match, accumulate, summarise), interleaved round by round so that
machine noise hits all of them alike; the median round is reported, with ratios to pycocotools and the largest
difference between each tool's 12 COCO stats and pycocotools'.

The whole-process table times what a user runs: `tinydet eval` (COCO block; COCO + AI-TOD blocks) against a
`python -c` script per library that loads the two files and evaluates the same blocks (AI-TOD: the library's
COCOeval again with AI-TOD's area ranges and 1,500 detections), start-up included, rounds interleaved.

    PYTHONPATH=$PWD python benchmarks/eval_speed.py [--images 5000] [--rounds 3] [--write BENCHMARKS.md]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from dataclasses import astuple
from pathlib import Path

import numpy as np
from markdown_section import replace_section

SECTION = "## Evaluation speed against pycocotools and hotcoco"


def make_case(n_images: int, seed: int = 0, n_classes: int = 10) -> tuple[dict, list]:
    """A realistic detection-evaluation case: (COCO ground-truth dict, COCO results list)."""
    rng = np.random.default_rng(seed)
    width, height = 1333, 800
    images = [{"id": i + 1, "file_name": f"{i + 1:06d}.jpg", "width": width, "height": height} for i in range(n_images)]
    counts = rng.poisson(rng.gamma(2.0, 9.4 / 2.0, n_images))  # objects per image: mean 9.4, over-dispersed
    n = int(counts.sum())
    image_of = np.repeat(np.arange(n_images) + 1, counts)
    size = np.exp(rng.normal(np.log(18), 0.8, n)).clip(2, 600)  # sqrt(area) px: mostly small objects
    aspect = np.exp(rng.normal(0, 0.35, n))
    w, h = size * aspect**0.5, size / aspect**0.5
    x, y = rng.uniform(0, width - w), rng.uniform(0, height - h)
    cls = rng.choice(n_classes, n, p=rng.dirichlet(np.ones(n_classes) * 2))
    crowd = rng.random(n) < 0.01
    annotations = [
        {"id": i + 1, "image_id": int(image_of[i]), "category_id": int(cls[i]) + 1,
         "bbox": [round(float(v), 2) for v in (x[i], y[i], w[i], h[i])], "area": round(float(w[i] * h[i]), 2),
         "iscrowd": int(crowd[i])}
        for i in range(n)
    ]
    gt = {"images": images, "annotations": annotations,
          "categories": [{"id": c + 1, "name": f"class{c}"} for c in range(n_classes)]}

    # Predictions: each object found with a probability that grows with its size, sometimes twice, sometimes
    # with the wrong class; background predictions on top.
    found = rng.random(n) < 0.55 + 0.4 * np.tanh(size / 30)
    copies = found.astype(int) + (found & (rng.random(n) < 0.2))
    src = np.repeat(np.arange(n), copies)
    quality = rng.beta(4, 2, len(src))  # 1 = perfect box
    noise = (1 - quality) * 0.5
    px = x[src] + rng.normal(0, 1, len(src)) * noise * w[src]
    py = y[src] + rng.normal(0, 1, len(src)) * noise * h[src]
    pw = w[src] * np.exp(rng.normal(0, 1, len(src)) * noise)
    ph = h[src] * np.exp(rng.normal(0, 1, len(src)) * noise)
    pcls = np.where(rng.random(len(src)) < 0.05, rng.choice(n_classes, len(src)), cls[src])
    pscore = (0.3 * quality + 0.7 * rng.beta(3, 2, len(src))).clip(0.001, 1)
    n_bg = max(0, 70_000 * n_images // 5000 - len(src))
    bg_size = np.exp(rng.normal(np.log(15), 0.9, n_bg)).clip(2, 400)
    bg = {
        "image": rng.integers(1, n_images + 1, n_bg),
        "x": rng.uniform(0, width - bg_size), "y": rng.uniform(0, height - bg_size),
        "w": bg_size, "h": bg_size * np.exp(rng.normal(0, 0.3, n_bg)),
        "cls": rng.choice(n_classes, n_bg), "score": rng.beta(1.5, 5, n_bg).clip(0.001, 1),
    }
    preds = [
        {"image_id": int(image_of[s]), "category_id": int(c) + 1,
         "bbox": [round(float(v), 2) for v in (a, b, cw, ch)], "score": round(float(sc), 5)}
        for s, a, b, cw, ch, c, sc in zip(src, px, py, pw, ph, pcls, pscore)
    ] + [
        {"image_id": int(i), "category_id": int(c) + 1, "bbox": [round(float(v), 2) for v in (a, b, cw, ch)],
         "score": round(float(sc), 5)}
        for i, a, b, cw, ch, c, sc in zip(bg["image"], bg["x"], bg["y"], bg["w"], bg["h"], bg["cls"], bg["score"])
    ]
    order = rng.permutation(len(preds))  # results files are not sorted by image
    return gt, [preds[i] for i in order]


def _cocoeval_stats(coco_class, eval_class, gt_file: str, pred_file: str, **kwargs) -> np.ndarray:
    """The 12 COCO stats of a pycocotools-style library (its COCO and COCOeval classes), output silenced."""
    with contextlib.redirect_stdout(io.StringIO()):
        coco_gt = coco_class(gt_file)
        ev = eval_class(coco_gt, coco_gt.loadRes(pred_file), "bbox", **kwargs)
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return np.array(ev.stats[:12])


def run_pycocotools(gt_file: str, pred_file: str) -> np.ndarray:
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    return _cocoeval_stats(COCO, COCOeval, gt_file, pred_file)


def run_faster_coco_eval(gt_file: str, pred_file: str) -> np.ndarray:
    from faster_coco_eval import COCO, COCOeval_faster

    return _cocoeval_stats(COCO, COCOeval_faster, gt_file, pred_file, print_function=lambda *a, **k: None)


def run_ultrafast(gt_file: str, pred_file: str) -> np.ndarray:
    from ultrafast_pycocotools import COCO, COCOeval

    return _cocoeval_stats(COCO, COCOeval, gt_file, pred_file)


def run_hotcoco(gt_file: str, pred_file: str) -> np.ndarray:
    from hotcoco import COCO, COCOeval

    return _cocoeval_stats(COCO, COCOeval, gt_file, pred_file)


def run_tinydet(gt_file: str, pred_file: str, blocks=("coco",)) -> np.ndarray:
    from tinydet.eval.evaluator import evaluate
    from tinydet.eval.load_coco import load_coco_ground_truth, load_coco_predictions
    from tinydet.eval.params import EvalOptions

    gt = load_coco_ground_truth(gt_file)
    result = evaluate(gt, load_coco_predictions(pred_file, gt), EvalOptions(blocks=blocks))
    return np.array(astuple(result.coco))


def run_tinydet_all(gt_file: str, pred_file: str) -> np.ndarray:
    return run_tinydet(gt_file, pred_file, ("coco", "aitod", "center"))


def phases_pycocotools(gt_file: str, pred_file: str) -> dict[str, float]:
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    t = [time.perf_counter()]
    with contextlib.redirect_stdout(io.StringIO()):
        coco_gt = COCO(gt_file)
        ev = COCOeval(coco_gt, coco_gt.loadRes(pred_file), "bbox")
        t.append(time.perf_counter())
        ev.evaluate()
        t.append(time.perf_counter())
        ev.accumulate()
        ev.summarize()
        t.append(time.perf_counter())
    return {"load": t[1] - t[0], "match": t[2] - t[1], "accumulate": t[3] - t[2]}


def phases_tinydet(gt_file: str, pred_file: str) -> dict[str, float]:
    """tinydet's COCO block in its stages (internal functions, for profiling only)."""
    from tinydet.eval.blocks import coco_block
    from tinydet.eval.coco_columns import ground_truth_columns, prediction_columns
    from tinydet.eval.load_coco import load_coco_ground_truth, load_coco_predictions
    from tinydet.eval.params import COCO_RANGES, IOU_THRESHOLDS
    from tinydet.eval.similarity import iou_pairs
    from tinydet.eval.views import IOU_CEILING, Views, match_run, order_boxes

    t = [time.perf_counter()]
    ground_truth_columns(Path(gt_file).read_bytes()), prediction_columns(Path(pred_file).read_bytes())  # decoding
    t.append(time.perf_counter())
    gt = load_coco_ground_truth(gt_file)
    preds = load_coco_predictions(pred_file, gt)
    t.append(time.perf_counter())
    o = order_boxes(gt, preds, 100)
    run = match_run(o, iou_pairs, np.minimum(IOU_THRESHOLDS, IOU_CEILING), COCO_RANGES)
    t.append(time.perf_counter())
    coco_block(Views(o, run))
    t.append(time.perf_counter())
    return {"decode": t[1] - t[0], "load": t[2] - t[1], "match": t[3] - t[2], "accumulate": t[4] - t[3]}


TOOLS = {
    "pycocotools 2.0.11": run_pycocotools,
    "faster-coco-eval 1.8.0": run_faster_coco_eval,
    "ultrafast-pycocotools 0.1.14": run_ultrafast,
    "hotcoco 1.3.0": run_hotcoco,
    "tinydet (COCO block)": run_tinydet,
    "tinydet (COCO + AI-TOD + centre blocks)": run_tinydet_all,
}

# Whole processes: {G} and {P} are the two files. A library's script evaluates COCO, and with {AITOD} also the
# AI-TOD ranges at 1,500 detections (the same COCOeval run again with other params).
_LIBRARY_SCRIPT = """
import contextlib, io, sys
{imports}
def run(area_rng=None, labels=None, max_dets=None):
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(sys.argv[1]); ev = COCOeval(gt, gt.loadRes(sys.argv[2]), "bbox")
        if area_rng:
            ev.params.areaRng, ev.params.areaRngLbl, ev.params.maxDets = area_rng, labels, max_dets
        ev.evaluate(); ev.accumulate(); ev.summarize()
    print(list(ev.stats[:3]))
run()
if sys.argv[3] == "aitod":
    run([[0, 1e10], [0, 64], [64, 256], [256, 1024], [1024, 4096], [4096, 1e10]],
        ["all", "verytiny", "tiny", "small", "medium", "large"], [1, 100, 1500])
"""
LIBRARY_IMPORTS = {
    "pycocotools": "from pycocotools.coco import COCO\nfrom pycocotools.cocoeval import COCOeval",
    "faster-coco-eval": "from faster_coco_eval import COCO\nfrom faster_coco_eval import COCOeval_faster as COCOeval",
    "ultrafast-pycocotools": "from ultrafast_pycocotools import COCO, COCOeval",
    "hotcoco": "from hotcoco import COCO, COCOeval",
}


def process_command(tool: str, gt_file: str, pred_file: str, blocks: str, out_json: str) -> list[str]:
    """argv of one whole-process run: `tinydet eval`, or a library's script (see _LIBRARY_SCRIPT)."""
    if tool == "tinydet eval":
        return [sys.executable, "-m", "tinydet", "eval", "--gt", gt_file, "--pred", pred_file, "--blocks", blocks,
                "--json", out_json]
    script = _LIBRARY_SCRIPT.format(imports=LIBRARY_IMPORTS[tool])
    return [sys.executable, "-c", script, gt_file, pred_file, "aitod" if "aitod" in blocks else "coco"]


def time_processes(files: tuple[str, str], warm_files: tuple[str, str], rounds: int, tmp: str) -> dict[tuple[str, str], list[float]]:
    """{(tool, blocks): seconds per round}, whole processes on (gt, pred) `files` run from an empty folder,
    interleaved, after one uncounted round on the small `warm_files`."""
    import subprocess

    tools = [*LIBRARY_IMPORTS, "tinydet eval"]
    # As after `pip install`, which compiles every module: bytecode is written (round 0) and read back.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    times: dict[tuple[str, str], list[float]] = {(t, b): [] for b in ("coco", "coco,aitod") for t in tools}
    for r in range(rounds + 1):  # round 0 writes and caches the imports' .pyc files; not counted
        for tool, blocks in times:
            argv = process_command(tool, *(files if r else warm_files), blocks, os.path.join(tmp, "out.json"))
            t0 = time.perf_counter()
            subprocess.run(argv, cwd=tmp, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if r:
                times[tool, blocks].append(time.perf_counter() - t0)
                print(f"process round {r}: {tool} [{blocks}]: {times[tool, blocks][-1]:.2f} s", file=sys.stderr)
    return times


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--images", type=int, default=5000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--write", default=None, help="replace the section of this markdown file with the results")
    args = ap.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="tinydet-evalbench-") as tmp:
        gt, preds = make_case(args.images, args.seed)
        gt_file, pred_file = os.path.join(tmp, "gt.json"), os.path.join(tmp, "pred.json")
        Path(gt_file).write_text(json.dumps(gt))
        Path(pred_file).write_text(json.dumps(preds))
        n_gt, n_pred = len(gt["annotations"]), len(preds)
        print(f"case: {args.images} images, {n_gt} boxes ({sum(a['iscrowd'] for a in gt['annotations'])} crowd), "
              f"{n_pred} predictions", file=sys.stderr)
        warm_gt, warm_preds = os.path.join(tmp, "warm_gt.json"), os.path.join(tmp, "warm_pred.json")
        small_gt, small_preds = make_case(50, args.seed + 1)
        Path(warm_gt).write_text(json.dumps(small_gt))
        Path(warm_preds).write_text(json.dumps(small_preds))
        for fn in TOOLS.values():  # imports (tinydet's pulls in torch) and first calls are not what we measure
            fn(warm_gt, warm_preds)
        load = os.getloadavg()[0]
        times: dict[str, list[float]] = {name: [] for name in TOOLS}
        stats: dict[str, np.ndarray] = {}
        for r in range(args.rounds):
            for name, fn in TOOLS.items():
                t0 = time.perf_counter()
                stats[name] = fn(gt_file, pred_file)
                times[name].append(time.perf_counter() - t0)
                print(f"round {r + 1}: {name}: {times[name][-1]:.2f} s", file=sys.stderr)
        process_times = time_processes((gt_file, pred_file), (warm_gt, warm_preds), args.rounds, tmp)
        phases: dict[str, dict[str, float]] = {}
        for name, fn in (("pycocotools", phases_pycocotools), ("tinydet (COCO block)", phases_tinydet)):
            runs = [fn(gt_file, pred_file) for _ in range(3)]
            phases[name] = {k: statistics.median(r[k] for r in runs) for k in runs[0]}

    ref_name = next(iter(TOOLS))
    lines = [
        f"Case: {args.images:,} images, {n_gt:,} ground-truth boxes, {n_pred:,} predictions, 10 classes "
        f"(generated by the script, seed {args.seed}); end to end from the two JSON files, imports done; "
        f"{args.rounds} interleaved rounds on {os.cpu_count()} CPU cores ({platform.processor() or platform.machine()}, "
        f"load average {load:.1f} at the start: a shared machine, so absolute times are inflated and noisy), "
        f"Python {platform.python_version()}, numpy {np.__version__}. Speed-up: median over rounds of "
        "(pycocotools' time / the tool's time in the same round).",
        "",
        "| evaluator | median time (s) | speed-up vs pycocotools (min-max over rounds) | max abs diff of the 12 COCO stats vs pycocotools |",
        "|---|---:|---:|---:|",
    ]
    for name in TOOLS:
        ratios = [a / b for a, b in zip(times[ref_name], times[name])]
        diff = float(np.abs(stats[name] - stats[ref_name]).max())
        lines.append(f"| {name} | {statistics.median(times[name]):.2f} | {statistics.median(ratios):.1f}x "
                     f"({min(ratios):.1f}-{max(ratios):.1f}) | {diff:.1e} |")
    lines += ["", "Whole processes, start-up included (median seconds over the rounds; ratio: the tool's time / "
              "hotcoco's for the same blocks, in the same round):", "",
              "| evaluator | COCO block (s) | vs hotcoco | COCO + AI-TOD blocks (s) | vs hotcoco |", "|---|---:|---:|---:|---:|"]
    for tool in dict.fromkeys(t for t, _ in process_times):
        cells = []
        for blocks in ("coco", "coco,aitod"):
            ratios = [a / b for a, b in zip(process_times[tool, blocks], process_times["hotcoco", blocks])]
            cells += [f"{statistics.median(process_times[tool, blocks]):.2f}", f"{statistics.median(ratios):.2f}x"]
        lines.append(f"| {tool} | " + " | ".join(cells) + " |")
    lines += ["", "Where the time goes (median of 3 more runs of each, seconds):", "",
              "| stage | pycocotools | tinydet (COCO block) |", "|---|---:|---:|"]
    py, td = phases["pycocotools"], phases["tinydet (COCO block)"]
    lines.append(f"| load both JSON files (tinydet: of which typed decoding) | {py['load']:.2f} | {td['load']:.2f} ({td['decode']:.2f}) |")
    lines.append(f"| match (per image and class; tinydet: ranks, pairs, IoU, greedy matching) | {py['match']:.2f} | {td['match']:.2f} |")
    lines.append(f"| accumulate + summarise | {py['accumulate']:.2f} | {td['accumulate']:.2f} |")
    lines += ["", "AP / AP50 / APs of the case (pycocotools): "
              + " / ".join(f"{v:.4f}" for v in stats[ref_name][[0, 1, 3]]), "",
              f"Command: `PYTHONPATH=$PWD python benchmarks/eval_speed.py --rounds {args.rounds} --write BENCHMARKS.md` (needs `pip install -e .[bench]`)"]
    text = "\n".join(lines)
    print(text)
    if args.write:
        replace_section(Path(args.write), SECTION, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
