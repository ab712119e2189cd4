"""Small-object modules that ultralytics model YAMLs can name once tinydet is imported.

Each module lives in its own file, cites its paper, and declares its YAML channel rule as `yaml_rule`
(tinydet/nn/rules.py). `MODULES` maps the name a YAML uses to the class.
"""

from __future__ import annotations

MODULES: dict[str, type] = {}


def register(cls: type) -> type:
    """Class decorator: make `cls` nameable in model YAMLs (it must define `yaml_rule`)."""
    if not hasattr(cls, "yaml_rule"):
        raise TypeError(f"{cls.__name__} must define yaml_rule (see tinydet/nn/rules.py)")
    MODULES[cls.__name__] = cls
    return cls
