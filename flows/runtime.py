"""The process around a command that runs flows: a temporary Prefect API, a log file, no orphans.

- `shared_api`: the configured Prefect API, or one temporary local server for the whole run,
  started in its own session (a Ctrl-C reaches only us, and we stop it in order), set to end
  with us even if we are killed outright (Linux: PR_SET_PDEATHSIG), its output in the log.
- `log_to_file`: Prefect's console output goes to a file under the log folder instead, so the
  console shows only the command's own lines (and progress bars).
- `stop_on_signals` + `reap_children`: SIGTERM or SIGHUP unwind the command like Ctrl-C does,
  and whatever processes the command started (server, process-pool or Dask workers) are
  stopped before it exits.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib.util
import logging
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import IO, Any

__all__ = [
    "Terminated",
    "shared_api",
    "log_to_file",
    "stop_on_signals",
    "stopped_by",
    "reap_children",
    "terminal",
]

_PR_SET_PDEATHSIG = 1


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


@contextmanager
def reap_children(grace_seconds: float = 5.0) -> Iterator[None]:
    """On the way out, stop every process started inside the block that is still running."""
    try:
        import psutil  # installed with prefect-dask (distributed)
    except ImportError:  # pragma: no cover - then only the server's own stop applies
        yield
        return
    me = psutil.Process()
    before = {p.pid for p in me.children(recursive=True)}
    try:
        yield
    finally:
        left = [p for p in me.children(recursive=True) if p.pid not in before and not _tracker(p)]
        for proc in left:
            with contextlib.suppress(psutil.Error):
                proc.terminate()
        _, alive = psutil.wait_procs(left, timeout=grace_seconds)
        for proc in alive:
            with contextlib.suppress(psutil.Error):
                proc.kill()
        if left:
            logging.getLogger("crossings").info(
                "stopped %d leftover process(es): %s", len(left), [p.pid for p in left]
            )


def _die_with_parent() -> Any:
    """A preexec function: the child gets SIGTERM when we die, even by SIGKILL (Linux)."""
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (AttributeError, OSError):  # not Linux
        return None

    def arrange() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)

    return arrange


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _TemporaryServer:
    """Prefect's temporary API server (what Prefect itself starts when no API is configured),
    started without importing the server in this process (seconds of CPU saved), in its own
    session, with its output in our log file."""

    def __init__(self, output: IO[Any] | None) -> None:
        self.output = output
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def start(self) -> None:
        from prefect.settings import get_current_settings

        self.port = _free_port()
        prefect_dir = Path(importlib.util.find_spec("prefect").origin).parent  # type: ignore[arg-type, union-attr]
        env = {
            **os.environ,
            # As Prefect's own SubprocessASGIServer: no UI, an ephemeral server's services.
            "PREFECT_UI_ENABLED": "0",
            "PREFECT__SERVER_EPHEMERAL": "1",
            "PREFECT__SERVER_FINAL": "1",
            **get_current_settings().to_environment_variables(exclude_unset=True),
        }
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--app-dir",
                str(prefect_dir.parent),
                "--factory",
                "prefect.server.api.server:create_app",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--log-level",
                "error",
                "--lifespan",
                "on",
            ],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self.output or subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent(),
        )

    def wait_ready(self, timeout: float, restarts: int = 3) -> None:
        """Wait for /health; restart a server that exits while starting (two commands starting
        on one fresh Prefect home race to create its database: the loser exits, then finds it
        made)."""
        import httpx

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                code = None if self.process is None else self.process.returncode
                if restarts <= 0:
                    raise RuntimeError(f"the temporary Prefect server exited ({code}); see the log")
                restarts -= 1
                time.sleep(random.uniform(0.5, 2.0))
                self.start()
                continue
            try:
                if httpx.get(f"{self.api_url}/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"the temporary Prefect server did not start within {timeout:.0f} s")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@contextmanager
def shared_api(
    log_file: Path | None = None, while_starting: Callable[[], object] | None = None
) -> Iterator[str]:
    """The configured Prefect API, or one temporary local server shared by the whole run.

    With no PREFECT_API_URL, Prefect starts a temporary server per process, so every process-pool
    or Dask worker would start (and wait for) its own. Starting one here and handing its URL to
    the settings and environment that workers inherit gives them all the same server.
    `while_starting` runs while the server starts (importing the flows, say).
    """
    from prefect.context import refresh_global_settings_context
    from prefect.settings import (
        PREFECT_API_URL,
        PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS,
        temporary_settings,
    )

    configured = PREFECT_API_URL.value()
    if configured:
        if while_starting:
            while_starting()
        yield configured
        return
    output = log_file.open("ab") if log_file else None
    server = _TemporaryServer(output)
    previous = os.environ.get("PREFECT_API_URL")
    try:
        server.start()  # inside the try: a signal while it starts still stops it
        if while_starting:
            while_starting()
        server.wait_ready(float(PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS.value()))
        # The environment for workers we start; the global settings for threads that start
        # without our context (else they start a temporary server of their own).
        os.environ["PREFECT_API_URL"] = server.api_url
        refresh_global_settings_context()
        with temporary_settings({PREFECT_API_URL: server.api_url}):
            yield server.api_url
    finally:
        _drain_to_api()  # logs and events still queued would otherwise retry a closed server
        if previous is None:
            os.environ.pop("PREFECT_API_URL", None)
        else:
            os.environ["PREFECT_API_URL"] = previous
        refresh_global_settings_context()
        server.stop()
        if output:
            output.close()


def _drain_to_api(timeout: float = 10) -> None:
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    for worker in (APILogWorker, EventsWorker):
        # Never started, or already stopped: nothing to flush.
        with contextlib.suppress(Exception):
            worker.drain_all(timeout=timeout)


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


def _tracker(proc: Any) -> bool:
    """multiprocessing's resource tracker: it leaves by itself when this process exits (its pipe
    closes), and stopping it first makes the interpreter's exit relaunch it, which then prints
    a KeyError traceback for the semaphores it never saw."""
    try:
        return "multiprocessing.resource_tracker" in " ".join(proc.cmdline())
    except Exception:  # gone already, or not ours to read
        return False


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
