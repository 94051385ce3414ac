"""Lines the library says to the person running a command while it works (a wait, say).

By default they go to stderr. The `crossings` command sends them to its terminal instead
(`send_notices_to`), since while a flow runs the process's stderr goes to the run's log file.
Light on purpose: the command imports it at start.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

__all__ = ["notice", "send_notices_to"]


def _to_stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


_sink: list[Callable[[str], None]] = [_to_stderr]


def send_notices_to(sink: Callable[[str], None]) -> None:
    """Where `notice` lines go from now on."""
    _sink[0] = sink


def notice(line: str) -> None:
    """Say `line` to the person running the command, at once."""
    _sink[0](line)
