"""The `tinydet` command line: one module per subcommand, each parsing its arguments and calling one library
function. A user error (`TinydetError`) prints one line and exits with status 2; `--debug` shows the traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# Subcommands, in the order `tinydet --help` lists them; each is tinydet/cli/<name>.py with `register(subparsers)`.
COMMANDS = (
    "demo",
    "synth",
    "analyze",
    "convert",
    "slice",
    "models",
    "train",
    "augment_preview",
    "mine_negatives",
    "val",
    "predict",
    "eval",
    "report",
    "compare",
    "export",
    "prune",
    "bench",
    "tune",
)


class _Formatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    """Keep the descriptions' line breaks and show every default."""


def build_parser() -> argparse.ArgumentParser:
    from tinydet import __version__

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
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"tinydet.cli.{name}")
        except ModuleNotFoundError as e:
            if e.name == f"tinydet.cli.{name}":
                continue  # not built yet
            raise
        module.register(sub, _Formatter)
    return parser


def _one_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return " ".join(text.split())


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `tinydet` console script; returns the exit status."""
    from tinydet.errors import TinydetError

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        result = args.run(args)
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
        print(f"tinydet {args.command}: error: {type(e).__name__}: {_one_line(e)} (unexpected: `tinydet --debug "
              f"{args.command} ...` shows where; please report it)", file=sys.stderr)
        return 1
    return int(result or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
