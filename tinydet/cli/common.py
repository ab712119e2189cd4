"""Argument helpers shared by several subcommands."""

from __future__ import annotations

from pathlib import Path

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


def check_output_file(path: str | None, option: str, suffixes: tuple[str, ...], inputs=()) -> None:
    """Stop, before any work, when the file an option names would replace an input, is a folder, or already exists
    as a file of another kind. An existing file with one of `suffixes` (an earlier output) is replaced.

    suffixes: lower-case, with the dot ('.json',); inputs: paths the command reads (None entries ignored).
    """
    if path is None:
        return
    target = Path(path).expanduser()
    kinds = "/".join(suffixes)
    if target.is_dir():
        raise TinydetError(f"{option} {path} is a folder; give a {kinds} file name")
    if target.parent.exists() and not target.parent.is_dir():
        raise TinydetError(f"{option} {path}: {target.parent} is a file, not a folder")
    for source in inputs:
        if source is not None and target.exists() and target.resolve() == Path(source).expanduser().resolve():
            raise TinydetError(f"{option} {path} would replace the input {source}; choose another file name")
    if target.exists() and target.suffix.lower() not in suffixes:
        raise TinydetError(f"{option} {path} exists and is not a {kinds} file; tinydet will not replace it")
