"""Deformable convolution: torchvision's kernel and the export path against a slow reference written here, the
module's initialisation, C2fDCN's wiring, gradients into the offsets, and ONNX parity with non-zero offsets."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torchvision.ops import deform_conv2d
from zoo_helpers import perturb_, prediction_tensors

import tinydet  # noqa: F401  (registers the modules)
from tinydet.nn import MODULES
from tinydet.nn.dcn import C2fDCN, DeformConv, deform_conv2d_grid_sample


def _bilinear(img: torch.Tensor, y: float, x: float) -> torch.Tensor:
    """img [C, H, W] at real position (y, x): the four neighbours, zero outside the map."""
    h, w = img.shape[1:]
    y0, x0 = math.floor(y), math.floor(x)
    out = torch.zeros(img.shape[0], dtype=img.dtype)
    for yy, xx in ((y0, x0), (y0, x0 + 1), (y0 + 1, x0), (y0 + 1, x0 + 1)):
        if 0 <= yy < h and 0 <= xx < w:
            out += (1 - abs(y - yy)) * (1 - abs(x - xx)) * img[:, yy, xx]
    return out


def _reference(x, offset, mask, weight, stride, padding):
    """Dai et al. eq. (2) with Zhu et al.'s modulation, one output value at a time."""
    b, _, _, _ = x.shape
    co, _, kh, kw = weight.shape
    ho, wo = offset.shape[-2:]
    out = torch.zeros(b, co, ho, wo, dtype=x.dtype)
    for n in range(b):
        for i in range(ho):
            for j in range(wo):
                acc = torch.zeros(co, dtype=x.dtype)
                for u in range(kh):
                    for v in range(kw):
                        k = u * kw + v
                        y = i * stride - padding + u + float(offset[n, 2 * k, i, j])
                        xx = j * stride - padding + v + float(offset[n, 2 * k + 1, i, j])
                        value = _bilinear(x[n], y, xx) * (1.0 if mask is None else float(mask[n, k, i, j]))
                        acc += weight[:, :, u, v] @ value
                out[n, :, i, j] = acc
    return out


@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("modulated", [True, False])
def test_both_kernels_match_the_reference(stride, modulated):
    g = torch.Generator().manual_seed(stride + 2 * modulated)
    x = torch.randn(2, 3, 6, 7, generator=g, dtype=torch.float64)
    weight = torch.randn(4, 3, 3, 3, generator=g, dtype=torch.float64)
    ho, wo = (6 - 1) // stride + 1, (7 - 1) // stride + 1
    offset = torch.randn(2, 18, ho, wo, generator=g, dtype=torch.float64) * 2.5  # many samples fall off the map
    mask = torch.rand(2, 9, ho, wo, generator=g, dtype=torch.float64) if modulated else None
    expected = _reference(x, offset, mask, weight, stride, 1)
    torchvision_out = deform_conv2d(x, offset, weight, None, (stride, stride), (1, 1), mask=mask)
    torch.testing.assert_close(torchvision_out, expected)
    torch.testing.assert_close(deform_conv2d_grid_sample(x, offset, mask, weight, stride, 1), expected)


def test_both_kernels_have_the_same_gradients():
    """Training on CPU runs the grid_sample kernel, on CUDA torchvision's: every gradient must agree (offsets off
    the pixel grid; on it the bilinear kink gives each kernel its own one-sided derivative)."""
    g = torch.Generator().manual_seed(7)
    inputs = {
        "x": torch.randn(2, 3, 6, 7, generator=g, dtype=torch.float64),
        "offset": torch.randn(2, 18, 6, 7, generator=g, dtype=torch.float64) * 1.7 + 0.3,
        "mask": torch.rand(2, 9, 6, 7, generator=g, dtype=torch.float64),
        "weight": torch.randn(4, 3, 3, 3, generator=g, dtype=torch.float64),
    }
    upstream = torch.randn(2, 4, 6, 7, generator=g, dtype=torch.float64)

    def grads(kernel):
        t = {k: v.clone().requires_grad_() for k, v in inputs.items()}
        (kernel(t) * upstream).sum().backward()
        return {k: v.grad for k, v in t.items()}

    expected = grads(lambda t: deform_conv2d(t["x"], t["offset"], t["weight"], padding=(1, 1), mask=t["mask"]))
    got = grads(lambda t: deform_conv2d_grid_sample(t["x"], t["offset"], t["mask"], t["weight"], 1, 1))
    for name in inputs:
        torch.testing.assert_close(got[name], expected[name], msg=name)


@pytest.mark.parametrize("kernel, grid_sample_on_cpu", [("auto", True), ("grid_sample", True), ("torchvision", False)])
def test_kernel_choice(monkeypatch, kernel, grid_sample_on_cpu):
    monkeypatch.setattr(DeformConv, "kernel", kernel)
    m = DeformConv(3, 4)
    assert m.uses_grid_sample(torch.zeros(1, 3, 4, 4)) is grid_sample_on_cpu
    calls = []
    monkeypatch.setattr("tinydet.nn.dcn.deform_conv2d_grid_sample",
                        lambda *a: calls.append(1) or torch.zeros(1, 4, 4, 4))
    m(torch.zeros(1, 3, 4, 4))
    assert bool(calls) is grid_sample_on_cpu


def test_integer_offsets_shift_the_input():
    """Every sampling point moved down by 1 px: output row r reads input rows r..r+2 (a regular 3x3 conv whose
    padding moved from the top edge to the bottom)."""
    x = torch.randn(1, 2, 5, 5, dtype=torch.float64)
    weight = torch.randn(3, 2, 3, 3, dtype=torch.float64)
    offset = torch.zeros(1, 18, 5, 5, dtype=torch.float64)
    offset[:, 0::2] = 1.0
    expected = F.conv2d(F.pad(x, (1, 1, 0, 2)), weight)
    torch.testing.assert_close(deform_conv2d_grid_sample(x, offset, None, weight, 1, 1), expected)
    torch.testing.assert_close(deform_conv2d(x, offset, weight, padding=(1, 1)), expected)


def test_module_starts_as_half_a_regular_conv():
    m = DeformConv(4, 6, 3, 2).eval()
    x = torch.randn(2, 4, 9, 8)
    offsets, mask = m.offsets_and_mask(x)
    assert offsets.shape == (2, 18, 5, 4) and (offsets == 0).all() and torch.allclose(mask, torch.full_like(mask, 0.5))
    expected = m.act(m.bn(0.5 * F.conv2d(x, m.conv.weight, stride=2, padding=1)))
    torch.testing.assert_close(m(x), expected)
    assert DeformConv(4, 6, modulated=False).offset.out_channels == 18


def test_gradients_reach_the_offset_predictor():
    m = DeformConv(3, 4)
    x = torch.randn(2, 3, 8, 8)
    m(x).square().sum().backward()
    assert m.offset.weight.grad.abs().sum() > 0 and m.conv.weight.grad.abs().sum() > 0


def test_c2fdcn_is_c2f_with_deformable_bottlenecks():
    m = C2fDCN(16, 32, n=2, shortcut=True).eval()
    assert all(isinstance(b.cv2, DeformConv) for b in m.m) and len(m.m) == 2
    x = torch.randn(1, 16, 8, 8)
    torch.testing.assert_close(m.forward_split(x), m(x))
    assert m(x).shape == (1, 32, 8, 8)
    with pytest.raises(ValueError, match="groups"):
        C2fDCN(16, 32, g=2)
    assert {"DeformConv", "C2fDCN"} <= set(MODULES)


def test_onnx_export_with_nonzero_offsets_matches_pytorch(tmp_path, monkeypatch):
    """The zoo-wide ONNX test perturbs weights multiplicatively, which leaves the zero-initialised offset convs at
    zero; here the offsets are random, so the export path's sampling is really compared."""
    import onnx
    import onnxruntime as ort
    from ultralytics import YOLO

    from tinydet.models.zoo import zoo

    monkeypatch.chdir(tmp_path)
    yolo = YOLO(zoo()["yolov8n-p2-dcn"].model_path)
    perturb_(yolo.model)
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for m in yolo.model.modules():
            if isinstance(m, DeformConv):
                m.offset.weight.normal_(0, 0.05, generator=g)
                m.offset.bias.normal_(0, 1.0, generator=g)
    onnx_path = yolo.export(format="onnx", imgsz=64, simplify=False, verbose=False)
    ops = {node.op_type for node in onnx.load(onnx_path).graph.node}
    assert "GridSample" in ops and "DeformConv" not in ops
    x = torch.rand(1, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    session = ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
    (got,) = session.run(None, {session.get_inputs()[0].name: x.numpy()})
    with torch.no_grad():
        (expected,) = [t.numpy() for t in prediction_tensors(yolo.model.eval()(x))]
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-3)
    assert Path(onnx_path).parent.resolve() == tmp_path.resolve()


@pytest.mark.parametrize("kernel", ["grid_sample", "torchvision"])
def test_nan_offsets_do_not_crash_the_process(monkeypatch, kernel):
    """torchvision's deform_conv2d segfaults on NaN offsets; DeformConv must survive a diverged offset branch."""
    monkeypatch.setattr(DeformConv, "kernel", kernel)
    conv = DeformConv(8, 8).eval()
    torch.nn.init.constant_(conv.offset.bias, float("nan"))
    with torch.no_grad():
        out = conv(torch.randn(1, 8, 16, 16))
    assert out.shape == (1, 8, 16, 16)
