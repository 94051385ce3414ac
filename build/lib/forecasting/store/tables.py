"""Generic writes and reads of result tables (backtests, ad-hoc queries) in short transactions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from forecasting.store.connection import open_store, retry_on_lock

__all__ = ["save_frame", "save_frames", "read_frame"]


def save_frame(
    db_path: str | Path,
    table: str,
    frame: pd.DataFrame,
    *,
    key: list[str],
    replace_all: bool = False,
) -> None:
    """Write rows in one short transaction, replacing rows with the same key values.

    Creates the table from the frame's columns the first time (for result tables such as
    backtest scores, whose columns belong to the code that makes them).
    """
    save_frames(db_path, [(table, frame, key)], replace_all=replace_all)


def save_frames(
    db_path: str | Path,
    writes: list[tuple[str, pd.DataFrame, list[str]]],
    *,
    replace_all: bool = False,
) -> None:
    """Write several tables' rows in ONE transaction: a reader sees all of them or none."""
    writes = [(table, frame, key) for table, frame, key in writes if not frame.empty]
    for table, _, _ in writes:
        if not table.replace("_", "").isalnum():
            raise ValueError(f"not a table name: {table!r}")
    if not writes:
        return

    def write() -> None:
        with open_store(db_path) as con:
            con.execute("BEGIN TRANSACTION")
            try:
                for table, frame, key in writes:
                    _replace_rows(con, table, frame, key, replace_all)
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise

    retry_on_lock(write)


def _replace_rows(
    con: duckdb.DuckDBPyConnection,
    table: str,
    frame: pd.DataFrame,
    key: list[str],
    replace_all: bool,
) -> None:
    # Registered under a name of its own per table; unregistered by closing the connection
    # (unregistering inside an aborted transaction would hide the real error).
    incoming = f"incoming_{table}"
    con.register(incoming, frame)
    quoted = [f'"{k}"' for k in key]
    con.execute(f"CREATE TABLE IF NOT EXISTS {table} AS SELECT * FROM {incoming} LIMIT 0")
    if replace_all:
        con.execute(f"DELETE FROM {table}")
    else:
        match = " AND ".join(f"t.{k} IS NOT DISTINCT FROM i.{k}" for k in quoted)
        con.execute(
            f"DELETE FROM {table} t WHERE EXISTS "
            f"(SELECT 1 FROM (SELECT DISTINCT {', '.join(quoted)} FROM {incoming}) i "
            f"WHERE {match})"
        )
    con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM {incoming}")


def read_frame(db_path: str | Path, sql: str, params: list[Any] | None = None) -> pd.DataFrame:
    """Run one read-only query (e.g. for the report), waiting out other processes' locks."""
    if not Path(db_path).exists():
        return pd.DataFrame()

    def read() -> pd.DataFrame:
        with open_store(db_path, read_only=True) as con:
            return con.execute(sql, params or []).df()

    return retry_on_lock(read)
