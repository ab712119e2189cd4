import math

import pytest
import torch
from tinydet.errors import TinydetError

from tinydet.train.losses import classification_loss, smooth_targets


def naive(logit: float, t: float, kind: str, gamma: float, alpha: float) -> float:
    """One element, written straight from the papers."""
    p = 1 / (1 + math.exp(-logit))
    bce = -(t * math.log(p) + (1 - t) * math.log(1 - p))
    if kind == "bce":
        return bce
    if kind == "focal":  # Lin et al.: alpha_t (1 - p_t)^gamma CE, with soft targets |t - p|
        return (alpha * t + (1 - alpha) * (1 - t)) * abs(t - p) ** gamma * bce
    if kind == "varifocal":  # Zhang et al.: q * BCE(p, q) for q > 0, alpha p^gamma * -log(1 - p) for q = 0
        return t * bce if t > 0 else alpha * p**gamma * -math.log(1 - p)
    if kind == "qfl":  # Li et al.: |y - sigma|^beta * BCE
        return abs(t - p) ** gamma * bce
    raise ValueError(kind)


@pytest.mark.parametrize("kind, gamma, alpha", [("bce", 0, 0), ("focal", 2.0, 0.25), ("focal", 1.5, 0.5),
                                                 ("varifocal", 2.0, 0.75), ("qfl", 2.0, 0.0)])
def test_matches_naive_reference(kind, gamma, alpha):
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(200, generator=g, dtype=torch.float64) * 3
    targets = torch.rand(200, generator=g, dtype=torch.float64)
    targets[::3] = 0.0  # negatives
    targets[1::7] = 1.0
    fast = classification_loss(logits, targets, kind, gamma=gamma, alpha=alpha)
    slow = torch.tensor([naive(float(l), float(t), kind, gamma, alpha) for l, t in zip(logits, targets)], dtype=torch.float64)
    assert torch.allclose(fast, slow, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("kind", ["bce", "focal", "varifocal", "qfl"])
def test_finite_gradients_even_for_extreme_logits(kind):
    logits = torch.tensor([-50.0, -5.0, 0.0, 5.0, 50.0], requires_grad=True)
    targets = torch.tensor([0.0, 1.0, 0.3, 0.0, 1.0])
    loss = classification_loss(logits, targets, kind).sum()
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(logits.grad).all()


def test_focal_down_weights_easy_examples():
    easy = classification_loss(torch.tensor([6.0]), torch.tensor([1.0]), "focal")
    hard = classification_loss(torch.tensor([-2.0]), torch.tensor([1.0]), "focal")
    ratio_focal = float(easy / hard)
    ratio_bce = float(classification_loss(torch.tensor([6.0]), torch.tensor([1.0])) /
                      classification_loss(torch.tensor([-2.0]), torch.tensor([1.0])))
    assert ratio_focal < ratio_bce / 100


def test_label_smoothing():
    t = torch.tensor([0.0, 1.0, 0.5])
    assert torch.allclose(smooth_targets(t, 0.1), torch.tensor([0.05, 0.95, 0.5]))
    logits = torch.zeros(3)
    assert torch.allclose(classification_loss(logits, t, "bce", label_smoothing=0.1),
                          classification_loss(logits, smooth_targets(t, 0.1), "bce"))


def test_unknown_kind():
    with pytest.raises(TinydetError, match="unknown classification loss"):
        classification_loss(torch.zeros(1), torch.zeros(1), "hinge")
