"""The test tree itself: pytest's default import mode needs unique test-module basenames."""

from collections import Counter
from pathlib import Path

TESTS = Path(__file__).parent


def test_test_module_basenames_are_unique():
    names = Counter(p.name for p in TESTS.rglob("*.py") if p.name != "conftest.py" and p.name != "__init__.py")
    clashes = sorted(name for name, count in names.items() if count > 1)
    assert not clashes, f"two test folders hold modules with the same name (pytest cannot import both): {clashes}"
