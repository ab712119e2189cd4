"""Training-step or inference time of the deformable-conv model with each DeformConv kernel, beside its plain twin.

`--mode train` (default): one training step = forward, loss-free sum, backward of the whole detection model on a
random batch, as in training (train mode, BatchNorm updating). `--mode infer`: one forward in eval mode without
gradients, after Conv+BN fusion, as deployed (use `--batch 1` for per-image latency; no NMS). Models: yolov8n-p2
(no deformable conv: the floor) and yolov8n-p2-dcn
with `DeformConv.kernel` set to "torchvision" and to "grid_sample" (tinydet/nn/dcn.py). Each is timed in turn,
`--rounds` times, and the median is reported with the ratio to the plain twin, so the kernels are compared side
by side in one run on the same machine state.

  python benchmarks/bench_dcn.py --device cpu --threads 1 --batch 16 --imgsz 416 --rounds 3
  python benchmarks/bench_dcn.py --device cuda --batch 16 --imgsz 416 --rounds 10
  python benchmarks/bench_dcn.py --mode infer --device cpu --threads 1 --batch 1 --imgsz 416 --warmup 3 --rounds 30
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


def forward_seconds(model, batch, device: str) -> float:
    """Seconds for one gradient-free forward of `model` (eval mode) on `batch`."""
    import torch

    if device.startswith("cuda"):
        torch.cuda.synchronize()
    start = time.perf_counter()
    with torch.inference_mode():
        model(batch)
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
    ap.add_argument("--mode", choices=("train", "infer"), default="train",
                    help="train: forward + backward in train mode; infer: fused eval-mode forward, no gradients")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--imgsz", type=int, default=416)
    ap.add_argument("--rounds", type=int, default=3, help="timed steps per model")
    ap.add_argument("--warmup", type=int, default=1, help="untimed steps per model before the timed ones")
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
    models = {model: DetectionModel(str(zoo()[model].model_path), nc=4, verbose=False).to(args.device)
              for model in {model for _, model, _ in cases}}
    for net in models.values():
        net.train() if args.mode == "train" else net.fuse(verbose=False).eval()
    timer = step_seconds if args.mode == "train" else forward_seconds
    times = {label: [] for label, _, _ in cases}
    for round_ in range(args.warmup + args.rounds):
        for label, model, kernel in cases:
            DeformConv.kernel = kernel
            seconds = timer(models[model], batch, args.device)
            if round_ >= args.warmup:
                times[label].append(seconds)
            print(f"round {round_}: {label}: {seconds:.2f} s", flush=True)
    DeformConv.kernel = "auto"
    floor = statistics.median(times[cases[0][0]])
    print(f"\nmode {args.mode}, device {args.device}, threads {torch.get_num_threads()}, batch {args.batch}, "
          f"imgsz {args.imgsz}, median of {args.rounds}\n")
    unit, scale = ("s per step", 1.0) if args.mode == "train" else ("ms per batch", 1000.0)
    print(f"| model | {unit} | vs yolov8n-p2 |\n|---|---:|---:|")
    for label, _, _ in cases:
        median = statistics.median(times[label])
        print(f"| {label} | {median * scale:.2f} | {median / floor:.2f}x |")


if __name__ == "__main__":
    main()
