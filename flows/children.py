"""No orphans: whatever processes a command started (the server, process-pool or Dask workers)
are stopped before it exits."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["reap_children"]


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


def _tracker(proc: Any) -> bool:
    """multiprocessing's resource tracker: it leaves by itself when this process exits (its pipe
    closes), and stopping it first makes the interpreter's exit relaunch it, which then prints
    a KeyError traceback for the semaphores it never saw."""
    try:
        return "multiprocessing.resource_tracker" in " ".join(proc.cmdline())
    except Exception:  # gone already, or not ours to read
        return False
