"""Export numbers for one checkpoint: parity of every CPU export format, the INT8 cost (mAP50 change, speed-up
against FP32 OpenVINO) and the latency table of the inference backends, all on the val images of one dataset,
in one run (ratios are what to compare on a noisy machine).

    PYTHONPATH=$PWD python benchmarks/export_bench.py --model best.pt --data data.yaml [--imgsz 640] [--runs 10]

Exports go to a temporary folder (the FP32 OpenVINO export used as the INT8 baseline is cached beside the
checkpoint, as `--backend openvino` caches it). Prints a Markdown block with the command that produced it.
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="checkpoint (.pt)")
    parser.add_argument("--data", required=True, help="data.yaml (val split: parity, INT8 calibration, mAP, timing)")
    parser.add_argument("--imgsz", type=int, default=640)
    parser.add_argument("--runs", type=int, default=10, help="timed passes over the images")
    parser.add_argument("--images", type=int, default=16, help="val images for parity and timing")
    parser.add_argument("--conf", type=float, default=0.25, help="confidence of the boxes parity compares")
    args = parser.parse_args(argv)

    import tinydet  # noqa: F401  before torch: its OpenMP settings (OMP_WAIT_POLICY) must precede torch's import
    import torch

    from tinydet.export import ExportSpec, bench, export_model, format_table
    from tinydet.export.runtime import dataset_images

    lines = [f"`{' '.join(['python', 'benchmarks/export_bench.py', *sys.argv[1:]])}`", "",
             f"CPU: {platform.processor() or platform.machine()}, {torch.get_num_threads()} threads, imgsz {args.imgsz}, "
             f"parity on {args.images} val images at conf {args.conf}", "",
             "| export | precision | max abs raw diff | box agreement (IoU>=0.9) | export s |", "|---|---|---|---|---|"]
    int8 = None
    with tempfile.TemporaryDirectory() as tmp:
        specs = [ExportSpec(format=f, imgsz=args.imgsz, data=args.data) for f in ("onnx", "openvino", "torchscript")]
        specs += [ExportSpec(format="onnx", imgsz=args.imgsz, half=True, data=args.data),
                  ExportSpec(format="openvino", imgsz=args.imgsz, int8=True, data=args.data)]
        for i, spec in enumerate(specs):
            start = time.perf_counter()
            report = export_model(args.model, spec, Path(tmp) / f"m{i}.{spec.format}", check=False,
                                  parity_images=args.images, conf=args.conf)
            seconds = time.perf_counter() - start
            p = report.parity
            agreement = "n/a" if p.agreement is None else f"{p.agreement:.1%} ({p.matched}/{p.torch_boxes})"
            verdict = "" if not p.failures else " (beyond tolerance)"
            lines.append(f"| {spec.format} | {spec.precision} | {p.max_abs_diff:.3g}{verdict} | {agreement} | {seconds:.1f} |")
            int8 = report.int8 or int8
    if int8 is not None:
        lines += ["", f"INT8 OpenVINO (NNCF, calibrated on the val split): {int8.summary()}"]
    images = dataset_images(args.data, args.images)
    rows = bench([args.model], ["torch", "onnxruntime", "openvino"], args.imgsz, args.runs, 2, images)
    lines += ["", "```", format_table(rows), "```"]
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
