"""Argument helpers shared by several subcommands."""

from __future__ import annotations

import yaml

from tinydet.errors import TinydetError


def parse_overrides(items: list[str]) -> dict:
    """['mosaic=0.5', 'cos_lr=true'] -> {'mosaic': 0.5, 'cos_lr': True} (values parsed as YAML scalars)."""
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise TinydetError(f"--set expects KEY=VALUE, got '{item}'")
        try:
            out[key.strip()] = yaml.safe_load(value) if value.strip() else None
        except yaml.YAMLError:
            out[key.strip()] = value
    return out
