"""Opening the store: one short connection per piece of work, waiting out other processes' locks.

DuckDB lets one process hold a file at a time, even for reading. Every store function opens the
file, does one short transaction and closes it, retrying with backoff while another process holds
the lock, so nightly runs, backfills and ad-hoc ingests can overlap and all finish. Opening also
brings the file to the current schema (`schema.ensure_schema`), read-only opens included, and a
full disk anywhere becomes one `StoreError` line.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import duckdb

from forecasting.errors import StoreBusy
from forecasting.notices import notice
from forecasting.settings import Settings
from forecasting.store.schema import ensure_schema, schema_state
from forecasting.store.transaction import as_store_error

__all__ = ["DEFAULT_DB", "default_db_path", "retry_on_lock", "open_store", "waiting_line"]

DEFAULT_DB = Settings().db

T = TypeVar("T")


def default_db_path() -> Path:
    """`CROSSINGS_DB` when set, else data/crossings.duckdb."""
    return Settings.from_env().db


def _is_lock_error(exc: Exception) -> bool:
    text = str(exc)
    return "Could not set lock" in text or "Conflicting lock" in text


def waiting_line(exc: Exception, wait_seconds: float) -> str:
    """What a wait for the lock is, said at once: it would otherwise look like a hang."""
    pid = re.search(r"\(PID (\d+)\)", str(exc))
    holder = f" (pid {pid.group(1)})" if pid else ""
    return (
        f"waiting for the store, held by another process{holder}; up to {wait_seconds:.0f} s, "
        "CROSSINGS_LOCK_WAIT_SECONDS"
    )


def retry_on_lock(action: Callable[[], T], *, wait_seconds: float | None = None) -> T:
    """Run `action`, retrying with jittered backoff while another process holds the file lock
    (for up to `CROSSINGS_LOCK_WAIT_SECONDS`, read when called)."""
    if wait_seconds is None:
        wait_seconds = Settings.from_env().lock_wait_seconds
    deadline = time.monotonic() + wait_seconds
    delay = 0.05
    said = False
    while True:
        try:
            return action()
        except duckdb.IOException as exc:
            if _is_lock_error(exc) and not said:
                notice(waiting_line(exc, wait_seconds))
                said = True
            if not _is_lock_error(exc) or time.monotonic() > deadline:
                if _is_lock_error(exc):
                    raise StoreBusy(
                        f"the store is held by another process for over {wait_seconds:.0f} s"
                    ) from exc
                raise
        time.sleep(delay * (0.5 + random.random()))
        delay = min(delay * 1.6, 2.0)


def _connect(db_path: Path, read_only: bool) -> duckdb.DuckDBPyConnection:
    """A connection to a file at the current schema, migrating it first when it is not."""
    con = duckdb.connect(str(db_path), read_only=read_only)
    try:
        if not read_only:
            ensure_schema(con, db_path.name)
            return con
        if schema_state(con).current:
            return con
    except BaseException:
        con.close()
        raise
    # An older file, or one missing a view: migrate it with a short write, then read.
    con.close()
    _connect(db_path, read_only=False).close()
    return duckdb.connect(str(db_path), read_only=True)


@contextmanager
def open_store(
    db_path: str | Path, *, read_only: bool = False
) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the store (creating it and its schema if needed) for one short piece of work."""
    db_path = Path(db_path)
    if read_only and not db_path.exists():
        # DuckDB cannot open a missing file read-only; an empty store reads as "no data".
        read_only = False
    try:
        if not read_only:
            db_path.parent.mkdir(parents=True, exist_ok=True)
        con = retry_on_lock(lambda: _connect(db_path, read_only))
    except (duckdb.Error, OSError) as exc:
        _raise_if_disk_full(exc, db_path)
        raise
    try:
        yield con
    except (duckdb.Error, OSError) as exc:
        _raise_if_disk_full(exc, db_path)
        raise
    finally:
        con.close()


def _raise_if_disk_full(exc: BaseException, db_path: Path) -> None:
    error = as_store_error(exc, db_path)
    if error is not None:
        raise error from exc
