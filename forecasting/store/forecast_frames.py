"""Forecasts in the long shape (`forecasting.frames.ForecastFrames`) into the store and back.

One (as_of, model) is one row of `forecasts` (the run and its year-end figures), its weeks in
`forecast_weeks`, its cumulative year-to-date path in `forecast_cumulative` and its milestones in
`forecast_milestones`. A save replaces every row of the (as_of, model) pairs it carries, in all
four tables, in one transaction: a reader sees a whole forecast or the previous one.

The legacy `forecasts.prob_exceeds` JSON ({year: chance the year passes that year's total}) is
written from the `year_total` milestones, so readers of that column keep working; it is the same
information as `SELECT label, probability FROM forecast_milestones WHERE kind = 'year_total'`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from forecasting.frames import (
    CUMULATIVE_COLUMNS,
    MILESTONE_COLUMNS,
    RUN_COLUMNS,
    WEEKLY_COLUMNS,
    YEAR_END_COLUMNS,
    ForecastFrames,
)
from forecasting.store.connection import open_store, retry_on_lock
from forecasting.store.transaction import transaction

__all__ = ["save_forecast_frames", "read_forecast_frames", "frames_from"]

_YEAR_END = {"mean": "year_end_mean", "p10": "year_end_p10", "p50": "year_end_p50",
             "p90": "year_end_p90"}  # fmt: skip
_DATES = {
    "runs": ["as_of", "data_through"],
    "weekly": ["as_of", "week_ending"],
    "year_end": ["as_of"],
    "cumulative": ["as_of", "week_ending"],
    "milestones": ["as_of", "date_p10", "date_p50", "date_p90"],
}


def save_forecast_frames(
    db_path: str | Path, frames: ForecastFrames, reads: Mapping[date, Any] | None = None
) -> int:
    """Store every (as_of, model) of `frames` in ONE transaction; returns how many.

    `reads` maps each as_of to the AsOfRead it was fitted on, for the publications (sha256)
    and the as-of rule recorded with the forecast (and data_through where runs lack it).
    """
    header = _forecast_rows(frames, reads or {})
    if header.empty:
        return 0
    writes = {
        "forecasts": header,
        "forecast_weeks": frames.weekly[WEEKLY_COLUMNS],
        "forecast_cumulative": frames.cumulative[CUMULATIVE_COLUMNS],
        "forecast_milestones": frames.milestones[MILESTONE_COLUMNS],
    }
    keys = header[["as_of", "model"]]

    def write() -> int:
        with open_store(db_path) as con, transaction(con):
            con.register("incoming_keys", keys)
            for table, frame in writes.items():
                con.execute(
                    f"DELETE FROM {table} t WHERE EXISTS (SELECT 1 FROM incoming_keys k "
                    "WHERE k.as_of::DATE = t.as_of AND k.model = t.model)"
                )
                if not frame.empty:
                    _insert(con, table, frame)
        return len(header)

    return retry_on_lock(write)


def _insert(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame) -> None:
    incoming = f"incoming_{table}"
    con.register(incoming, frame)
    con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM {incoming}")


def _forecast_rows(frames: ForecastFrames, reads: Mapping[date, Any]) -> pd.DataFrame:
    """runs + year_end (+ what was read, + prob_exceeds) as rows of `forecasts`."""
    runs = frames.runs[RUN_COLUMNS]
    year_end = frames.year_end[YEAR_END_COLUMNS].rename(columns=_YEAR_END)
    header = runs.merge(year_end, on=["as_of", "model"], how="left", validate="one_to_one")
    lacking = header[header["year"].isna()]
    if not lacking.empty:
        first = lacking.iloc[0]
        raise ValueError(f"no year_end row for as_of {first['as_of']}, model {first['model']}")
    header = header.assign(
        production=header["production"].astype(bool),
        year=header["year"].astype("int64"),
        observed_ytd=header["observed_ytd"].astype(float).round().astype("int64"),
        publications=[_read_attr(reads, d, "publications", list) for d in header["as_of"]],
        as_of_rule=[_read_attr(reads, d, "rule") for d in header["as_of"]],
        prob_exceeds=[_prob_exceeds(frames.milestones, a, m) for a, m in
                      zip(header["as_of"], header["model"], strict=True)],
        created_at=datetime.now(UTC),
    )  # fmt: skip
    through = [_read_attr(reads, d, "data_through") for d in header["as_of"]]
    header["data_through"] = [
        t if t is not None and not pd.isna(t) else r
        for t, r in zip(header["data_through"], through, strict=True)
    ]
    return header


def _read_attr(reads: Mapping[date, Any], as_of: Any, name: str, kind: Any = None) -> Any:
    read = reads.get(pd.Timestamp(as_of).date())
    value = getattr(read, name, None) if read is not None else None
    return kind(value) if kind is not None and value is not None else value


def _prob_exceeds(milestones: pd.DataFrame, as_of: Any, model: str) -> str:
    mine = milestones[
        (milestones["as_of"] == as_of)
        & (milestones["model"] == model)
        & (milestones["kind"] == "year_total")
    ]
    return json.dumps(
        {str(label): round(float(p), 4) for label, p in zip(mine["label"], mine["probability"],
                                                             strict=True)}
    )  # fmt: skip


def read_forecast_frames(
    db_path: str | Path,
    as_of: date | Iterable[date] | None = None,
    *,
    models: Iterable[str] | None = None,
    production_only: bool = False,
) -> ForecastFrames:
    """The stored forecasts as ForecastFrames: of one as_of, several, or all (None).

    `runs` also carries `publications` and `as_of_rule` (what each was fitted on).
    """
    if not Path(db_path).exists():
        return ForecastFrames.empty()

    def read() -> ForecastFrames:
        with open_store(db_path, read_only=True) as con:
            return frames_from(con, as_of, models=models, production_only=production_only)

    return retry_on_lock(read)


def frames_from(
    con: duckdb.DuckDBPyConnection,
    as_of: date | Iterable[date] | None = None,
    *,
    models: Iterable[str] | None = None,
    production_only: bool = False,
) -> ForecastFrames:
    """`read_forecast_frames` on a connection already open (a reader making several reads)."""
    dates = [as_of] if isinstance(as_of, date) else None if as_of is None else list(as_of)
    where, params = _filters(dates, models, production_only)
    year_end_cols = ", ".join(f"f.{stored} AS {name}" for name, stored in _YEAR_END.items())
    queries = {
        "runs": "SELECT f.as_of, f.model, f.production, f.data_through, f.horizon_weeks, "
        "f.level_implied, f.level_trailing, f.calibration, f.remaining_year_errors, "
        "f.publications, f.as_of_rule",
        "year_end": f"SELECT f.as_of, f.model, f.year, f.observed_ytd, {year_end_cols}",
        "weekly": _columns("forecast_weeks", WEEKLY_COLUMNS),
        "cumulative": _columns("forecast_cumulative", CUMULATIVE_COLUMNS),
        "milestones": _columns("forecast_milestones", MILESTONE_COLUMNS),
    }
    tables = {"weekly": "forecast_weeks", "cumulative": "forecast_cumulative",
              "milestones": "forecast_milestones"}  # fmt: skip
    out = {}
    for name, select in queries.items():
        join = f" JOIN {tables[name]} t USING (as_of, model)" if name in tables else ""
        sql = f"{select} FROM forecasts f{join} WHERE {where} ORDER BY ALL"
        out[name] = _typed(con.execute(sql, params).df(), _DATES[name])
    out["year_end"]["observed_ytd"] = out["year_end"]["observed_ytd"].astype(float)
    return ForecastFrames(**out)


def _columns(table: str, columns: list[str]) -> str:
    return "SELECT " + ", ".join(f"f.{c}" if c in ("as_of", "model") else f"t.{c}" for c in columns)


def _filters(
    dates: list[date] | None, models: Iterable[str] | None, production_only: bool
) -> tuple[str, dict[str, Any]]:
    params: dict[str, Any]
    clauses, params = ["TRUE"], {}
    if dates is not None:
        clauses.append("f.as_of IN (SELECT unnest($dates::DATE[]))")
        params["dates"] = dates
    if models is not None:
        clauses.append("f.model IN (SELECT unnest($models::VARCHAR[]))")
        params["models"] = list(models)
    if production_only:
        clauses.append("f.production")
    return " AND ".join(clauses), params


def _typed(frame: pd.DataFrame, date_columns: list[str]) -> pd.DataFrame:
    for column in date_columns:
        frame[column] = [None if pd.isna(v) else pd.Timestamp(v).date() for v in frame[column]]
    return frame
