"""Training-step time of the deformable-conv model with each DeformConv kernel, beside its plain twin.

One training step = forward, loss-free sum, backward of the whole detection model on a random batch, as in
training (train mode, BatchNorm updating). Models: yolov8n-p2 (no deformable conv: the floor) and yolov8n-p2-dcn
with `DeformConv.kernel` set to "torchvision" and to "grid_sample" (tinydet/nn/dcn.py). Each is timed in turn,
`--rounds` times, and the median is reported with the ratio to the plain twin, so the kernels are compared side
by side in one run on the same machine state.

  python benchmarks/bench_dcn.py --device cpu --threads 1 --batch 16 --imgsz 416 --rounds 3
  python benchmarks/bench_dcn.py --device cuda --batch 16 --imgsz 416 --rounds 10
"""

from __future__ import annotations

import argparse
import statistics
import time


def step_seconds(model, batch, device: str) -> float:
    """Seconds for one forward + backward of `model` on `batch` (train mode)."""
    import torch

    model.zero_grad(set_to_none=True)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    start = time.perf_counter()
    out = model(batch)
    parts = out.values() if isinstance(out, dict) else out if isinstance(out, (list, tuple)) else [out]
    sum(p.float().sum() for p in _tensors(parts)).backward()
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return time.perf_counter() - start


def _tensors(parts):
    """Every tensor in a nested head output (dicts, lists and tuples of tensors)."""
    import torch

    for p in parts:
        if isinstance(p, torch.Tensor):
            yield p
        elif isinstance(p, dict):
            yield from _tensors(p.values())
        elif isinstance(p, (list, tuple)):
            yield from _tensors(p)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--imgsz", type=int, default=416)
    ap.add_argument("--rounds", type=int, default=3, help="timed steps per model, after one warm-up step")
    args = ap.parse_args()

    import torch
    from ultralytics.nn.tasks import DetectionModel

    import tinydet  # noqa: F401  (registers the modules)
    from tinydet.models.zoo import zoo
    from tinydet.nn.dcn import DeformConv

    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    batch = torch.rand(args.batch, 3, args.imgsz, args.imgsz, device=args.device)
    cases = [("yolov8n-p2", "yolov8n-p2", "auto"), ("yolov8n-p2-dcn, torchvision kernel", "yolov8n-p2-dcn", "torchvision"),
             ("yolov8n-p2-dcn, grid_sample kernel", "yolov8n-p2-dcn", "grid_sample")]
    models = {model: DetectionModel(str(zoo()[model].model_path), nc=4, verbose=False).to(args.device).train()
              for model in {model for _, model, _ in cases}}
    times = {label: [] for label, _, _ in cases}
    for round_ in range(args.rounds + 1):  # round 0 warms up
        for label, model, kernel in cases:
            DeformConv.kernel = kernel
            seconds = step_seconds(models[model], batch, args.device)
            if round_:
                times[label].append(seconds)
            print(f"round {round_}: {label}: {seconds:.2f} s", flush=True)
    DeformConv.kernel = "auto"
    floor = statistics.median(times[cases[0][0]])
    print(f"\ndevice {args.device}, threads {torch.get_num_threads()}, batch {args.batch}, imgsz {args.imgsz}, "
          f"median of {args.rounds}\n")
    print("| model | s per step | vs yolov8n-p2 |\n|---|---:|---:|")
    for label, _, _ in cases:
        median = statistics.median(times[label])
        print(f"| {label} | {median:.2f} | {median / floor:.2f}x |")


if __name__ == "__main__":
    main()
