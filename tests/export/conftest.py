"""Fixtures of the export tests: small checkpoints built from zoo YAMLs (never downloaded)."""

from __future__ import annotations

import pytest

import tinydet  # noqa: F401  before torch: sets OMP_WAIT_POLICY=PASSIVE (else forwards are ~10x slower on busy cores)
import torch  # noqa: E402

NC = 2
IMGSZ = 64


def make_checkpoint(name: str, path, nc: int = NC, seed: int = 0):
    """Build zoo config `name` with `nc` classes, give it He-initialised convolutions (an untrained YOLO scores
    every box near zero, so parity would compare empty box lists) and save it as a checkpoint at `path`."""
    from ultralytics import YOLO

    from tinydet.integrations.ultralytics.builder import build_model
    from tinydet.models.zoo import zoo

    model_path = zoo()[name].model_path
    yolo = YOLO(model_path)
    model = build_model(model_path, nc=nc)
    model.names = {i: f"c{i}" for i in range(nc)}
    g = torch.Generator().manual_seed(seed)
    dfl = getattr(getattr(model.model[-1], "dfl", None), "conv", None)  # the DFL projection is left alone
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.Conv2d) and m is not dfl:
                fan_in = m.in_channels // m.groups * m.kernel_size[0] * m.kernel_size[1]
                m.weight.normal_(0, (2.0 / fan_in) ** 0.5, generator=g)
                if m.bias is not None:
                    m.bias.normal_(0, 1.0, generator=g)
        for m in model.modules():  # deformable offsets stay small (He-initialised they send sampling far outside
            if type(m).__name__ == "DeformConv":  # the image and torchvision's kernel crashes on them)
                m.offset.weight.mul_(0.01)
                m.offset.bias.zero_()
        head = model.model[-1]
        if head.reg_max == 1:  # raw box distances (no DFL): keep them positive, or boxes come out inverted
            for branch in (head.cv2, getattr(head, "one2one_cv2", None) or []):
                for seq in branch:
                    seq[-1].weight.mul_(0.05)
                    seq[-1].bias.fill_(1.0)
    yolo.model = model
    yolo.save(path)
    return path


@pytest.fixture(scope="session")
def p2_checkpoint(tmp_path_factory):
    """yolov8n-p2 with 2 classes and spread-out random weights."""
    return make_checkpoint("yolov8n-p2", tmp_path_factory.mktemp("ckpt") / "p2.pt")
