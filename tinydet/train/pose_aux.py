"""The pose-head auxiliary recipe (seeds 000/001), done so that it cannot silently lose weights.

1. Box labels become centre-keypoint labels in a new folder (`cls cx cy w h cx cy 2`, kpt_shape [1, 3]).
2. The detect config's pose twin (same backbone and neck, pose head) trains with low box and DFL gains
   (0.01 each by default, as in the seed), so the keypoint loss (centre distance) drives the shared layers.
3. The detect twin is built with the dataset's class count and loads the pose weights. Every detect tensor
   must transfer (the seed's snippet builds an 80-class model, so 6 tensors of the class head are lost);
   the detect outputs must equal the pose model's box and class outputs on a batch; GFLOPs must equal the
   plain detect config's (zero inference overhead). Any failure stops with an error.
4. `weights/best_detect.pt` is written: a stock ultralytics checkpoint that `YOLO()` loads.

best.pt of the pose run is chosen on box metrics (tinydet's pose validator), not on ultralytics' pose mix:
the design notes measured that pose fitness can pick a checkpoint whose keypoints are good and boxes poor.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from tinydet.errors import TinydetError
from tinydet.integrations.ultralytics.builder import build_model, gflops
from tinydet.integrations.ultralytics.checkpoints import load_yolo, save_model_checkpoint


@dataclass
class Transfer:
    """Outcome of loading pose weights into a detect model."""

    transferred: int
    total: int
    max_abs_diff: float
    detect_gflops: float
    reference_gflops: float


def transfer_pose_to_detect(pose_model: torch.nn.Module, detect_model: torch.nn.Module) -> tuple[int, int]:
    """Copy every tensor of `detect_model` from `pose_model` (same names and shapes). Returns (copied, total).

    Raises TinydetError naming the tensors that do not transfer; the detect model is left untouched then.
    """
    pose_state = pose_model.state_dict()
    detect_state = detect_model.state_dict()
    missing = [k for k in detect_state if k not in pose_state]
    mismatched = [k for k in detect_state if k in pose_state and pose_state[k].shape != detect_state[k].shape]
    if missing or mismatched:
        detail = [f"missing in the pose model: {', '.join(missing[:5])}" if missing else "",
                  f"different shapes: {', '.join(mismatched[:5])}" if mismatched else ""]
        raise TinydetError(
            f"pose -> detect: only {len(detect_state) - len(missing) - len(mismatched)}/{len(detect_state)} tensors "
            f"transfer ({'; '.join(d for d in detail if d)}); the detect config must be the pose config's twin, "
            "built with the dataset's class count"
        )
    detect_model.load_state_dict({k: pose_state[k].to(v.dtype) for k, v in detect_state.items()})
    return len(detect_state), len(detect_state)


@torch.no_grad()
def box_output_difference(pose_model: torch.nn.Module, detect_model: torch.nn.Module, images: torch.Tensor) -> float:
    """Max |detect output - pose box+class output| on `images` (float [B, 3, H, W] in 0..1), both in eval mode."""
    pose_model.eval()
    detect_model.eval()
    det = detect_model(images)
    pose = pose_model(images)
    det = det[0] if isinstance(det, (tuple, list)) else det
    pose = pose[0] if isinstance(pose, (tuple, list)) else pose
    if det.shape[-1] != pose.shape[-1] or det.ndim != pose.ndim:
        raise TinydetError(f"pose -> detect: output shapes differ ({list(det.shape)} vs {list(pose.shape)})")
    return float((det - pose[:, : det.shape[1]]).abs().max())


def convert_pose_checkpoint(pose_ckpt: Path, detect_model_spec: str, out: Path, imgsz: int = 640,
                            check_images: torch.Tensor | None = None, tolerance: float = 1e-5) -> Transfer:
    """Turn a pose-twin checkpoint into a detect checkpoint `out`, with every check of the module docstring.

    `detect_model_spec` is what `YOLO()` takes for the detect twin (the scale-lettered config path).
    """
    pose = load_yolo(pose_ckpt).model.float()
    nc = len(pose.names)
    detect = build_model(detect_model_spec, nc=nc)
    reference_gflops = gflops(build_model(detect_model_spec, nc=nc), imgsz)
    copied, total = transfer_pose_to_detect(pose, detect)
    detect.names = dict(pose.names)
    detect.nc = nc  # as ultralytics' trainer sets it on the models it saves
    detect.args = {**(pose.args if isinstance(pose.args, dict) else vars(pose.args)), "task": "detect"}
    if check_images is None:
        generator = torch.Generator().manual_seed(0)
        check_images = torch.rand(2, 3, imgsz, imgsz, generator=generator)
    diff = box_output_difference(pose, detect, check_images)
    if diff > tolerance:
        raise TinydetError(f"pose -> detect: detect outputs differ from the pose model's box outputs by {diff:.3g}")
    detect_gflops = gflops(detect, imgsz)
    if abs(detect_gflops - reference_gflops) > 1e-6:
        raise TinydetError(f"pose -> detect: {detect_gflops:.2f} GFLOPs, expected the detect config's "
                           f"{reference_gflops:.2f}")
    save_model_checkpoint(detect, out, detect.args, extra={
        "epoch": -1, "best_fitness": None, "updates": None, "optimizer": None,
        "tinydet": {"converted_from": str(pose_ckpt), "tensors": f"{copied}/{total}", "max_abs_diff": diff},
    })
    return Transfer(copied, total, diff, detect_gflops, reference_gflops)
