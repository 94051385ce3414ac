"""Prefect's console output (and every library's, and every child process's) goes to a file
under the log folder instead, so the console shows only the command's own lines (`terminal()`)
and progress bars."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import IO

__all__ = ["new_log_path", "log_to_file", "terminal"]


def new_log_path(log_dir: Path, command: str) -> Path:
    """data/logs/<command>-<local time>-<pid>.log"""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return log_dir / f"{command}-{stamp}-{os.getpid()}.log"


def _console_handlers() -> list[tuple[logging.Logger, logging.Handler]]:
    """Every handler that writes to the terminal, with the logger holding it."""
    loggers = [logging.getLogger()] + [
        logger
        for logger in logging.root.manager.loggerDict.values()
        if isinstance(logger, logging.Logger)
    ]
    return [
        (logger, handler)
        for logger in loggers
        for handler in logger.handlers
        if isinstance(handler, logging.StreamHandler)
        and not isinstance(handler, logging.FileHandler)
        and getattr(handler, "stream", None) in (sys.stderr, sys.stdout, sys.__stderr__)
    ]


_terminal: tuple[IO[str], IO[str]] | None = None


def terminal() -> tuple[IO[str], IO[str]]:
    """Where the command's own lines go (stdout, stderr): the terminal, even while the process's
    descriptors 1 and 2 point at the log (`log_to_file`)."""
    return _terminal or (sys.stdout, sys.stderr)


def _reopen(fd: int, encoding: str) -> IO[str]:
    """A line-buffered text stream on a saved descriptor; closing it closes the descriptor."""
    return open(fd, "w", buffering=1, encoding=encoding, errors="backslashreplace")  # noqa: SIM115


@contextmanager
def _everything_else_to(path: Path) -> Iterator[None]:
    """Point descriptors 1 and 2 at the log: whatever writes there (libraries, warnings, every
    process we start: pool and Dask workers, multiprocessing's resource tracker) lands in the
    log, while `terminal()` keeps the command's own lines on the terminal. Skipped when stdout
    and stderr are not the real descriptors (a test capturing output in-process)."""
    global _terminal
    try:
        real = sys.stdout.fileno() == 1 and sys.stderr.fileno() == 2
    except (AttributeError, OSError, ValueError):
        real = False
    if not real or _terminal is not None:
        yield
        return
    sys.stdout.flush()
    sys.stderr.flush()
    saved = (os.dup(1), os.dup(2))
    log = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(log)
    _terminal = (
        _reopen(os.dup(saved[0]), sys.stdout.encoding),
        _reopen(os.dup(saved[1]), sys.stderr.encoding),
    )
    try:
        yield
    finally:
        for stream in (*_terminal, sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):
                stream.flush()
        for stream in _terminal:
            stream.close()
        _terminal = None
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        os.close(saved[0])
        os.close(saved[1])


@contextmanager
def log_to_file(path: Path) -> Iterator[Path]:
    """Send Prefect's (and every library's, and every child process's) output to `path`; the
    command's own lines still reach the terminal through `terminal()`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # Descriptors first: what prefect starts while it is imported (multiprocessing's resource
    # tracker, say) inherits them.
    with _everything_else_to(path):
        import prefect  # noqa: F401 - importing prefect sets up its logging, redirected below

        to_file = logging.FileHandler(path, encoding="utf-8")
        to_file.setFormatter(
            logging.Formatter("%(asctime)s | %(levelname)-7s | %(name)s - %(message)s")
        )
        moved = _console_handlers()
        # Root, and loggers that do not pass their records up to it (uvicorn, prefect._internal).
        targets = {id(logging.root): logging.root} | {
            id(logger): logger for logger, _ in moved if not logger.propagate
        }
        for logger, handler in moved:
            logger.removeHandler(handler)
        for logger in targets.values():
            logger.addHandler(to_file)
        logging.getLogger("crossings").setLevel(logging.INFO)
        logging.captureWarnings(True)
        try:
            yield path
        finally:
            logging.captureWarnings(False)
            for logger in targets.values():
                logger.removeHandler(to_file)
            for logger, handler in moved:
                logger.addHandler(handler)
            to_file.close()
