import os

import pytest

from tinydet.data.datayaml import load_data_yaml
from tinydet.errors import DataError


def test_relative_yaml_path_without_path_key(tiny_data, monkeypatch):
    monkeypatch.chdir(tiny_data.parent.parent)
    cfg = load_data_yaml(os.path.join(tiny_data.parent.name, "data.yaml"))
    assert cfg.root == tiny_data.parent.resolve()
    assert cfg.splits["train"] == [(tiny_data.parent / "images" / "train").resolve()]
    assert cfg.names == ["disc", "square", "triangle", "cross"]


def test_path_key_relative_to_yaml(tmp_path):
    (tmp_path / "ds" / "images" / "train").mkdir(parents=True)
    (tmp_path / "cfg").mkdir()
    (tmp_path / "cfg" / "d.yaml").write_text("path: ../ds\ntrain: images/train\nval: images/train\nnames: [a]\n")
    cfg = load_data_yaml(tmp_path / "cfg" / "d.yaml")
    assert cfg.root == (tmp_path / "ds").resolve()


@pytest.mark.parametrize(
    "text, message",
    [
        ("train: [unclosed\n", r"d.yaml:\d+: not valid YAML"),
        ("- a\n- b\n", "expected a mapping"),
        ("train: images\nval: images\n", "missing 'names'"),
        ("train: images\nval: images\nnames: {0: a, 2: b}\n", "without gaps"),
        ("train: images\nval: images\nnames: [a, b]\nnc: 3\n", "'nc' is 3 but 'names' lists 2"),
        ("train: nowhere\nval: images\nnames: [a]\n", "'train' points to .*nowhere.*does not exist"),
        ("val: images\nnames: [a]\n", "missing 'train' entry"),
    ],
)
def test_malformed_data_yaml(tmp_path, text, message):
    (tmp_path / "images").mkdir()
    (tmp_path / "d.yaml").write_text(text)
    with pytest.raises(DataError, match=message):
        load_data_yaml(tmp_path / "d.yaml")


def test_missing_file_names_it(tmp_path):
    with pytest.raises(DataError, match=r"nope.yaml: data file not found"):
        load_data_yaml(tmp_path / "nope.yaml")
