"""Every zoo config builds (all scales for detect, n for twins), runs, has the promised strides and shapes;
parameter counts match DESIGN.md; twins stay in sync with their detect config and transfer to it."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from zoo_helpers import expected_shapes, expected_strides, n_params, prediction_tensors

from tinydet.integrations.ultralytics.builder import build_model, model_task
from tinydet.models.zoo import pose_twin, zoo

ZOO = zoo()
DETECT = sorted(n for n, e in ZOO.items() if e.task == "detect" and e.scale in "nsm")
TWINS_N = sorted(n for n, e in ZOO.items() if e.task != "detect" and e.scale == "n")
TINYDET_DETECT_N = sorted(n for n, e in ZOO.items() if e.task == "detect" and e.scale == "n" and e.source == "tinydet")


def _build(name: str, nc: int = 80):
    return build_model(ZOO[name].model_path, nc=nc)


@pytest.mark.parametrize("name", DETECT + TWINS_N)
def test_config_builds_and_predicts_with_promised_shapes(name):
    entry, nc, imgsz = ZOO[name], 3, 64
    model = _build(name, nc).eval()
    assert model_task(model) == entry.task
    assert [int(s) for s in model.stride.tolist()] == expected_strides(name)
    with torch.no_grad():
        out = prediction_tensors(model(torch.rand(2, 3, imgsz, imgsz)))
    assert [tuple(t.shape) for t in out] == expected_shapes(model, entry.task, nc, imgsz, batch=2)
    assert all(torch.isfinite(t).all() for t in out)


def test_the_zoo_lists_the_issue_configs_with_twins():
    wanted = [
        "yolov8n-p2", "yolov8n-p2-nop5", "yolov8n-p2-nop5-bifusion", "yolov8n-p2-nop5-bifusion-cbam",
        "yolov8n-asff", "yolov8n-p2-asff", "yolov8n-spd-p2", "yolo11n-p2", "yolo11n-p2-cbam",
        "yolov8n", "yolo11n", "yolo26n", "yolo26n-p2",
    ]
    for name in wanted:
        assert ZOO[name].task == "detect"
        assert pose_twin(name) in ZOO and f"{name}-seg" in ZOO
    for name in TINYDET_DETECT_N:
        assert "n" in name and {"s", "m"} <= {e.scale for e in ZOO.values() if e.family_file == ZOO[name].family_file}


# ------------------------------------------------------------------ numbers from DESIGN.md
@pytest.mark.parametrize(
    "name, params",
    [("yolov8n", 3_012_798), ("yolov8n-p2", 2_927_880), ("yolov8n-p2-nop5", 1_382_782), ("yolov8n-p2-nop5-bifusion", 1_442_142)],
)
def test_parameter_counts_match_design(name, params):
    assert n_params(_build(name, nc=10)) == params


def test_the_ladder_has_the_seeds_shape():
    """Removing P5 cuts parameters well below the baseline; fusion and CBAM each add a little."""
    p = {n: n_params(_build(n, nc=10)) for n in
         ("yolov8n", "yolov8n-p2-nop5", "yolov8n-p2-nop5-bifusion", "yolov8n-p2-nop5-bifusion-cbam")}
    assert p["yolov8n-p2-nop5"] < 0.5 * p["yolov8n"]
    assert 1.0 < p["yolov8n-p2-nop5-bifusion"] / p["yolov8n-p2-nop5"] < 1.1
    assert 1.0 < p["yolov8n-p2-nop5-bifusion-cbam"] / p["yolov8n-p2-nop5-bifusion"] < 1.1


def _seed_published_graph(block: str) -> dict:
    """Seed 002's published bi-directional config, as wired there: the bottom-up concats read the P2->P3
    downsample conv (layer 15) and the P4 concat (layer 12) instead of the C2f outputs 17 and 13."""
    backbone = [
        [-1, 1, "Conv", [64, 3, 2]], [-1, 1, "Conv", [128, 3, 2]], [-1, 3, block, [128, True]],
        [-1, 1, "Conv", [256, 3, 2]], [-1, 6, block, [256, True]], [-1, 1, "Conv", [512, 3, 2]],
        [-1, 6, block, [512, True]], [-1, 1, "Conv", [512, 3, 2]], [-1, 3, block, [512, True]],
        [-1, 1, "SPPF", [512, 5]],
    ]
    up = [-1, 1, "nn.Upsample", [None, 2, "nearest"]]
    head = [
        up, [4, 1, "Conv", [256, 3, 2]], [[-1, 6, 10], 1, "Concat", [1]], [-1, 3, block, [512]],
        up, [2, 1, "Conv", [128, 3, 2]], [[-1, 4, 14], 1, "Concat", [1]], [-1, 3, block, [256]],
        up, [0, 1, "Conv", [64, 3, 2]], [[-1, 2, 18], 1, "Concat", [1]], [-1, 3, block, [128]],
        [-1, 1, "Conv", [128, 3, 2]], [[-1, 15], 1, "Concat", [1]], [-1, 3, block, [256]],
        [-1, 1, "Conv", [256, 3, 2]], [[-1, 12], 1, "Concat", [1]], [-1, 3, block, [512]],
        [[21, 24, 27], 1, "Detect", ["nc"]],
    ]
    return {"nc": 10, "scales": {"n": [0.33, 0.25, 1024]}, "scale": "n", "backbone": backbone, "head": head}


def test_seed_table_counts_are_fused_counts_of_its_miswired_graph():
    """DESIGN.md: the miswired graph has 1,464,670 params. The seed's table (1.379M, 1.461M, 1.542M) matches
    the counts after Conv+BN fusion (ultralytics' post-training summary), to the thousand."""
    from ultralytics.nn.tasks import DetectionModel

    def counts(model):
        before = n_params(model)
        return before, n_params(model.fuse(verbose=False))

    miswired, miswired_fused = counts(DetectionModel(_seed_published_graph("C2f"), verbose=False))
    assert miswired == 1_464_670
    _, cbam_fused = counts(DetectionModel(_seed_published_graph("C2fCBAM"), verbose=False))
    _, nop5_fused = counts(_build("yolov8n-p2-nop5", nc=10))
    assert [round(c / 1e6, 3) for c in (nop5_fused, miswired_fused, cbam_fused)] == [1.379, 1.461, 1.542]
    ours = n_params(_build("yolov8n-p2-nop5-bifusion", nc=10))
    assert ours < miswired  # the intended wiring concatenates fewer channels into the bottom-up C2f blocks


# ------------------------------------------------------------------ twins
def test_twin_files_are_generated_from_their_detect_configs():
    from tinydet.models.twins import expected_twins, is_detect_family
    from tinydet.models.zoo import CFG_DIR

    expected = expected_twins()
    on_disk = {p for p in CFG_DIR.glob("*.yaml") if not is_detect_family(p.stem)}
    assert on_disk == set(expected), "run `python -m tinydet.models.twins`"
    stale = [p.name for p, text in expected.items() if p.read_text() != text]
    assert not stale, f"out of date (run `python -m tinydet.models.twins`): {stale}"


KEYPOINT_BRANCH = ("cv4", "one2one_cv4", "flow_model")


@pytest.mark.parametrize("name", sorted(n for n, e in ZOO.items() if e.task == "detect" and e.scale == "n"))
def test_pose_twin_weights_load_into_the_detect_twin(name):
    """Pose-aux recipe: every detect tensor exists in the pose twin with the same shape; only the keypoint
    branch is extra; after loading, the detect model's predictions equal the pose model's box+class outputs."""
    nc = 4
    pose, detect = _build(pose_twin(name), nc).eval(), _build(name, nc).eval()
    pose_sd, detect_sd = pose.state_dict(), detect.state_dict()
    mismatched = [k for k, v in detect_sd.items() if k not in pose_sd or pose_sd[k].shape != v.shape]
    assert not mismatched
    extra = {k.split(".")[2] for k in set(pose_sd) - set(detect_sd)}
    assert extra and all(part.startswith(KEYPOINT_BRANCH) for part in extra), extra
    detect.load_state_dict({k: pose_sd[k] for k in detect_sd})
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        boxes_and_classes = prediction_tensors(pose(x))[0][:, : 4 + nc]
        torch.testing.assert_close(prediction_tensors(detect(x))[0], boxes_and_classes, rtol=0, atol=0)


# ------------------------------------------------------------------ public ultralytics API
def test_ultralytics_yolo_builds_a_user_yaml_naming_tinydet_modules(tmp_path):
    from ultralytics import YOLO

    from tinydet.nn import MODULES

    text = ZOO["yolov8n-p2-nop5-bifusion-cbam"].config_path.read_text().replace("C2fCBAM, [512]] # 11", "C2fCBAM, [512, False, 1, 0.5, paper]] # 11")
    text = text.replace("- [[15, 18, 21], 1, Detect, [nc]]", "- [-1, 1, CBAM, [7, paper]]\n  - [[15, 18, 22], 1, Detect, [nc]]")
    cfg = tmp_path / "my-yolov8s-small.yaml"
    cfg.write_text(text)
    model = YOLO(str(cfg)).model
    used = {type(m).__name__ for m in model.modules()} & set(MODULES)
    assert used == {"BiFusion", "C2fCBAM", "CBAM"}
    assert sum(getattr(m, "variant", None) == "paper" for m in model.modules() if type(m).__name__ == "CBAM") == 2


def test_the_docs_yaml_example_builds(tmp_path):
    import re

    from ultralytics import YOLO

    docs = (Path(__file__).resolve().parents[2] / "docs" / "models.md").read_text()
    (example,) = re.findall(r"```yaml\n(# my-yolov8-small.yaml.*?)```", docs, re.S)
    (tmp_path / "my-yolov8-small.yaml").write_text(example)
    model = YOLO(str(tmp_path / "my-yolov8n-small.yaml")).model
    assert [int(s) for s in model.stride.tolist()] == [8, 16]
    assert {"SPDConv", "C2fCBAM", "BiFusion"} <= {type(m).__name__ for m in model.modules()}
