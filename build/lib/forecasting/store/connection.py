"""Opening the store: one short connection per piece of work, waiting out other processes' locks.

DuckDB lets one process hold a file at a time, even for reading. Every store function opens the
file, does one short transaction and closes it, retrying with backoff while another process holds
the lock, so nightly runs, backfills and ad-hoc ingests can overlap and all finish.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import duckdb

from forecasting.errors import StoreBusy
from forecasting.store.schema import ensure_schema

__all__ = ["DEFAULT_DB", "LOCK_WAIT_SECONDS", "default_db_path", "retry_on_lock", "open_store"]

DEFAULT_DB = Path("data") / "crossings.duckdb"
LOCK_WAIT_SECONDS = float(os.environ.get("CROSSINGS_LOCK_WAIT_SECONDS", "600"))

T = TypeVar("T")


def default_db_path() -> Path:
    """`CROSSINGS_DB` when set, else data/crossings.duckdb."""
    return Path(os.environ.get("CROSSINGS_DB") or DEFAULT_DB)


def _is_lock_error(exc: Exception) -> bool:
    text = str(exc)
    return "Could not set lock" in text or "Conflicting lock" in text


def retry_on_lock(action: Callable[[], T], *, wait_seconds: float = LOCK_WAIT_SECONDS) -> T:
    """Run `action`, retrying with jittered backoff while another process holds the file lock."""
    deadline = time.monotonic() + wait_seconds
    delay = 0.05
    while True:
        try:
            return action()
        except duckdb.IOException as exc:
            if not _is_lock_error(exc) or time.monotonic() > deadline:
                if _is_lock_error(exc):
                    raise StoreBusy(
                        f"the store is held by another process for over {wait_seconds:.0f} s"
                    ) from exc
                raise
        time.sleep(delay * (0.5 + random.random()))
        delay = min(delay * 1.6, 2.0)


@contextmanager
def open_store(
    db_path: str | Path, *, read_only: bool = False
) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the store (creating it and its schema if needed) for one short piece of work."""
    db_path = Path(db_path)
    if read_only and not db_path.exists():
        # DuckDB cannot open a missing file read-only; an empty store reads as "no data".
        read_only = False
    if not read_only:
        db_path.parent.mkdir(parents=True, exist_ok=True)

    def connect() -> duckdb.DuckDBPyConnection:
        con = duckdb.connect(str(db_path), read_only=read_only)
        if not read_only:
            try:
                ensure_schema(con)
            except Exception:
                con.close()
                raise
        return con

    con = retry_on_lock(connect)
    try:
        yield con
    finally:
        con.close()
