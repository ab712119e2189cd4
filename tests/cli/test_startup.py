"""The command line starts without torch: `--version`, every `--help`, and the commands that need no model
(eval, analyze, convert, slice, compare, report) import neither torch nor ultralytics. Each check runs in a
fresh interpreter, so nothing this test process imported can hide an import."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tinydet.cli import COMMANDS, command_module

LIGHT_COMMANDS = ("eval", "analyze", "convert", "slice", "compare", "report")
HEAVY = ("torch", "ultralytics")


def _loaded_after(code: str) -> list[str]:
    probe = f"{code}\nimport sys\nprint('loaded:', *[m for m in {HEAVY!r} if m in sys.modules], file=sys.stderr)"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True)
    return out.stderr.strip().splitlines()[-1].split()[1:]


@pytest.mark.parametrize("argv", [["--version"], ["--help"], *[[name, "--help"] for name, _ in COMMANDS]],
                         ids=lambda argv: " ".join(argv))
def test_version_and_every_help_load_no_torch(argv):
    code = f"from tinydet.cli import main\ntry:\n    main({argv!r})\nexcept SystemExit:\n    pass"
    assert _loaded_after(code) == []


@pytest.mark.parametrize("name", LIGHT_COMMANDS)
def test_commands_that_need_no_model_load_no_torch(name):
    assert _loaded_after(f"import tinydet.cli.commands.{name.replace('-', '_')}") == []


def test_import_tinydet_is_light():
    assert _loaded_after("import tinydet") == []


def test_the_probe_sees_torch_when_it_is_imported():
    """The check above can fail: a command that needs a model does load torch."""
    assert _loaded_after(f"import {command_module('predict')}") == list(HEAVY)
