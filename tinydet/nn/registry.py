"""`MODULES`: the tinydet modules model YAMLs may name, by class name (filled as tinydet/nn's files import)."""

from __future__ import annotations

from tinydet.registry import Registry

MODULES: Registry[type] = Registry("model module")


def register(cls: type) -> type:
    """Class decorator: make `cls` nameable in model YAMLs (it must define `yaml_rule`, tinydet/nn/rules.py)."""
    if not hasattr(cls, "yaml_rule"):
        raise TypeError(f"{cls.__name__} must define yaml_rule (see tinydet/nn/rules.py)")
    return MODULES.add(cls.__name__, cls)
