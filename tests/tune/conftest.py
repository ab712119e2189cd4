"""Fixtures for tests/tune: a small dataset, a tiny search space, and the evaluator stand-in (see
evalstub/sitecustomize.py) for tests that train, in this process or in `python -m tinydet` subprocesses."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
STUB_DIR = Path(__file__).resolve().parent / "evalstub"

# Three knobs, cheap to train with: enough for TPE and the reports to have something to vary.
TINY_SPACE = """\
parameters:
  lr0: {type: float, low: 0.001, high: 0.02, log: true}
  box: {type: float, low: 5.0, high: 10.0}
  box_loss: {type: categorical, choices: [ciou, nwd-ciou]}
"""


@pytest.fixture(scope="session")
def tune_data(tmp_path_factory):
    """8 train / 4 val synthetic 128-px images; the path of the data.yaml."""
    from tinydet.data.synth import SynthSpec, make_synthetic_dataset

    root = tmp_path_factory.mktemp("tune") / "data"
    return make_synthetic_dataset(root, SynthSpec(images=8, val_images=4, seed=0, size=(128, 128)), quiet=True)


@pytest.fixture
def tiny_space(tmp_path):
    path = tmp_path / "space.yaml"
    path.write_text(TINY_SPACE)
    return path


@pytest.fixture
def eval_stub(monkeypatch):
    """Lets tinydet's trainer validate in this process while tinydet's evaluator is not merged (see
    evalstub/sitecustomize.py); undone after the test."""
    from tinydet.integrations import ultralytics as integration

    spec = importlib.util.spec_from_file_location("tinydet_tests_evalstub", STUB_DIR / "sitecustomize.py")
    stub = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(stub)
    monkeypatch.setattr(integration._SmallObjectMetricsMixin, "get_stats", integration._SmallObjectMetricsMixin.get_stats)
    stub.patch(integration)


@pytest.fixture
def tinydet_command():
    """(argv prefix, cwd, env) for `python -m tinydet` subprocesses: this worktree first on PYTHONPATH, then the
    evaluator stand-in."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), str(STUB_DIR), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env["TINYDET_EVAL_STUB"] = "1"
    env["PYTHONUNBUFFERED"] = "1"
    return [sys.executable, "-m", "tinydet"], REPO, env
