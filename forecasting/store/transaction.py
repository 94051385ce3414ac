"""One transaction, and the store's failures in words: a full disk says so.

When DuckDB fails to COMMIT (say the disk is full) the transaction is already over, and the usual
`except: ROLLBACK` then fails with "cannot rollback - no transaction is active", hiding the real
cause. Here a failed rollback is ignored, the first error is the one raised, and an error that
comes from a full disk becomes a one-line `StoreError` saying "No space left on device".
"""

from __future__ import annotations

import errno
from collections.abc import Iterator
from contextlib import contextmanager, suppress

import duckdb

from forecasting.errors import StoreError, one_line

__all__ = ["transaction", "rollback_quietly", "as_store_error", "DISK_FULL"]

DISK_FULL = "No space left on device"


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """BEGIN ... COMMIT; on any error, roll back what is left and raise the first error."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
        con.execute("COMMIT")
    except BaseException:
        rollback_quietly(con)
        raise


def rollback_quietly(con: duckdb.DuckDBPyConnection) -> None:
    """Roll back if a transaction is still open (a failed COMMIT has already ended it)."""
    with suppress(duckdb.Error):
        con.execute("ROLLBACK")


def as_store_error(exc: BaseException, db_path: object) -> StoreError | None:
    """The StoreError a full disk deserves (None for any other error)."""
    full = isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)
    full = full or (isinstance(exc, duckdb.Error) and DISK_FULL.lower() in str(exc).lower())
    if not full:
        return None
    return StoreError(
        one_line(
            f"{db_path}: {DISK_FULL}; nothing was written and the store keeps its last "
            "complete state (free some space and run again)"
        )
    )
