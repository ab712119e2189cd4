"""Every subcommand's --help states each default once: options whose help text already names its default do not
get argparse's `(default: ...)` appended as well, and none shows `(default: None)`."""

from __future__ import annotations

import argparse

from tinydet.cli import build_parser


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def test_each_default_is_stated_once_per_option():
    repeated = []
    for name, sub in _subparsers(build_parser()).items():
        formatter = sub._get_formatter()
        for action in sub._actions:
            written = (action.help or "").lower().count("default")
            shown = formatter._expand_help(action).lower().count("default") if action.help else 0
            if written and shown != written:
                repeated.append(f"{name} {'/'.join(action.option_strings)}: {formatter._expand_help(action)}")
    assert not repeated, "\n".join(repeated)


def test_no_option_shows_default_none():
    shown = [f"{name}: {line.strip()}" for name, sub in _subparsers(build_parser()).items()
             for line in sub.format_help().splitlines() if "(default: None)" in line]
    assert not shown, shown


def test_defaults_not_in_the_help_text_are_still_shown():
    help_text = " ".join(_subparsers(build_parser())["synth"].format_help().split())
    assert "random seed (default: 0)" in help_text
    assert "number of validation images (default: images/4, at least 4)" in help_text
