import pytest
import torch

from tinydet.errors import TinydetError
from tinydet.train.pose_aux import box_output_difference, transfer_pose_to_detect


def _perturbed_pose(nc):
    from ultralytics.nn.tasks import PoseModel

    pose = PoseModel("yolov8n-pose.yaml", nc=nc, data_kpt_shape=(1, 3), verbose=False)
    g = torch.Generator().manual_seed(0)
    for m in pose.modules():  # trained-looking statistics, so equality is not trivial
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.copy_(torch.rand(m.running_mean.shape, generator=g) - 0.5)
            m.running_var.copy_(torch.rand(m.running_var.shape, generator=g) + 0.5)
    return pose


def test_every_tensor_transfers_and_outputs_are_identical():
    from ultralytics.nn.tasks import DetectionModel

    pose = _perturbed_pose(4)
    detect = DetectionModel("yolov8n.yaml", nc=4, verbose=False)
    copied, total = transfer_pose_to_detect(pose, detect)
    assert copied == total == len(detect.state_dict()) == 355
    assert box_output_difference(pose, detect, torch.rand(2, 3, 96, 96)) == 0.0


def test_wrong_class_count_fails_loudly_and_leaves_model_untouched():
    from ultralytics.nn.tasks import DetectionModel

    pose = _perturbed_pose(4)
    detect = DetectionModel("yolov8n.yaml", nc=80, verbose=False)
    before = {k: v.clone() for k, v in detect.state_dict().items()}
    with pytest.raises(TinydetError, match=r"only \d+/355 tensors transfer"):
        transfer_pose_to_detect(pose, detect)
    assert all(torch.equal(before[k], v) for k, v in detect.state_dict().items())
