"""Backtest results: each run gets an id, and its three tables are written in one transaction.

`backtest_runs` has one row per run (its origins' range, step, horizon and other settings).
`backtest_scores`, `backtest_year_end` and `backtest_forecasts` carry the run's `run_id` and
its range columns; their other columns belong to `forecasting.backtest`, which makes them. A
rerun over the same origins replaces those rows (keys below), so the tables hold the latest
result for each origin and `run_id` says which run made it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from forecasting.store.connection import open_store, retry_on_lock
from forecasting.store.tables import replace_rows
from forecasting.store.transaction import transaction

__all__ = [
    "RUN_COLUMNS",
    "BACKTEST_KEYS",
    "save_backtest",
    "save_year_end_backtest",
    "read_year_end_backtest",
]

RUN_COLUMNS = ["run_start", "run_end", "run_every", "horizon_weeks", "created_at"]
# table -> (attribute of the result, the key a rerun replaces)
BACKTEST_KEYS: dict[str, tuple[str, list[str]]] = {
    "backtest_scores": ("scores", ["run_start", "run_end", "run_every", "horizon_weeks", "model"]),
    "backtest_year_end": ("year_end", ["as_of", "model"]),
    "backtest_forecasts": ("weekly", ["as_of", "model", "origin_kind", "horizon_weeks"]),
}


def save_backtest(db_path: str | Path, tables: Any, run: dict[str, Any]) -> int:
    """Store one backtest run's tables (a `BacktestResult`: scores, year_end, weekly) in ONE
    transaction; returns its new `run_id`.

    `run` describes the run: run_start, run_end, run_every, horizon_weeks (and created_at,
    default now); any other keys are kept in `backtest_runs.settings` (JSON).
    """
    run = {"created_at": datetime.now(UTC), **run}

    def write() -> int:
        with open_store(db_path) as con, transaction(con):
            run_id = _new_run(con, run)
            columns = {c: run.get(c) for c in RUN_COLUMNS}
            for table, (attribute, key) in BACKTEST_KEYS.items():
                frame: pd.DataFrame = getattr(tables, attribute)
                if not frame.empty:
                    rows = frame.assign(**columns, run_id=run_id)
                    replace_rows(con, table, rows, key)
            return run_id

    return retry_on_lock(write)


def _new_run(con: duckdb.DuckDBPyConnection, run: dict[str, Any]) -> int:
    """Number a new backtest run and record it; keys beyond the columns go to `settings`."""
    settings = {k: v for k, v in run.items() if k not in RUN_COLUMNS}
    next_id = con.execute("SELECT coalesce(max(run_id), 0) + 1 FROM backtest_runs").fetchone()
    assert next_id is not None  # an aggregate query returns exactly one row
    run_id = int(next_id[0])
    con.execute(
        "INSERT INTO backtest_runs (run_id, run_start, run_end, run_every, "
        "horizon_weeks, settings, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [run_id, *(run.get(c) for c in RUN_COLUMNS[:4]),
         json.dumps(settings, default=str), run["created_at"]],
    )  # fmt: skip
    return run_id


YEAR_END_TABLES: dict[str, list[str]] = {
    "backtest_year_end_origins": ["as_of", "model"],
    "backtest_year_end_scores": ["run_start", "run_end", "run_every", "model"],
}


def save_year_end_backtest(
    db_path: str | Path, rows: pd.DataFrame, scores: pd.DataFrame, run: dict[str, Any]
) -> int:
    """Store a year-end backtest (`forecasting.year_end`): a `backtest_runs` row, every origin's
    rows and the scores, in one transaction (a rerun over the same origins replaces them)."""
    run = {"created_at": datetime.now(UTC), **run}

    def write() -> int:
        with open_store(db_path) as con, transaction(con):
            run_id = _new_run(con, run)
            columns = {c: run.get(c) for c in RUN_COLUMNS[:3]}
            for (table, key), frame in zip(YEAR_END_TABLES.items(), (rows, scores), strict=True):
                if not frame.empty:
                    replace_rows(con, table, frame.assign(**columns, run_id=run_id), key)
            return run_id

    return retry_on_lock(write)


def read_year_end_backtest(db_path: str | Path) -> pd.DataFrame:
    """Every stored year-end backtest row (empty when none was run)."""
    from forecasting.store.tables import read_frame

    held = read_frame(
        db_path,
        "SELECT count(*) AS n FROM duckdb_tables() WHERE table_name = 'backtest_year_end_origins'",
    )
    if held.empty or int(held["n"].iloc[0]) == 0:
        return pd.DataFrame()
    return read_frame(db_path, "SELECT * FROM backtest_year_end_origins ORDER BY as_of, model")
