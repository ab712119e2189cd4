"""Fixtures of the inference tests."""

import pytest
import torch


@pytest.fixture(scope="session")
def checkpoint(tmp_path_factory):
    """An untrained yolov8n (80 classes) with spread-out random weights, saved as a checkpoint.

    A freshly initialised model gives near-equal scores and near-identical boxes, so NMS on it flips with any
    1e-11 change of the arithmetic; with He-initialised convolutions (the DFL projection left alone) scores
    and boxes are diverse and the comparisons below are stable.
    """
    from ultralytics import YOLO

    torch.manual_seed(0)
    yolo = YOLO("yolov8n.yaml")
    dfl = yolo.model.model[-1].dfl.conv
    with torch.no_grad():
        for m in yolo.model.modules():
            if isinstance(m, torch.nn.Conv2d) and m is not dfl:
                torch.nn.init.normal_(m.weight, 0, (2.0 / (m.in_channels * m.kernel_size[0] * m.kernel_size[1])) ** 0.5)
                if m.bias is not None:
                    torch.nn.init.normal_(m.bias, 0, 1.0)
    path = tmp_path_factory.mktemp("model") / "rand.pt"
    yolo.save(path)
    return path
