"""Shared fixtures: tiny synthetic datasets made on the fly (tests never need ../shared)."""

from __future__ import annotations

import pytest

# tinydet first, before any test module imports torch: its thread settings (OMP_WAIT_POLICY=PASSIVE, thread
# count) only take effect if they precede torch's import; otherwise forwards run ~10x slower on a busy machine
import tinydet  # noqa: F401, E402


@pytest.fixture(scope="session", autouse=True)
def _label_caches_in_a_temporary_folder(tmp_path_factory):
    """ultralytics' label caches (tinydet.integrations.ultralytics.label_cache_dir) go to a folder of this session,
    not the user's ~/.cache."""
    import os

    saved = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("xdg_cache"))
    yield
    if saved is None:
        os.environ.pop("XDG_CACHE_HOME", None)
    else:
        os.environ["XDG_CACHE_HOME"] = saved


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory):
    """A 12-train / 4-val synthetic dataset of 128x128 images; returns the path of its data.yaml."""
    from tinydet.data.synth import SynthSpec, make_synthetic_dataset

    root = tmp_path_factory.mktemp("tiny") / "data"
    return make_synthetic_dataset(root, SynthSpec(images=12, val_images=4, seed=0, size=(128, 128)), quiet=True)


@pytest.fixture(scope="session")
def benchmark_script():
    """load(name): the script benchmarks/NAME.py as a module (the benchmarks are scripts, not a package), so tests
    can check the functions their BENCHMARKS.md tables rest on."""
    import importlib.util
    from pathlib import Path

    folder = Path(__file__).resolve().parents[1] / "benchmarks"

    def load(name: str):
        spec = importlib.util.spec_from_file_location(name, folder / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    return load
