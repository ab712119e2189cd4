"""Replace one '## ' section of a markdown file (BENCHMARKS.md) with a benchmark's new text, atomically."""

from __future__ import annotations

import os
from pathlib import Path


def replace_section(path: Path, heading: str, body: str) -> None:
    """Put `body` between `heading` (a '## ' line) and the next '## ' heading of `path`.

    Exits with a message when the file has no such heading; writes through a temporary file and os.replace, so
    an interrupted write leaves the old file."""
    text = path.read_text()
    at = text.find(heading + "\n")
    if at < 0:
        raise SystemExit(f"{path} has no '{heading}' section")
    start = at + len(heading)
    following = text.find("\n## ", start)
    end = len(text) if following < 0 else following + 1
    rest = text[end:].lstrip("\n")
    new = text[:start] + "\n\n" + body.strip("\n") + ("\n\n" + rest if rest else "\n")
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(new)
    os.replace(temporary, path)
