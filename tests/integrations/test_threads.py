"""`import tinydet` gives torch and ultralytics every core, unless the user set OMP_NUM_THREADS (to share the
machine with other jobs): then that count, for torch and for ultralytics' select_device(), which resets it."""

import os
import subprocess
import sys

import pytest

PROBE = (
    "import tinydet, torch\n"
    "from ultralytics.utils import torch_utils\n"
    "torch_utils.select_device('cpu', verbose=False)\n"
    "print(torch.get_num_threads(), torch_utils.NUM_THREADS)\n"
)


def threads_seen(omp: str | None) -> list[int]:
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    if omp is not None:
        env["OMP_NUM_THREADS"] = omp
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    return [int(v) for v in out.stdout.split()[-2:]]


@pytest.mark.slow
def test_every_core_by_default_and_omp_num_threads_when_set():
    cores = os.cpu_count() or 1
    assert threads_seen(None) == [cores, cores]
    assert threads_seen("1") == [1, 1]
    assert threads_seen("junk") == [cores, cores]  # not a count: ignored, as if unset
