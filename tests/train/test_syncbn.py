import torch

from tinydet.train.syncbn import to_batchnorm2d, to_sync_batchnorm


def test_round_trip_keeps_parameters_and_outputs():
    from ultralytics.nn.tasks import DetectionModel

    model = DetectionModel("yolov8n.yaml", nc=3, verbose=False).eval()
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-1, 1)
    x = torch.rand(1, 3, 64, 64)
    before = model(x)[0]
    state = {k: v.clone() for k, v in model.state_dict().items()}
    model = to_sync_batchnorm(model)
    assert any(isinstance(m, torch.nn.SyncBatchNorm) for m in model.modules())
    model = to_batchnorm2d(model)
    assert not any(isinstance(m, torch.nn.SyncBatchNorm) for m in model.modules())
    assert all(torch.equal(state[k], v) for k, v in model.state_dict().items())
    assert torch.equal(model.eval()(x)[0], before)
