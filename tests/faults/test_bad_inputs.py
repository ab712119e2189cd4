"""Bad inputs a new user gives, through the CLI: each gets a one-line error naming what is wrong (exit 2), no
traceback, and every input file stays byte for byte as it was (checksums of the whole input tree before and
after). Issue 26's defects are among the cases; docs/reliability.md lists them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from datahelpers import make_yolo

from tests.faults.faultkit import tree_checksums
from tinydet.cli import main


def _yolo(root: Path, label: str = "0 0.5 0.5 0.25 0.25\n") -> Path:
    return make_yolo(root / "data", {"a.png": label, "b.png": "1 0.3 0.3 0.1 0.1\n"})


def _coco(root: Path, gt: dict, preds: list | str) -> list[str]:
    (root / "gt.json").write_text(json.dumps(gt))
    (root / "pred.json").write_text(preds if isinstance(preds, str) else json.dumps(preds))
    return ["eval", "--gt", str(root / "gt.json"), "--pred", str(root / "pred.json")]


GT = {"images": [{"id": 1, "width": 64, "height": 48}], "categories": [{"id": 0, "name": "a"}],
      "annotations": [{"id": 1, "image_id": 1, "category_id": 0, "bbox": [4, 4, 8, 8], "iscrowd": 0}]}
PRED = [{"image_id": 1, "category_id": 0, "bbox": [4, 4, 8, 8], "score": 0.9}]


def _garbage_checkpoint(root: Path) -> Path:
    (root / "model.pt").write_bytes(b"PK\x03\x04 not really a checkpoint")
    return root / "model.pt"


# (name, build(root) -> argv, words the error must contain)
CASES = [
    ("eval: GT without annotations", lambda r: _coco(r, {k: v for k, v in GT.items() if k != "annotations"}, PRED),
     "no 'annotations'"),
    ("eval: truncated GT JSON", lambda r: _truncated_gt(r), "not valid JSON"),
    ("eval: prediction box with NaN", lambda r: _coco(r, GT, '[{"image_id": 1, "category_id": 0, '
                                                        '"bbox": [NaN, 4, 8, 8], "score": 0.9}]'), "invalid box"),
    ("eval: prediction for an unknown image", lambda r: _coco(r, GT, [dict(PRED[0], image_id=7)]),
     "not an image of the ground truth"),
    ("eval: prediction with an unknown category", lambda r: _coco(r, GT, [dict(PRED[0], category_id=5)]),
     "unknown categories"),
    ("eval: negative box size", lambda r: _coco(r, GT, [dict(PRED[0], bbox=[4, 4, -8, 8])]), "invalid box"),
    ("analyze: label row with 4 columns", lambda r: ["analyze", str(_yolo(r, "0 0.5 0.5 0.25\n"))], "a.txt:1"),
    ("analyze: class id out of range", lambda r: ["analyze", str(_yolo(r, "7 0.5 0.5 0.25 0.25\n"))], "a.txt:1"),
    ("analyze: corrupt image", lambda r: ["analyze", str(_corrupt_image(_yolo(r)))], "a.png"),
    ("analyze: dataset not found", lambda r: ["analyze", str(r / "nowhere.yaml")], "not found"),
    ("convert: output inside the input", lambda r: ["convert", str(_yolo(r)), str(r / "data" / "coco"), "--to", "coco"],
     "inside"),
    ("convert: output folder not empty", lambda r: ["convert", str(_yolo(r)), str(_non_empty(r / "out")), "--to", "coco"],
     "not empty"),
    ("val: truncated checkpoint", lambda r: ["val", "--model", str(_garbage_checkpoint(r)), "--data", str(_yolo(r)),
                                            "--split", "train"],
     "model.pt"),
    ("export: truncated checkpoint", lambda r: ["export", "--model", str(_garbage_checkpoint(r)), "--format", "onnx"],
     "model.pt"),
    ("predict: truncated checkpoint", lambda r: ["predict", str(_yolo(r).parent / "images"), "--model",
                                                 str(_garbage_checkpoint(r)), "--out", str(r.parent / "pred-out")],
     "model.pt"),
    ("predict: --out inside SOURCE", lambda r: ["predict", str(_yolo(r).parent / "images"), "--model",
                                                str(_garbage_checkpoint(r)), "--out", str(r / "data" / "images" / "p")],
     "inside"),
    ("train: data.yaml not found", lambda r: ["train", "--data", str(r / "missing.yaml"), "--model", "yolov8n",
                                              "--out", str(r.parent / "train-out")], "not found"),
    ("train: --resume of a folder that is no run", lambda r: ["train", "--resume", str(_non_empty(r / "notarun"))],
     "notarun"),
]


def _truncated_gt(root: Path) -> list[str]:
    argv = _coco(root, GT, PRED)
    (root / "gt.json").write_text((root / "gt.json").read_text()[:40])
    return argv


def _corrupt_image(data_yaml: Path) -> Path:
    (data_yaml.parent / "images" / "train" / "a.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    return data_yaml


def _non_empty(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "keep.txt").write_text("the user's file\n")
    return folder


@pytest.mark.parametrize("name, build, words", CASES, ids=[c[0] for c in CASES])
def test_bad_input_gets_one_clear_line_and_leaves_the_inputs_alone(name, build, words, tmp_path, capsys, tally):
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    argv = build(inputs)
    before = tree_checksums(inputs)
    tally["tried"] += 1
    try:
        code = main(argv)
    except SystemExit as e:  # argparse's own refusals exit 2 as well
        code = e.code
    err = capsys.readouterr().err.strip().splitlines()
    intact = tree_checksums(inputs) == before
    tally["lost"] += not intact
    assert intact, f"{name}: an input file changed or disappeared"
    assert code == 2, f"{name}: exit {code}, stderr {err}"
    assert err and "Traceback" not in "\n".join(err)
    assert err[-1].startswith("tinydet ") and "error:" in err[-1] and words in err[-1], err[-1]
    tally["survived"] += 1
