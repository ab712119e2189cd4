"""Errors a user can act on.

Anything raised as a `TinydetError` is the user's to fix (a missing path, a malformed file, an unknown name).
The CLI prints it as one line and exits with status 2; a traceback is shown only with `--debug`.
"""

from __future__ import annotations

from pathlib import Path


class TinydetError(Exception):
    """A problem with the user's input, worded so that the message alone says what to fix."""

    exit_code = 2


class DataError(TinydetError):
    """A problem in a dataset file, located by file and (where there is one) line number."""

    def __init__(self, message: str, file: str | Path | None = None, line: int | None = None):
        self.file = None if file is None else str(file)
        self.line = line
        self.reason = message
        where = ""
        if self.file is not None:
            where = f"{self.file}:{line}: " if line is not None else f"{self.file}: "
        super().__init__(where + message)
