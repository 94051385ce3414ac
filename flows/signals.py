"""SIGTERM and SIGHUP unwind a command like Ctrl-C does, so every `finally` runs; the signal that
stopped it is remembered, and a process that will not unwind is ended after a deadline."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["Terminated", "stop_on_signals", "stopped_by"]


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP arrived: unwind like Ctrl-C so every `finally` runs."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


_received: list[int] = []


def stopped_by() -> int | None:
    """The signal that stopped the command, if one did: an exception raised on the way out may
    be some library's wrapping of `Terminated` (pydantic, say), and is still that signal."""
    return _received[-1] if _received else None


def _note(signum: int, deadline_seconds: float = 60.0) -> None:
    """Record the signal; if unwinding has not ended the process by the deadline (some library
    swallowed the exception, or a fit will not stop), stop the children and exit anyway."""
    first = not _received
    _received.append(signum)
    if first:
        timer = threading.Timer(deadline_seconds, _exit_now, args=(signum,))
        timer.daemon = True
        timer.start()


def _exit_now(signum: int) -> None:
    with contextlib.suppress(Exception):
        import psutil

        for child in psutil.Process().children(recursive=True):
            with contextlib.suppress(psutil.Error):
                child.kill()
    os._exit(128 + signum)


@contextmanager
def stop_on_signals() -> Iterator[None]:
    """Turn SIGTERM and SIGHUP into `Terminated`, and note SIGINT (main thread only)."""

    def handler(signum: int, frame: Any) -> None:
        _note(signum)
        raise Terminated(signum)

    def interrupt(signum: int, frame: Any) -> None:
        _note(signum)
        raise KeyboardInterrupt

    previous = {}
    handlers = {signal.SIGTERM: handler, signal.SIGHUP: handler, signal.SIGINT: interrupt}
    for signum, function in handlers.items():
        with contextlib.suppress(ValueError):  # not the main thread: leave signals alone
            previous[signum] = signal.signal(signum, function)
    _received.clear()
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)
