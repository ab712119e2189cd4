"""tinydet.malloc: freed large blocks stay in the process (no page faults to reuse them), the user's own malloc
settings win, and nothing happens off glibc."""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import pytest

from tinydet.malloc import USER_SETTINGS, _set_thresholds

# Allocate, touch, free a 200 MiB block; then do it again and count the page faults of the second round only.
REUSE_FAULTS = """
import ctypes, resource, sys
if sys.argv[1] == "keep":
    from tinydet.malloc import keep_freed_memory
    assert keep_freed_memory()
if sys.argv[1] == "predictor":  # building a predictor is where prediction work starts
    from tinydet.infer.sliced import SliceOptions, SlicedPredictor
    class Backend:
        names, stride, end2end = {0: "a"}, 32, False
    SlicedPredictor(Backend(), SliceOptions(slice=(64, 64)))
libc = ctypes.CDLL("libc.so.6")
libc.malloc.restype, libc.malloc.argtypes, libc.free.argtypes = ctypes.c_void_p, [ctypes.c_size_t], [ctypes.c_void_p]
def touch_and_free(size):
    block = libc.malloc(size)
    ctypes.memset(block, 1, size)
    libc.free(block)
touch_and_free(200 * 2**20)
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
touch_and_free(200 * 2**20)
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""

GLIBC = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"


def second_round_faults(mode: str) -> int:
    env = {name: value for name, value in os.environ.items() if name not in USER_SETTINGS}
    out = subprocess.run([sys.executable, "-c", REUSE_FAULTS, mode], capture_output=True, text=True, env=env,
                         check=True)
    return int(out.stdout.strip())


@pytest.mark.skipif(not GLIBC, reason="glibc's malloc only")
def test_a_freed_large_block_is_reused_without_page_faults():
    default, kept = second_round_faults("default"), second_round_faults("keep")
    assert default > 50  # glibc gave the block back and faults it in again (51,200 4 KiB pages; fewer if huge)
    assert kept * 20 < default


@pytest.mark.skipif(not GLIBC, reason="glibc's malloc only")
def test_a_sliced_predictor_keeps_freed_memory():
    assert second_round_faults("predictor") * 20 < second_round_faults("default")


@pytest.mark.parametrize("start", [lambda run: run.run_trainer("model.pt", None, {}),
                                   lambda run: run.resume_trainer("last.pt", None)], ids=["run", "resume"])
def test_training_keeps_freed_memory_before_the_model_is_built(monkeypatch, start):
    from tinydet.integrations.ultralytics.training import run

    calls = []
    monkeypatch.setattr(run, "keep_freed_memory", lambda: calls.append("malloc"))

    def no_model(*args, **kwargs):
        calls.append("YOLO")
        raise RuntimeError("stop here")

    monkeypatch.setattr(run, "YOLO", no_model)
    with pytest.raises(RuntimeError, match="stop here"):
        start(run)
    assert calls == ["malloc", "YOLO"]


@pytest.mark.parametrize("name", USER_SETTINGS)
def test_the_users_malloc_settings_are_left_alone(name):
    assert _set_thresholds({name: "1"}, "glibc") is False


def test_nothing_is_set_off_glibc():
    assert _set_thresholds({}, "") is False
    assert _set_thresholds({}, "musl") is False
