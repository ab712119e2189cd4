"""Recipe options assigner (tal | atss), tal_alpha / tal_beta / tal_topk reach ultralytics' criterion."""

import pytest
import torch

from tinydet.errors import TinydetError
from tinydet.integrations.ultralytics.training.criterion import recipe_criterion
from tinydet.train.recipe import Recipe


def _batch(keypoints: bool = False):
    g = torch.Generator().manual_seed(0)
    batch = {
        "img": torch.rand(2, 3, 64, 64, generator=g),
        "batch_idx": torch.tensor([0.0, 0.0, 1.0]),
        "cls": torch.tensor([[0.0], [2.0], [1.0]]),
        "bboxes": torch.tensor([[0.3, 0.3, 0.1, 0.1], [0.7, 0.6, 0.08, 0.12], [0.5, 0.5, 0.2, 0.2]]),
    }
    if keypoints:
        centres = batch["bboxes"][:, None, :2]
        batch["keypoints"] = torch.cat((centres, torch.ones(3, 1, 1)), -1)
    return batch


def _model(cfg: str):
    from ultralytics.cfg import get_cfg
    from ultralytics.nn.tasks import DetectionModel, PoseModel

    if "pose" in cfg:
        model = PoseModel(cfg, nc=3, data_kpt_shape=(1, 3), verbose=False)
    else:
        model = DetectionModel(cfg, nc=3, verbose=False)
    model.args = get_cfg()
    return model


def test_tal_options_reach_the_assigner():
    crit = recipe_criterion(_model("yolov8n.yaml"), Recipe(tal_alpha=1.0, tal_beta=4.0, tal_topk=13))
    assert type(crit.assigner).__name__ == "TaskAlignedAssigner"
    assert (crit.assigner.alpha, crit.assigner.beta, crit.assigner.topk, crit.assigner.topk2) == (1.0, 4.0, 13, 13)
    nwd = recipe_criterion(_model("yolov8n.yaml"), Recipe(tal_alpha=0.7, assigner_metric="nwd"))
    assert type(nwd.assigner).__name__ == "_NWDAlignedAssigner" and nwd.assigner.alpha == 0.7


def test_default_tal_options_are_ultralytics_own():
    from ultralytics.utils.loss import v8DetectionLoss

    stock = v8DetectionLoss(_model("yolov8n.yaml")).assigner
    recipe = Recipe()
    assert (stock.alpha, stock.beta, stock.topk) == (recipe.tal_alpha, recipe.tal_beta, recipe.tal_topk)
    assert not recipe.changes_losses and Recipe(tal_beta=5.0).changes_losses and Recipe(assigner="atss").changes_losses


@pytest.mark.parametrize("cfg", ["yolov8n.yaml", "yolov8n-p2.yaml", "yolov8n-pose.yaml"])
def test_atss_criterion_trains(cfg):
    model = _model(cfg)
    recipe = Recipe(assigner="atss")
    model.criterion = recipe_criterion(model, recipe)
    assert type(model.criterion.assigner).__name__ == "_ATSSAssigner"
    total, _ = model.loss(_batch(keypoints="pose" in cfg))
    total.sum().backward()
    assert torch.isfinite(total).all() and float(total.detach().sum()) > 0
    assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)


def test_atss_adapter_returns_the_pure_assignment_in_tal_form():
    from ultralytics.utils.tal import make_anchors

    from tinydet.train.atss import atss_assign

    model = _model("yolov8n.yaml")
    assigner = recipe_criterion(model, Recipe(assigner="atss", atss_topk=5)).assigner
    strides = [8.0, 16.0, 32.0]
    feats = [torch.zeros(1, 1, 64 // int(s), 64 // int(s)) for s in strides]
    points, stride_tensor = make_anchors(feats, strides)
    points = points * stride_tensor
    gt = torch.tensor([[[10.0, 10.0, 30.0, 26.0], [40.0, 36.0, 60.0, 60.0]], [[5.0, 5.0, 50.0, 50.0], [0, 0, 0, 0]]])
    mask = torch.tensor([[[1.0], [1.0]], [[1.0], [0.0]]])
    labels = torch.tensor([[[2.0], [1.0]], [[0.0], [0.0]]])
    n = points.shape[0]
    pd_boxes = gt[:, :1].expand(2, n, 4).clone()  # every prediction equals the first box of its image
    labels_out, boxes_out, scores, fg, idx = assigner(torch.rand(2, n, 3), pd_boxes, points, labels, gt, mask)
    expected = atss_assign(points, assigner.level_counts(points), strides, gt, mask, topk=5)
    assert assigner.level_counts(points) == [64, 16, 4]
    assert torch.equal(fg, expected.fg_mask) and torch.equal(idx, expected.target_gt_idx) and fg[0].any()
    assert torch.equal(labels_out[fg], labels.squeeze(-1).long().gather(1, idx)[fg])
    assert torch.equal(boxes_out[0, fg[0]], gt[0, idx[0, fg[0]]])
    assert (scores[~fg] == 0).all() and (scores.sum(-1) <= 1 + 1e-6).all()
    first = fg[0] & (idx[0] == 0)
    assert torch.allclose(scores[0, first, 2], torch.ones(int(first.sum())))  # exact prediction: IoU 1, class 2


def test_yolo26_one_to_one_branch_keeps_tal():
    crit = recipe_criterion(_model("yolo26n.yaml"), Recipe(assigner="atss", tal_topk=12))
    assert type(crit.one2many.assigner).__name__ == "_ATSSAssigner"
    assert type(crit.one2one.assigner).__name__ == "TaskAlignedAssigner"
    assert (crit.one2one.assigner.topk, crit.one2one.assigner.topk2) == (7, 1)


@pytest.mark.parametrize(
    "options, message",
    [({"assigner": "simota"}, "assigner must be one of tal, atss"),
     ({"assigner": "atss", "assigner_metric": "nwd"}, "assigner_metric applies to the task-aligned assigner"),
     ({"tal_topk": 0}, "tal_topk must be at least 1"),
     ({"atss_topk": 2.5}, "atss_topk must be a whole number"),
     ({"tal_beta": -1.0}, "tal_beta must be in")],
)
def test_bad_assigner_options(options, message):
    with pytest.raises(TinydetError, match=message):
        Recipe(**options)


@pytest.mark.slow
def test_one_epoch_with_atss_is_recorded(tiny_data, tmp_path, caplog):
    from tinydet.cli import main

    out = tmp_path / "run"
    code = main(["train", "--data", str(tiny_data), "--model", "yolov8n", "--epochs", "1", "--imgsz", "64",
                 "--batch", "4", "--out", str(out), "--workers", "0", "--assigner", "atss", "--tal-alpha", "1.0",
                 "--set", "plots=false"])
    assert code == 0
    assert "tinydet recipe: {'assigner': 'atss', 'tal_alpha': 1.0}" in caplog.text
    recorded = (out / "tinydet_run.yaml").read_text()
    assert "assigner: atss" in recorded and "tal_alpha: 1.0" in recorded and "atss_topk: 9" in recorded
    assert (out / "weights" / "best.pt").is_file()
