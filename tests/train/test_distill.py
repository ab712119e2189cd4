"""Distillation: zero when student equals teacher, positive with finite gradients otherwise, the losses against
naive references, clear errors, and a 1-epoch run whose checkpoint holds no teacher."""

from __future__ import annotations

import copy
import math

import pytest
import torch

from tinydet.train.distill import DistillOptions, box_kl, cls_kl, feature_mse
from tinydet.errors import TinydetError


def _model(cfg: str, nc: int = 2, seed: int = 0):
    from tinydet.integrations.ultralytics.builder import build_model

    model = build_model(cfg, nc=nc)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(1 + 0.3 * torch.randn(p.shape, generator=g))
    return model.eval()


def _terms(student, teacher, images, options=DistillOptions()):
    from tinydet.integrations.ultralytics.training.distill import Distiller

    distiller = Distiller(teacher, student, options)
    return distiller, distiller(student(images), images)


def test_distillation_is_zero_when_the_student_is_the_teacher():
    student = _model("yolov8n.yaml")
    _, terms = _terms(student, copy.deepcopy(student), torch.rand(2, 3, 64, 64))
    for value in (terms.total, terms.cls, terms.box, terms.feature):
        assert abs(float(value)) < 1e-7


def test_distillation_is_positive_with_finite_gradients_for_a_different_teacher():
    student, teacher = _model("yolov8n.yaml", seed=1), _model("yolov8s.yaml", seed=2)  # 64 vs 128 channels at P3
    student.train()
    distiller, terms = _terms(student, teacher, torch.rand(2, 3, 64, 64))
    assert all(float(v) > 0 and math.isfinite(float(v)) for v in (terms.total, terms.cls, terms.box, terms.feature))
    assert any(isinstance(a, torch.nn.Conv2d) for a in distiller.adapters)
    terms.total.backward()
    grads = [p.grad for p in [*student.parameters(), *distiller.adapters.parameters()] if p.grad is not None]
    assert grads and all(torch.isfinite(g).all() for g in grads)
    assert all(p.grad is None for p in teacher.parameters())  # the teacher stays frozen


def test_shared_strides_only_and_clear_errors():
    from tinydet.integrations.ultralytics.training.distill import Distiller

    p2 = _model("yolov8n-p2.yaml")  # strides 4, 8, 16, 32
    distiller = Distiller(p2, _model("yolov8n.yaml"), DistillOptions())
    assert distiller.strides == [8, 16, 32]
    with pytest.raises(TinydetError, match="same classes"):
        Distiller(_model("yolov8n.yaml", nc=3), _model("yolov8n.yaml", nc=2), DistillOptions())
    with pytest.raises(TinydetError, match="temperature"):
        DistillOptions(temperature=0)


def _binary_kl_reference(s, t, T):
    s, t = s.numpy(), t.numpy()
    total = 0.0
    b, c, n = s.shape
    for i in range(b):
        for k in range(n):
            for j in range(c):
                p = 1 / (1 + math.exp(-t[i, j, k] / T))
                q = 1 / (1 + math.exp(-s[i, j, k] / T))
                total += p * math.log(p / q) + (1 - p) * math.log((1 - p) / (1 - q))
    return total / (b * n) * T * T


def _dfl_kl_reference(s, t, reg_max, T, w):
    s, t, w = s.numpy(), t.numpy(), w.numpy()
    b, _, n = s.shape
    num = den = 0.0
    for i in range(b):
        for k in range(n):
            sides = 0.0
            for side in range(4):
                ls = [s[i, side * reg_max + r, k] / T for r in range(reg_max)]
                lt = [t[i, side * reg_max + r, k] / T for r in range(reg_max)]
                zs, zt = sum(math.exp(v) for v in ls), sum(math.exp(v) for v in lt)
                ps, pt = [math.exp(v) / zs for v in ls], [math.exp(v) / zt for v in lt]
                sides += sum(a * math.log(a / c) for a, c in zip(pt, ps))
            num += w[i, k] * sides / 4
            den += w[i, k]
    return num / den * T * T


@pytest.mark.parametrize("T", [1.0, 2.5])
def test_logit_losses_match_naive_references(T):
    g = torch.Generator().manual_seed(0)
    s = torch.randn(2, 3, 5, generator=g, dtype=torch.float64)
    t = torch.randn(2, 3, 5, generator=g, dtype=torch.float64)
    assert float(cls_kl(s, t, T)) == pytest.approx(_binary_kl_reference(s, t, T), rel=1e-9)
    rm = 4
    bs, bt = torch.randn(2, 4 * rm, 5, generator=g, dtype=torch.float64), torch.randn(2, 4 * rm, 5, generator=g,
                                                                                     dtype=torch.float64)
    w = torch.rand(2, 5, generator=g, dtype=torch.float64)
    assert float(box_kl(bs, bt, rm, T, w)) == pytest.approx(_dfl_kl_reference(bs, bt, rm, T, w), rel=1e-9)
    a, b = torch.randn(1, 2, 3, 3, generator=g), torch.randn(1, 2, 3, 3, generator=g)
    assert float(feature_mse(a, b, normalize=False)) == pytest.approx(float(((a - b) ** 2).mean()), rel=1e-6)
    assert float(feature_mse(a, a)) == 0.0


@pytest.mark.slow
def test_one_epoch_with_a_teacher_logs_the_term_and_saves_a_plain_model(tiny_data, tmp_path):
    from tests.export.conftest import make_checkpoint
    from tinydet.cli import main
    from tinydet.integrations.ultralytics.checkpoints import load_detection_checkpoint

    teacher = make_checkpoint("yolov8n-p2", tmp_path / "teacher.pt", nc=4)  # tiny_data has 4 classes
    out = tmp_path / "run"
    code = main(["train", "--data", str(tiny_data), "--model", "yolov8n", "--epochs", "1", "--imgsz", "64",
                 "--batch", "4", "--out", str(out), "--workers", "0", "--distill-from", str(teacher),
                 "--distill-t", "3", "--set", "plots=false"])
    assert code == 0
    header = (out / "results.csv").read_text().splitlines()[0]
    assert "train/distill" in header
    values = (out / "results.csv").read_text().splitlines()[1].split(",")
    row = dict(zip([h.strip() for h in header.split(",")], values))
    assert float(row["train/distill"]) > 0
    assert f"distill_from: {teacher}" in (out / "tinydet_run.yaml").read_text()
    best = load_detection_checkpoint(out / "weights" / "best.pt")
    assert type(best).__name__ == "DetectionModel" and getattr(best, "criterion", None) is None
    assert len(best.model[-1].stride) == 3  # the yolov8n student, not the P2 teacher
    assert (out / "weights" / "best.pt").stat().st_size < 1.2 * teacher.stat().st_size


def test_distillation_needs_an_existing_teacher(tiny_data, tmp_path, capsys):
    from tinydet.cli import main

    code = main(["train", "--data", str(tiny_data), "--model", "yolov8n", "--epochs", "1", "--out",
                 str(tmp_path / "r"), "--distill-from", str(tmp_path / "nope.pt")])
    assert code == 2 and "--distill-from" in capsys.readouterr().err
