"""The configured Prefect API, or one temporary local server for the whole run.

Started in its own session (a Ctrl-C reaches only us, and we stop it in order), set to end with
us even if we are killed outright (Linux: PR_SET_PDEATHSIG), its output in the log.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib.util
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, cast

__all__ = ["shared_api"]

_PR_SET_PDEATHSIG = 1


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
        return cast(int, sock.getsockname()[1])


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
