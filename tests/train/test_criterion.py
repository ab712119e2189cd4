"""The recipe's losses are installed into ultralytics' own criterion, and only what the recipe changes."""

import pytest
import torch

from tinydet.integrations.ultralytics.training.criterion import recipe_criterion
from tinydet.train.recipe import Recipe


def _model_and_batch():
    from ultralytics.nn.tasks import DetectionModel
    from ultralytics.cfg import get_cfg

    model = DetectionModel("yolov8n.yaml", nc=3, verbose=False)
    model.args = get_cfg()
    g = torch.Generator().manual_seed(0)
    batch = {
        "img": torch.rand(2, 3, 64, 64, generator=g),
        "batch_idx": torch.tensor([0.0, 0.0, 1.0]),
        "cls": torch.tensor([[0.0], [2.0], [1.0]]),
        "bboxes": torch.tensor([[0.3, 0.3, 0.1, 0.1], [0.7, 0.6, 0.08, 0.12], [0.5, 0.5, 0.2, 0.2]]),
    }
    return model, batch


def test_default_recipe_keeps_ultralytics_criterion():
    from ultralytics.utils import loss

    model, _ = _model_and_batch()
    crit = recipe_criterion(model, Recipe())
    assert type(crit.bbox_loss) is loss.BboxLoss and type(crit.assigner).__name__ == "TaskAlignedAssigner"
    assert isinstance(crit.bce, torch.nn.BCEWithLogitsLoss)


@pytest.mark.parametrize(
    "recipe",
    [Recipe(box_loss="nwd"), Recipe(box_loss="nwd-ciou", assigner_metric="nwd"), Recipe(cls_loss="varifocal", label_smoothing=0.1),
     Recipe(box_loss="giou", cls_loss="focal"), Recipe(cls_loss="qfl")],
)
def test_recipe_losses_run_backpropagate_and_are_not_the_stock_ones(recipe):
    """Every recipe's loss is finite with finite gradients, and each term the recipe changes differs from the
    stock loss on the same batch (so a recipe that silently ran the stock loss fails here)."""
    model, batch = _model_and_batch()
    model.criterion = recipe_criterion(model, Recipe())
    with torch.no_grad():
        _, stock = model.loss(batch)
    model.criterion = recipe_criterion(model, recipe)
    total, items = model.loss(batch)
    total.sum().backward()
    assert torch.isfinite(total).all()
    assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)
    assert set(items) == {"box_loss", "cls_loss", "dfl_loss"}
    changed = {"box_loss": recipe.box_loss != "ciou" or recipe.assigner_metric != "iou",
               "cls_loss": recipe.cls_loss != "bce" or recipe.label_smoothing > 0 or recipe.assigner_metric != "iou"}
    for term, differs in changed.items():
        if differs:
            assert float(items[term]) != float(stock[term]), term  # the same batch: stock terms repeat exactly
        else:
            assert float(items[term]) == pytest.approx(float(stock[term]), rel=1e-6), term


def test_nwd_box_term_differs_from_ciou_and_is_bounded():
    model, batch = _model_and_batch()
    torch.manual_seed(0)
    model.criterion = recipe_criterion(model, Recipe())
    _, stock = model.loss(batch)
    model.criterion = recipe_criterion(model, Recipe(box_loss="nwd"))
    _, nwd = model.loss(batch)
    assert stock["cls_loss"] == pytest.approx(float(nwd["cls_loss"]))  # same assignment, same class loss
    assert stock["dfl_loss"] == pytest.approx(float(nwd["dfl_loss"]))
    assert float(nwd["box_loss"]) != pytest.approx(float(stock["box_loss"]))
    assert 0 <= float(nwd["box_loss"]) <= model.args.box  # 1 - NWD in [0, 1), times the box gain
