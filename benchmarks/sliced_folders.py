"""Sliced prediction of whole folders, real photos and synthetic images: `tinydet predict` against SAHI 0.12.8 as
whole processes, for three checkpoints and two backends, side by side in one run.

    PYTHONPATH=. python benchmarks/sliced_folders.py --oil-tanks ../shared/datasets/oil_tanks \
        [--work .bench/folders] [--rounds 2] [--write BENCHMARKS.md]

Steps (each is skipped when its output exists, so an interrupted run can be started again):

1. checkpoints: yolov8n, yolov8n-p2 and yolov8n-p2-nop5, trained by `tinydet train` on 320 px tiles
   (`tinydet slice`, overlap 0.2) of the first 20 oil_tanks train images, 6 epochs at imgsz 320, nbs 16. The tiles
   keep the native resolution, so the 640 px tiles of step 3 show the tanks at the size the models learnt;
2. images: the first --real val images of oil_tanks (2560x2560 JPEG satellite photos) and --synthetic
   `tinydet synth` images of 4000x3000;
3. for each image set, checkpoint and backend, --rounds rounds; in each round, in rotating order, one whole
   process of each method on the folder: `tinydet predict --slice 640 --imgsz 640`, SAHI (benchmarks/
   sahi_folder.py, `image_size=640`: both told the network input), and SAHI again with the malloc thresholds that
   tinydet sets for itself (tinydet/malloc.py) given as environment variables, which separates the allocator
   from the rest of the pipeline. Overlap 0.2, the same confidence, greedy NMM with IoS 0.5, class-wise, no
   full-image pass. Per process: wall, user and sys seconds and peak RSS (os.wait4), and the prediction loop's
   own seconds as the process prints them (in-process: start-up and model loading left out). Medians over rounds.
   OpenVINO: tinydet in bf16 (`--half`) and SAHI through ultralytics' OpenVINO backend, which runs bf16 on a CPU
   with AMX, on the same export;
4. boxes: the share of tinydet's boxes that SAHI also found (same class, IoU >= 0.9) and the other way round;
5. the table goes to BENCHMARKS.md (section "Sliced inference on real images against SAHI") with --write.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch
from markdown_section import replace_section
from sliced_report import cpu_seconds, cpu_text, load_text, other_cores

from tinydet.ops.boxes import pairwise_iou

MODELS = ("yolov8n", "yolov8n-p2", "yolov8n-p2-nop5")
TILE = 640
TRAIN_TILE, TRAIN_IMAGES, TRAIN_EPOCHS = 320, 20, 6
SECTION = "## Sliced inference on real images against SAHI"
HERE = Path(__file__).resolve().parent
MALLOC_ENV = {"MALLOC_MMAP_THRESHOLD_": str(1 << 30), "MALLOC_TRIM_THRESHOLD_": str(1 << 30)}
LOOP_LINE = re.compile(r"(\d+) boxes on (\d+) images in ([0-9.]+) s")


# ----------------------------------------------------------------------------------------------------------------
# Preparation
# ----------------------------------------------------------------------------------------------------------------
def tinydet_cli() -> list[str]:
    return [sys.executable, "-m", "tinydet"]


def linked_subset(source: Path, out: Path, splits: dict[str, int]) -> Path:
    """A YOLO dataset in `out` whose images are symlinks to the first n images of each split of `source`."""
    if (out / "data.yaml").exists():
        return out / "data.yaml"
    tmp = out.with_name(out.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    for split, n in splits.items():
        (tmp / "images" / split).mkdir(parents=True)
        (tmp / "labels" / split).mkdir(parents=True)
        for image in sorted((source / "images" / split).glob("*.jpg"))[:n]:
            (tmp / "images" / split / image.name).symlink_to(image.resolve())
            shutil.copyfile(source / "labels" / split / f"{image.stem}.txt", tmp / "labels" / split / f"{image.stem}.txt")
    lines = [f"{split}: images/{split}" for split in splits] + ["names:", "  0: tank"]
    (tmp / "data.yaml").write_text("\n".join(lines) + "\n")
    os.replace(tmp, out)
    return out / "data.yaml"


def checkpoints(oil_tanks: Path, work: Path) -> dict[str, Path]:
    subset = linked_subset(oil_tanks, work / "oil-subset", {"train": TRAIN_IMAGES, "val": 3})
    tiles = work / "oil-tiles"
    if not (tiles / "data.yaml").exists():
        shutil.rmtree(tiles, ignore_errors=True)
        subprocess.run([*tinydet_cli(), "slice", str(subset), str(tiles), "--size", str(TRAIN_TILE), "--overlap", "0.2",
                        "--tile-format", "jpg"], check=True)
    out = {}
    for name in MODELS:
        run = work / f"train-{name}"
        if not (run / "weights" / "best.pt").exists():
            shutil.rmtree(run, ignore_errors=True)
            subprocess.run([*tinydet_cli(), "train", "--data", str(tiles / "data.yaml"), "--model", name, "--epochs",
                            str(TRAIN_EPOCHS), "--imgsz", str(TRAIN_TILE), "--batch", "16", "--device", "cpu",
                            "--out", str(run), "--set", "nbs=16"], check=True)
        out[name] = run / "weights" / "best.pt"
    return out


def image_sets(oil_tanks: Path, work: Path, real: int, synthetic: int) -> dict[str, Path]:
    real_dir = work / f"real-{real}"
    if not real_dir.exists():
        tmp = work / f".real-{real}.partial"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        for image in sorted((oil_tanks / "images" / "val").glob("*.jpg"))[:real]:
            (tmp / image.name).symlink_to(image.resolve())
        os.replace(tmp, real_dir)
    synth = work / f"synth-{synthetic}"
    if not synth.exists():
        subprocess.run([*tinydet_cli(), "synth", str(synth), "--images", "1", "--val-images", str(synthetic), "--size",
                        "4000x3000"], check=True, stdout=subprocess.DEVNULL)
    return {f"oil_tanks val, {real} real 2560x2560 JPEG": real_dir,
            f"synthetic, {synthetic} 4000x3000 JPEG": synth / "images" / "val"}


def openvino_export(model: Path) -> Path:
    """The folder of the model's OpenVINO export for TILE px inputs (tinydet's cache, made once here)."""
    from tinydet.infer.backends.export import exported

    return exported(model, "openvino", (TILE, TILE))[0].parent


# ----------------------------------------------------------------------------------------------------------------
# Timing
# ----------------------------------------------------------------------------------------------------------------
def run_process(command: list[str], env: dict[str, str]) -> dict:
    """Run `command` to the end; its wall, user and sys seconds, peak RSS (MB) and printed loop seconds."""
    start = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code:
        raise SystemExit(f"failed ({code}): {' '.join(command)}\n{output[-3000:]}")
    found = LOOP_LINE.findall(output)
    if not found:
        raise SystemExit(f"no 'N boxes on M images in S s' line from: {' '.join(command)}\n{output[-3000:]}")
    return {"wall": wall, "user": usage.ru_utime, "sys": usage.ru_stime, "rss_mb": usage.ru_maxrss / 1024,
            "loop": float(found[-1][2]), "boxes": int(found[-1][0])}


def commands(folder: Path, model: Path, backend: str, conf: float, out: Path) -> dict[str, tuple[list[str], dict]]:
    """method -> (command line, extra environment)."""
    ours = [*tinydet_cli(), "predict", str(folder), "--model", str(model), "--slice", str(TILE), "--imgsz", str(TILE),
            "--overlap", "0.2", "--conf", str(conf), "--merge", "greedy-nmm", "--save-json", "--out", str(out / "tinydet"),
            "--exist-ok"]
    sahi_model = model
    if backend == "openvino":
        ours += ["--backend", "openvino", "--half"]
        sahi_model = openvino_export(model)
    sahi = [sys.executable, str(HERE / "sahi_folder.py"), str(folder), str(sahi_model), "--tile", str(TILE),
            "--imgsz", str(TILE), "--overlap", "0.2", "--conf", str(conf), "--backend", backend]
    return {
        "tinydet": (ours, {}),
        "SAHI": ([*sahi, "--out", str(out / "sahi.json")], {}),
        "SAHI + tinydet's malloc thresholds": ([*sahi, "--out", str(out / "sahi-malloc.json")], MALLOC_ENV),
    }


def compare_boxes(out: Path) -> dict[str, float]:
    """Share of tinydet's boxes SAHI found too (same class, IoU >= 0.9), and of SAHI's that tinydet found."""
    ours: dict[str, list] = {}
    for entry in json.loads((out / "tinydet" / "predictions.json").read_text()):
        x, y, w, h = entry["bbox"]
        ours.setdefault(Path(str(entry["image_id"])).name, []).append([x, y, x + w, y + h, entry["score"], entry["category_id"]])
    theirs = json.loads((out / "sahi.json").read_text())["boxes"]
    found_ours = found_theirs = total_ours = total_theirs = 0
    for name in set(ours) | set(theirs):
        a, b = np.array(ours.get(name, []), float).reshape(-1, 6), np.array(theirs.get(name, []), float).reshape(-1, 6)
        total_ours, total_theirs = total_ours + len(a), total_theirs + len(b)
        if not len(a) or not len(b):
            continue
        iou = pairwise_iou(torch.from_numpy(a[:, :4]), torch.from_numpy(b[:, :4])).numpy()  # [len(a), len(b)]
        match = (iou >= 0.9) & (a[:, None, 5] == b[None, :, 5])
        found_ours += int(match.any(1).sum())
        found_theirs += int(match.any(0).sum())
    return {"ours_in_sahi": found_ours / max(total_ours, 1), "sahi_in_ours": found_theirs / max(total_theirs, 1)}


def measure(sets: dict[str, Path], models: dict[str, Path], backends: list[str], conf: float, rounds: int,
            work: Path) -> list[dict]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", *MALLOC_ENV)}
    env["PYTHONPATH"] = os.pathsep.join([str(HERE.parent), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    rows = []
    for set_name, folder in sets.items():
        for backend in backends:
            for model_name, model in models.items():
                out = work / "out" / f"{folder.parent.name}-{folder.name}-{backend}-{model_name}"
                out.mkdir(parents=True, exist_ok=True)
                methods = commands(folder, model, backend, conf, out)
                for command, extra in methods.values():  # warm-up: byte-code, page cache, exports
                    run_process(command, {**env, **extra})
                seen: dict[str, list[dict]] = {m: [] for m in methods}
                names = list(methods)
                for r in range(rounds):
                    for method in names[r % len(names):] + names[: r % len(names)]:
                        command, extra = methods[method]
                        seen[method].append(run_process(command, {**env, **extra}))
                agreement = compare_boxes(out)
                for method, runs in seen.items():
                    row = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
                    rows.append({"images": set_name, "backend": backend, "model": model_name, "method": method,
                                 **row, **(agreement if method == "tinydet" else {})})
                print(f"{set_name} | {backend} | {model_name}: " + ", ".join(
                    f"{m} {statistics.median(x['wall'] for x in runs):.1f}s" for m, runs in seen.items()), flush=True)
    return rows


# ----------------------------------------------------------------------------------------------------------------
# Report
# ----------------------------------------------------------------------------------------------------------------
def report(rows: list[dict], command: str, meta: dict) -> str:
    lines = [
        SECTION, "",
        f"Command: `{command}` ({meta['minutes']:.0f} min wall, with training where checkpoints were missing)", "",
        f"Machine: {os.cpu_count()} CPU cores ({cpu_text()}), every method on all cores; {meta['load']}. Tiles of "
        f"{TILE} px at network input {TILE} (both tools told so), overlap 0.2, conf {meta['conf']}, greedy NMM with "
        f"IoS 0.5, class-wise, no full-image pass. Whole processes, medians of {meta['rounds']} rounds in rotating "
        "order after one warm-up run each; 'loop s' is the prediction loop as each process prints it (start-up and "
        "model loading left out). OpenVINO: tinydet `--half` (bf16) and SAHI through ultralytics' OpenVINO backend "
        "(bf16 where the CPU has it), the same export. 'same boxes': tinydet's boxes that SAHI also found and SAHI's that "
        "tinydet found (same class, IoU >= 0.9). The third row of each group is SAHI with the malloc thresholds "
        "tinydet sets for itself, given as environment variables: the allocator's share of the difference.", "",
        "| images | backend | model | method | wall s | user s | sys s | peak RSS MB | loop s | boxes | SAHI wall / this | "
        "SAHI loop / this | same boxes |",
        "|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        sahi = next(s for s in rows if s["method"] == "SAHI" and all(s[k] == r[k] for k in ("images", "backend", "model")))
        same = f"{r['ours_in_sahi']:.1%} / {r['sahi_in_ours']:.1%}" if "ours_in_sahi" in r else ""
        lines.append(f"| {r['images']} | {r['backend']} | {r['model']} | {r['method']} | {r['wall']:.1f} | {r['user']:.1f} | "
                     f"{r['sys']:.1f} | {r['rss_mb']:.0f} | {r['loop']:.1f} | {r['boxes']:.0f} | "
                     f"{sahi['wall'] / r['wall']:.2f}x | {sahi['loop'] / r['loop']:.2f}x | {same} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--oil-tanks", required=True, type=Path, help="the oil_tanks dataset folder (data.yaml, images/, labels/)")
    parser.add_argument("--work", type=Path, default=Path(".bench/folders"))
    parser.add_argument("--real", type=int, default=4, help="oil_tanks val images to predict")
    parser.add_argument("--synthetic", type=int, default=1, help="synthetic 4000x3000 images to predict")
    parser.add_argument("--models", nargs="*", default=list(MODELS), choices=MODELS)
    parser.add_argument("--backends", nargs="+", default=["torch", "openvino"], choices=["torch", "openvino"])
    parser.add_argument("--conf", type=float, default=0.25)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--write", type=Path, default=None, help="replace the section in this BENCHMARKS.md")
    args = parser.parse_args()

    t0 = time.perf_counter()
    args.work.mkdir(parents=True, exist_ok=True)
    models = {k: v for k, v in checkpoints(args.oil_tanks, args.work).items() if k in args.models}
    sets = image_sets(args.oil_tanks, args.work, args.real, args.synthetic)
    before = cpu_seconds()
    rows = measure(sets, models, args.backends, args.conf, args.rounds, args.work)
    meta = {"minutes": (time.perf_counter() - t0) / 60, "conf": args.conf, "rounds": args.rounds,
            "load": load_text(other_cores(before, cpu_seconds()))}
    (args.work / "result.json").write_text(json.dumps({"rows": rows, **meta}, indent=1))
    command = "PYTHONPATH=. python " + " ".join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]])
    text = report(rows, command, meta)
    print(text)
    if args.write:
        replace_section(args.write, SECTION, text.split("\n", 1)[1])


if __name__ == "__main__":
    main()
