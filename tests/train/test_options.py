"""The options table (tinydet/train/options.py) is the one declaration: the CLI flags, Recipe and TrainOptions,
docs/training.md's table, tune's default space and the loss registries all follow it."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

import pytest
import yaml

from tinydet.cli import build_parser
from tinydet.errors import TinydetError
from tinydet.train.erase import FILLS
from tinydet.train.losses import BOX_LOSSES, CLS_LOSS_DEFAULTS
from tinydet.train.options import OPTIONS, RECIPE_OPTIONS, RUN_OPTIONS, markdown_table, option, search_space
from tinydet.train.recipe import Recipe
from tinydet.train.run import TrainOptions

REPO = Path(__file__).resolve().parents[2]


def test_recipe_fields_are_the_recipe_rows():
    assert [f.name for f in fields(Recipe)] == [o.name for o in RECIPE_OPTIONS] + ["ultralytics"]
    assert {f.name: f.default for f in fields(Recipe) if f.name != "ultralytics"} == {
        o.name: o.default for o in RECIPE_OPTIONS}


def test_train_options_fields_are_the_run_rows():
    names = {f.name for f in fields(TrainOptions)}
    assert names == {o.name for o in RUN_OPTIONS} | {"recipe", "overrides"}


def test_every_option_is_a_train_flag_in_its_group():
    parser = build_parser()
    train = parser._subparsers._group_actions[0].choices["train"]
    by_dest = {a.dest: a for a in train._actions}
    for o in OPTIONS:
        assert o.name in by_dest, f"{o.name} has no flag"
        assert o.cli_flag in by_dest[o.name].option_strings
    titles = {group.title: {a.dest for a in group._group_actions} for group in train._action_groups}
    assert titles["losses and assignment"] >= {"box_loss", "assigner", "cls_loss"}
    assert "val_slice" in titles["validation and the choice of best.pt"]
    assert "distill_from" in titles["compression (distillation, docs/compress.md)"]


def test_flags_show_their_defaults():
    parser = build_parser()
    train = parser._subparsers._group_actions[0].choices["train"]
    text = " ".join(train.format_help().split())
    for o in OPTIONS:
        shown = "none" if o.default is None else str(o.default).lower() if isinstance(o.default, bool) else str(o.default)
        assert f"(default: {shown})" in text, o.name


def test_the_docs_table_is_the_generated_one():
    text = (REPO / "docs" / "training.md").read_text()
    match = re.search(r"<!-- options table: begin -->\n(.*)<!-- options table: end -->", text, re.S)
    assert match, "docs/training.md lost its options table markers"
    assert match.group(1) == markdown_table(), "regenerate it: python -m tinydet.train.options"


def test_tunes_default_space_holds_the_tables_search_ranges():
    space = yaml.safe_load((REPO / "tinydet" / "tune" / "default_space.yaml").read_text())["parameters"]
    recipe_knobs = {name: spec for name, spec in space.items() if spec.get("target") == "recipe"}
    assert recipe_knobs == search_space()


def test_the_loss_registries_implement_the_tables_choices():
    assert set(BOX_LOSSES.names) == set(option("box_loss").choices)
    assert set(CLS_LOSS_DEFAULTS.names) == set(option("cls_loss").choices)
    assert set(FILLS) == set(option("erase_fill").choices)


def test_every_default_passes_its_own_check():
    for o in OPTIONS:
        assert o.check(o.default) == o.default or o.default is None
    Recipe()


@pytest.mark.parametrize("name, value, message", [
    ("geo_mixup", 1.5, r"geo_mixup must be in \[0, 1\], got 1.5"),
    ("label_smoothing", 1.0, r"label_smoothing must be in \[0, 1\), got 1.0"),
    ("nwd_c", 0, r"nwd_c must be above 0, got 0"),
    ("atss_topk", 2.5, "atss_topk must be a whole number"),
    ("atss_topk", 0, "atss_topk must be at least 1"),
    ("box_loss", "iou", "box_loss must be one of ciou, diou"),
    ("random_interp", "yes", "random_interp must be true or false"),
    ("val_slice_every", 0, "val_slice_every must be at least 1"),
])
def test_a_bad_value_names_its_option_and_range(name, value, message):
    with pytest.raises(TinydetError, match=message):
        option(name).check(value)


@pytest.mark.parametrize("kwargs, message", [
    ({"epochs": 0}, "--epochs: epochs must be at least 1"),
    ({"imgsz": -5}, "--imgsz: imgsz must be at least 32"),
    ({"workers": -1}, "--workers: workers must be at least 0"),
])
def test_train_options_check_their_ranges(kwargs, message):
    with pytest.raises(TinydetError, match=message):
        TrainOptions(data="d.yaml", **kwargs)
