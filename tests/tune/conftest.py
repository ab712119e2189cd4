"""Fixtures for tests/tune: a small dataset, a tiny search space, and how to run `python -m tinydet`."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

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
def tinydet_command():
    """(argv prefix, cwd, env) for `python -m tinydet` subprocesses, with this checkout first on PYTHONPATH."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env["PYTHONUNBUFFERED"] = "1"
    return [sys.executable, "-m", "tinydet"], REPO, env
