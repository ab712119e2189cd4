"""The `tinydet` command line. Each subcommand has two modules: tinydet/cli/<name>.py declares its arguments
(light: building the whole parser imports no torch, so `--help` answers at once), and
tinydet/cli/commands/<name>.py runs it over the library; only the command that was asked for is imported, by
name, after the arguments are parsed. A user error (`TinydetError`) prints one line and exits with status 2;
`--debug` shows the traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import importlib
import sys
import warnings
from pathlib import Path

from tinydet.cli import (
    analyze,
    augment_preview,
    bench,
    compare,
    convert,
    demo,
    eval as eval_command,
    export,
    mine_negatives,
    models,
    predict,
    prune,
    report,
    slice as slice_command,
    synth,
    train,
    tune,
    val,
)
from tinydet.errors import TinydetError
from tinydet.version import __version__

# Subcommands, in the order `tinydet --help` lists them: (name, module declaring its arguments). Each runs from
# tinydet/cli/commands/<module name>.py, imported by name once chosen (tests/test_layers.py knows these edges).
COMMANDS = (
    ("demo", demo),
    ("synth", synth),
    ("analyze", analyze),
    ("convert", convert),
    ("slice", slice_command),
    ("models", models),
    ("train", train),
    ("augment-preview", augment_preview),
    ("mine-negatives", mine_negatives),
    ("val", val),
    ("predict", predict),
    ("eval", eval_command),
    ("report", report),
    ("compare", compare),
    ("export", export),
    ("prune", prune),
    ("bench", bench),
    ("tune", tune),
)


def command_module(name: str) -> str:
    """The module that runs subcommand `name` ('augment-preview' -> 'tinydet.cli.commands.augment_preview')."""
    return f"tinydet.cli.commands.{name.replace('-', '_')}"


class _Formatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    """Keep the descriptions' line breaks and show every default, unless the help text already says it or there
    is none to show (a required option, or None, which the help text explains)."""

    def _get_help_string(self, action):
        text = action.help or ""
        if "default" in text.lower() or action.required or action.default is None:
            return text
        return super()._get_help_string(action)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tinydet",
        description="Small-object detection on top of Ultralytics YOLO: analyse data, train small-object "
        "models and recipes, run fast sliced inference, evaluate tiny objects properly.",
        formatter_class=_Formatter,
    )
    parser.add_argument("--version", action="version", version=f"tinydet {__version__}")
    parser.add_argument("--debug", action="store_true", help="show the full traceback on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for _, module in COMMANDS:
        module.register(sub, _Formatter)
    return parser


def _one_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return " ".join(text.split())


_PACKAGE_DIR = Path(__file__).resolve().parents[1]
_DISK_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EROFS)


@contextlib.contextmanager
def _own_warnings_as_lines(command: str):
    """Print warnings raised from tinydet's own code as `tinydet COMMAND: warning: ...`, one line each, instead of
    Python's `file.py:LINE: Category: message` followed by a source line. Others' warnings keep their form."""
    default = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None):
        ours = category.__module__.startswith("tinydet.") or Path(filename).resolve().is_relative_to(_PACKAGE_DIR)
        if ours:
            print(f"tinydet {command}: warning: {_one_line(message)}", file=sys.stderr)
        else:
            default(message, category, filename, lineno, file, line)

    warnings.showwarning = show
    try:
        yield
    finally:
        warnings.showwarning = default


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `tinydet` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        with _own_warnings_as_lines(args.command):
            result = importlib.import_module(command_module(args.command)).run(args)
    except KeyboardInterrupt:
        print("tinydet: interrupted", file=sys.stderr)
        return 130
    except TinydetError as e:
        if args.debug:
            raise
        print(f"tinydet {args.command}: error: {_one_line(e)}", file=sys.stderr)
        return e.exit_code
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError, PermissionError) as e:
        if args.debug:
            raise
        where = f": {e.filename}" if getattr(e, "filename", None) else ""
        print(f"tinydet {args.command}: error: {e.strerror or _one_line(e)}{where}", file=sys.stderr)
        return 2
    except Exception as e:  # not foreseen: one line, not a traceback from deep inside; --debug shows it
        if args.debug:
            raise
        if isinstance(e, OSError) and e.errno in _DISK_ERRNOS:  # a full or read-only disk is the user's to fix
            where = f": {e.filename}" if getattr(e, "filename", None) else ""
            print(f"tinydet {args.command}: error: {e.strerror or _one_line(e)}{where} (free some space, or write "
                  "elsewhere, and run the command again)", file=sys.stderr)
            return 2
        print(f"tinydet {args.command}: error: {type(e).__name__}: {_one_line(e)} (unexpected: `tinydet --debug "
              f"{args.command} ...` shows where; please report it)", file=sys.stderr)
        return 1
    return int(result or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
