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


MODULE_FILES = ("cbam", "c2f_cbam", "c3k2_cbam", "fusion", "asff", "spd", "dcn")


def load_modules() -> None:
    """Import every module file (each registers itself); a missing ultralytics building block fails clearly.

    `import tinydet` calls this once the ultralytics integration is installed (rules.py must stay importable
    before that, hence no import here at package level).
    """
    import importlib

    from tinydet.integrations.ultralytics import PINNED_VERSION, UltralyticsAssumptionError

    for name in MODULE_FILES:
        try:
            importlib.import_module(f"tinydet.nn.{name}")
        except ImportError as e:
            if not (e.name or "").startswith("ultralytics") and "ultralytics" not in str(e):
                raise
            raise UltralyticsAssumptionError(
                f"tinydet.nn.{name} needs a building block the installed ultralytics lacks ({e}); "
                f"install ultralytics=={PINNED_VERSION}"
            ) from e

