"""The analyze / convert / slice commands: one-line errors, exit status 2, --skip-bad, --fix, and the user's files
never modified (checksums before and after every command)."""

import json
import shutil

import pytest
from datahelpers import checksums, make_yolo

from tinydet.cli import main
from tinydet.data import load_dataset, write_dataset

GOOD = "0 0.5 0.5 0.25 0.25\n"


@pytest.fixture
def bad_data(tmp_path):
    return make_yolo(tmp_path / "bad", {"x.jpg": GOOD + "0 0.5 0.5 0.1\n", "y.jpg": GOOD + "5 0.5 0.5 0.1 0.1\n"})


@pytest.mark.parametrize("command", [
    ["analyze", "{data}"],
    ["convert", "{data}", "{out}", "--to", "coco"],
    ["convert", "{data}", "{out}", "--to", "pose"],
    ["slice", "{data}", "{out}", "--size", "32", "--overlap", "0.2"],
])
def test_fatal_problem_is_one_line_and_status_2(tmp_path, bad_data, capsys, command):
    args = [a.format(data=bad_data, out=tmp_path / "out") for a in command]
    assert main(args) == 2
    err = capsys.readouterr().err
    error_lines = [line for line in err.splitlines() if ": error: " in line and line.startswith(f"tinydet {args[0]}:")]
    assert len(error_lines) == 1 and "Traceback" not in err
    assert "x.txt:2: expected 5 columns" in error_lines[-1]
    assert not (tmp_path / "out").exists()


def test_analyze_lists_every_problem_then_stops(bad_data, capsys):
    assert main(["analyze", str(bad_data)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert any("x.txt:2: expected 5 columns" in line for line in err)
    assert any("y.txt:2: class id 5 is not in names" in line for line in err)
    assert err[-1].startswith("tinydet analyze: error: ") and "(and 1 more problem: 1 x class_id)" in err[-1]


def test_skip_bad_analyses_what_is_left(tmp_path, bad_data, capsys):
    assert main(["analyze", str(bad_data), "--skip-bad", "--json", str(tmp_path / "a.json")]) == 0
    out = capsys.readouterr()
    assert "recommendations:" in out.out and "skipped" in out.err
    data = json.loads((tmp_path / "a.json").read_text())
    assert data["instances"] == 2 and data["problems"] == {"columns": 1, "class_id": 1}
    assert [(p["kind"], p["line"], p["fatal"]) for p in data["problem_list"]] == [("columns", 2, True),
                                                                                ("class_id", 2, True)]
    assert data["problem_list"][0]["file"].endswith("x.txt")


def test_fix_writes_a_clean_copy(tmp_path, bad_data, capsys):
    before = checksums(bad_data.parent)
    assert main(["analyze", str(bad_data), "--fix", str(tmp_path / "fixed")]) == 0
    assert checksums(bad_data.parent) == before
    fixed = load_dataset(tmp_path / "fixed" / "data.yaml")
    assert fixed.problems == [] and fixed.num_instances() == 2
    assert (tmp_path / "fixed" / "labels" / "train" / "x.txt").read_text() == "0 0.500000 0.500000 0.250000 0.250000\n"


def _all_formats(tmp_path, tiny_data):
    dataset = load_dataset(tiny_data)
    sources = {"yolo": tiny_data}
    for fmt in ("coco", "voc", "visdrone"):
        sources[fmt] = write_dataset(dataset, tmp_path / f"src_{fmt}", fmt)
    return sources


def test_no_command_modifies_the_input(tmp_path, tiny_data, capsys):
    sources = _all_formats(tmp_path, tiny_data)
    folders = {fmt: (p.parent if p.is_file() else p) for fmt, p in sources.items()}
    before = {fmt: checksums(folder) for fmt, folder in folders.items()}
    for i, (fmt, src) in enumerate(sources.items()):
        runs = [
            ["analyze", str(src), "--imgsz", "128", "--json", str(tmp_path / f"a{i}.json"),
             "--plots", str(tmp_path / f"plots{i}"), "--fix", str(tmp_path / f"fix{i}")],
            ["slice", str(src), str(tmp_path / f"tiles{i}"), "--size", "64", "--overlap", "0.25"],
            ["convert", str(src), str(tmp_path / f"pose{i}"), "--to", "pose"],
        ] + [["convert", str(src), str(tmp_path / f"{to}{i}"), "--to", to]
             for to in ("yolo", "coco", "voc", "visdrone")]
        for args in runs:
            assert main(args) == 0, (args, capsys.readouterr().err)
    assert {fmt: checksums(folder) for fmt, folder in folders.items()} == before


def test_refuses_non_empty_or_inside_output_folders(tmp_path, tiny_data, capsys):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("mine")
    assert main(["convert", str(tiny_data), str(tmp_path / "full"), "--to", "coco"]) == 2
    assert "exists and is not empty" in capsys.readouterr().err
    assert (tmp_path / "full" / "keep.txt").read_text() == "mine"
    inside = tiny_data.parent / "images" / "train" / "tiles"
    assert main(["slice", str(tiny_data), str(inside), "--size", "64", "--overlap", "0"]) == 2
    assert "is inside the dataset's folder" in capsys.readouterr().err and not inside.exists()
    (tmp_path / "empty").mkdir()
    assert main(["convert", str(tiny_data), str(tmp_path / "empty"), "--to", "voc"]) == 0


def test_interrupted_writer_leaves_nothing(tmp_path, tiny_data, monkeypatch):
    import tinydet.data.formats.coco as coco

    calls = []

    def failing_copy(src, dst):
        calls.append(src)
        if len(calls) == 3:
            raise KeyboardInterrupt
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dst)

    monkeypatch.setattr(coco, "copy_image", failing_copy)
    with pytest.raises(KeyboardInterrupt):
        write_dataset(load_dataset(tiny_data), tmp_path / "out", "coco")
    assert list(tmp_path.iterdir()) == []


def test_formats_and_options_from_the_command_line(tmp_path, tiny_data, capsys):
    voc = write_dataset(load_dataset(tiny_data), tmp_path / "voc", "voc")
    assert main(["convert", str(voc), str(tmp_path / "y"), "--from", "voc", "--to", "yolo",
                 "--names", "cross,triangle,square,disc"]) == 0
    assert load_dataset(tmp_path / "y" / "data.yaml").names == ["cross", "triangle", "square", "disc"]
    assert main(["analyze", str(tmp_path / "y" / "data.yaml"), "--split", "val", "--imgsz", "128"]) == 0
    assert "images: 4 (val 4 images" in capsys.readouterr().out


def test_image_suffixes_match_ultralytics():
    from ultralytics.data.utils import IMG_FORMATS

    from tinydet.data.datayaml import IMAGE_SUFFIXES

    assert IMAGE_SUFFIXES == {f".{s}" for s in IMG_FORMATS}


def test_an_output_beside_a_data_yaml_that_names_images_elsewhere_is_allowed(tmp_path):
    """The folder of a data.yaml is the dataset's only where it holds the images or labels: a project folder
    whose data.yaml points at a dataset elsewhere can take the converted copy."""
    from tinydet.errors import TinydetError

    data = make_yolo(tmp_path / "dataset", {"a.png": "0 0.5 0.5 0.25 0.25\n"})
    project = tmp_path / "project"
    project.mkdir()
    (project / "data.yaml").write_text(f"train: {data.parent / 'images' / 'train'}\nnames: [a, b]\n")
    out = write_dataset(load_dataset(project / "data.yaml"), project / "coco", "coco")
    assert out.is_relative_to(project / "coco")
    with pytest.raises(TinydetError, match="inside the dataset's folder"):
        write_dataset(load_dataset(data), data.parent / "coco", "coco")
