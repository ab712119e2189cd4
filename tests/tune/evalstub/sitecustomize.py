"""Test-only: lets tinydet's trainer finish its validations while tinydet's evaluator is not merged.

At every validation tinydet's validator add-on (`_SmallObjectMetricsMixin.get_stats` in
tinydet/integrations/ultralytics.py) imports `tinydet.eval.api`, which the evaluation work (another branch)
provides; here it does not exist yet, and the add-on's ground-truth step also reads `label["shape"]`, which
ultralytics 8.4.190 removes from rect (validation) datasets. Either way training through tinydet fails at the
first validation, so tests/tune could not train at all.

When `tinydet.eval.api` cannot be found, this replaces that add-on's `get_stats` by ultralytics' own: runs
report only ultralytics' metrics and the tests tune on mAP50-95. When the real evaluator is there, nothing is
changed. Delete this folder when tinydet's evaluator is merged: the tune tests then exercise the real add-on.

It is active only with TINYDET_EVAL_STUB=1; as `sitecustomize` on PYTHONPATH it reaches the `python -m tinydet`
subprocesses the tests start, and conftest.py applies `patch` in the test process itself.
"""

import importlib.abc
import importlib.util
import os
import sys

TARGET = "tinydet.integrations.ultralytics"


def evaluator_missing() -> bool:
    try:
        return importlib.util.find_spec("tinydet.eval.api") is None
    except ModuleNotFoundError:
        return True


def patch(module) -> bool:
    """Make tinydet's validator add-on report ultralytics' metrics only; True if it was changed."""
    if not evaluator_missing():
        return False
    mixin = module._SmallObjectMetricsMixin

    def get_stats(self):
        return super(mixin, self).get_stats()

    get_stats.evalstub = True
    mixin.get_stats = get_stats
    return True


class _PatchAfterImport(importlib.abc.MetaPathFinder):
    """Finds TARGET with the other finders and patches the module right after it has run."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != TARGET:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                break
        else:
            return None
        run = spec.loader.exec_module

        def exec_module(module):
            run(module)
            patch(module)

        spec.loader.exec_module = exec_module
        return spec


if os.environ.get("TINYDET_EVAL_STUB") == "1" and not any(isinstance(f, _PatchAfterImport) for f in sys.meta_path):
    sys.meta_path.insert(0, _PatchAfterImport())
