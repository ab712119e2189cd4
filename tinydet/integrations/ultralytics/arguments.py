"""ultralytics' training arguments: their names and defaults, and its own type and range check."""

from __future__ import annotations

import difflib
from typing import Any

from ultralytics.cfg import DEFAULT_CFG_DICT, check_cfg

from tinydet.errors import TinydetError


def argument_names() -> set[str]:
    """Every ultralytics train/val/predict argument name (its default.yaml)."""
    return set(DEFAULT_CFG_DICT)


def default(name: str) -> Any:
    """ultralytics' default value of one argument."""
    return DEFAULT_CFG_DICT[name]


def check_value(name: str, value: Any) -> None:
    """TypeError or ValueError when ultralytics would refuse `name=value` (`mosaic=abc`, `fliplr=2`)."""
    check_cfg({name: value})


def check_override_keys(overrides: dict[str, Any]) -> None:
    """Unknown ultralytics argument names, and values of the wrong type or range, fail here (with suggestions),
    rather than deep inside ultralytics."""
    for key in overrides:
        if key not in DEFAULT_CFG_DICT:
            close = difflib.get_close_matches(key, list(DEFAULT_CFG_DICT), n=3)
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            raise TinydetError(f"'{key}' is not an ultralytics training argument{hint}")
    try:
        check_cfg(dict(overrides))  # ultralytics' own type and range check ('mosaic=abc')
    except (TypeError, ValueError) as e:
        raise TinydetError(f"--set: {e}") from None
