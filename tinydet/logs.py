"""Logging helpers shared by the integration and the export code."""

from __future__ import annotations

import contextlib
import logging


@contextlib.contextmanager
def warnings_only(logger: logging.Logger):
    """Inside the block `logger` shows warnings and errors only (its INFO lines are hidden); restored after."""
    saved = logger.level
    logger.setLevel(max(saved, logging.WARNING))
    try:
        yield
    finally:
        logger.setLevel(saved)
