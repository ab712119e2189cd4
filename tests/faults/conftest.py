"""The fault suite's tally: every fault tried, how many the commands survived (a clear error, exit 2, inputs
intact) and how many lost or changed a user's file. pytest prints it as one line at the end of the run."""

from __future__ import annotations

import pytest

TALLY = {"tried": 0, "survived": 0, "lost": 0}


@pytest.fixture
def tally():
    return TALLY


def pytest_terminal_summary(terminalreporter):
    if TALLY["tried"]:
        terminalreporter.write_line(f"faults: tried {TALLY['tried']}, survived {TALLY['survived']}, lost {TALLY['lost']}")
