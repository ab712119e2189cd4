"""Zoo names: twins, tasks, listing filters."""

from __future__ import annotations

import pytest

from tinydet.errors import TinydetError
from tinydet.models.info import select
from tinydet.models.zoo import detect_twin, pose_twin, resolve_model, segment_twin, zoo


@pytest.mark.parametrize(
    "name, pose, segment",
    [
        ("yolov8n-p2-nop5", "yolov8n-p2-nop5-pose", "yolov8n-p2-nop5-seg"),
        ("yolov8s-p2-nop5-bifusion-cbam", "yolov8s-p2-nop5-bifusion-cbam-pose", "yolov8s-p2-nop5-bifusion-cbam-seg"),
        ("yolov8n", "yolov8n-pose", "yolov8n-seg"),  # stock twins
        ("yolov8n-p2", "yolov8n-p2-pose", "yolov8n-p2-seg"),  # stock detect, tinydet twins
        ("yolo26m-p2", "yolo26m-p2-pose", "yolo26m-p2-seg"),
        ("yolo11n-p2-cbam-pose", "yolo11n-p2-cbam-pose", "yolo11n-p2-cbam-seg"),  # twin of a twin: same family
    ],
)
def test_twins(name, pose, segment):
    assert pose_twin(name) == pose and segment_twin(name) == segment
    assert detect_twin(pose) == detect_twin(segment) == detect_twin(name)
    assert zoo()[pose].task == "pose" and zoo()[segment].task == "segment"
    assert resolve_model(pose).endswith(f"{pose}.yaml")


@pytest.mark.parametrize(
    "call, name, message",
    [
        (pose_twin, "yolov9n", "unknown model 'yolov9n'"),
        (detect_twin, "yolov8n-p3-pose", "unknown model 'yolov8n-p3'"),
        (segment_twin, "yolov8x-p2-nop5", "unknown model"),  # the zoo has n/s/m scales only
    ],
)
def test_twin_errors(call, name, message):
    with pytest.raises(TinydetError, match=message):
        call(name)


def test_select_filters_and_keeps_twins_together():
    names = [e.name for e in select(scale="n", contains="p2-nop5-bifusion")]
    assert names[:3] == ["yolov8n-p2-nop5-bifusion", "yolov8n-p2-nop5-bifusion-pose", "yolov8n-p2-nop5-bifusion-seg"]
    assert {e.task for e in select(task="pose", scale=None)} == {"pose"}
    assert {e.scale for e in select(task="detect", scale=None, contains="nop5")} == set("nsm")
    with pytest.raises(TinydetError, match="no zoo model"):
        select(contains="no-such-model")
    with pytest.raises(TinydetError, match="unknown task"):
        select(task="obb")
