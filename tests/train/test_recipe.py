import pytest

from tinydet.errors import TinydetError
from tinydet.train.recipe import Recipe, load_recipe_file


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"box_loss": "iou"}, "box_loss must be one of"),
        ({"cls_loss": "hinge"}, "cls_loss must be one of"),
        ({"recipe": "magic"}, "recipe must be one of"),
        ({"assigner_metric": "giou"}, "assigner_metric must be one of"),
        ({"geo_mixup": 1.5}, r"geo_mixup must be in \[0, 1\]"),
        ({"label_smoothing": 1.0}, "label_smoothing"),
        ({"nwd_c": 0}, "nwd_c must be above 0"),
        ({"focal_gamma": -1}, "focal_gamma"),
    ],
)
def test_bad_options(kwargs, message):
    with pytest.raises(TinydetError, match=message):
        Recipe(**kwargs)


def test_recipe_file_and_unknown_keys(tmp_path):
    f = tmp_path / "r.yaml"
    f.write_text("box_loss: nwd\nnwd_c: 8\nultralytics:\n  cos_lr: true\n")
    r = load_recipe_file(f)
    assert r.box_loss == "nwd" and r.nwd_c == 8 and r.ultralytics == {"cos_lr": True} and r.changes_losses
    f.write_text("box_los: nwd\n")
    with pytest.raises(TinydetError, match="unknown recipe option.*box_los"):
        load_recipe_file(f)
    with pytest.raises(TinydetError, match="recipe file not found"):
        load_recipe_file(tmp_path / "none.yaml")


def test_cli_flags_override_recipe_file(tmp_path):
    from tinydet.cli import build_parser
    from tinydet.cli.commands.train import recipe_from_args

    f = tmp_path / "r.yaml"
    f.write_text("box_loss: nwd\ncls_loss: focal\n")
    args = build_parser().parse_args(["train", "--data", "d.yaml", "--recipe-file", str(f), "--box-loss", "diou"])
    r = recipe_from_args(args)
    assert r.box_loss == "diou" and r.cls_loss == "focal"
    assert recipe_from_args(build_parser().parse_args(["train"])) == Recipe()
