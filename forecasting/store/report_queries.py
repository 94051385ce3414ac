"""What the HTML report reads from the store, in one short read-only connection.

The report needs a dozen small reads besides the as-of figures (the forecast it shows, earlier
forecasts to score, revisions, backtests); each open costs tens of milliseconds, so they share
one connection. Tables that an older store lacks read as empty frames: the page leaves out the
section rather than failing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from forecasting.frames import ForecastFrames
from forecasting.store.connection import open_store, retry_on_lock
from forecasting.store.forecast_frames import frames_from

__all__ = [
    "ReportTables",
    "read_report_tables",
    "LEDGER_COLUMNS",
]


@dataclass
class ReportTables:
    """Every store read the report makes besides the as-of figures themselves."""

    publications: pd.DataFrame  # every publication held, newest first
    forecast: ForecastFrames | None  # the forecast shown: one as_of, one model
    earlier_weeks: pd.DataFrame  # as_of, model, production, week_ending, mean, p10, p50, p90
    earlier_year_end: pd.DataFrame  # forecasts rows made before the one shown
    revisions: pd.DataFrame
    revisions_source: str | None = None  # "revision_ledger", "revisions" or None (neither held)
    backtest_scores: pd.DataFrame | None = None
    backtest_year_end: pd.DataFrame | None = None
    tables: set[str] = field(default_factory=set)
    members: ForecastFrames | None = None  # every model stored for the shown forecast's as_of


class _Reader:
    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self.tables = set(self.q("SELECT table_name FROM information_schema.tables")["table_name"])

    def q(self, sql: str, params: Any = None) -> pd.DataFrame:
        return self.con.execute(sql, params or []).df()

    def has(self, *names: str) -> bool:
        return set(names) <= self.tables


def _forecast(r: _Reader, as_of: date, through: date) -> ForecastFrames | None:
    """The newest forecast made on or before `as_of` from data known then (the production
    model's where one is marked), in the long frames' shape.

    A forecast dated after `as_of` is never shown, even one made from the same data (`crossings
    forecast --as-of` a later date, or a backfill past the data's end), nor one whose data runs
    past what was known on `as_of`.
    """
    if not r.has("forecasts", "forecast_weeks"):
        return None
    head = r.q(
        """
        SELECT as_of, model FROM forecasts
        WHERE as_of <= $as_of AND (data_through IS NULL OR data_through <= $through)
        ORDER BY as_of DESC, production DESC, model
        LIMIT 1
        """,
        {"as_of": as_of, "through": through},
    )
    if head.empty:
        return None
    shown = pd.Timestamp(head["as_of"].iloc[0]).date()
    return frames_from(r.con, shown, models=[str(head["model"].iloc[0])])


def _earlier(r: _Reader, cutoff: date) -> tuple[pd.DataFrame, pd.DataFrame]:
    if not r.has("forecasts", "forecast_weeks"):
        return pd.DataFrame(), pd.DataFrame()
    weeks = r.q(
        """
        SELECT f.as_of, f.model, f.production, w.week_ending, w.mean, w.p10, w.p50, w.p90
        FROM forecast_weeks w JOIN forecasts f USING (as_of, model)
        WHERE f.as_of < ? ORDER BY f.as_of, f.model, w.week_ending
        """,
        [cutoff],
    )
    year_end = r.q(
        """
        SELECT as_of, model, production, year, observed_ytd, year_end_p10, year_end_p50,
               year_end_p90, prob_exceeds
        FROM forecasts WHERE as_of < ? ORDER BY as_of, model
        """,
        [cutoff],
    )
    return weeks, year_end


# The revision ledger's columns (one row per published figure a later publication changed).
LEDGER_COLUMNS = [
    "series",
    "period",
    "previous_publication",
    "publication",
    "previous_value",
    "value",
    "change",
]


def _revisions(r: _Reader, through: date) -> tuple[pd.DataFrame, str | None]:
    """Every change a later publication made to a published figure, known by `through`.

    The ledger of every series (daily arrivals and boats, weekly preventions) where the store
    has one; else the daily `revisions` view. Only publications whose data ended by `through`
    count, so a page of an earlier date shows the revisions seen by then.
    """
    eligible = "SELECT file_name FROM publications WHERE data_through <= $through"
    if r.has("revision_ledger"):
        ledger = r.q("SELECT * FROM revision_ledger")
        if set(LEDGER_COLUMNS[:-1]) <= set(ledger.columns):
            names = r.q(
                "SELECT file_name, data_through <= $through AS known FROM publications",
                {"through": through},
            )
            known = set(names.loc[names["known"], "file_name"])
            # the ledger names publications by file name, as the revisions view does
            if ledger.empty or ledger["publication"].isin(set(names["file_name"])).any():
                periods = pd.to_datetime(ledger["period"]).dt.date
                before, after = ledger["previous_value"], ledger["value"]
                changed = ledger["previous_publication"].notna() & ~(
                    (before == after) | (before.isna() & after.isna())
                )
                ledger = ledger[changed & ledger["publication"].isin(known) & (periods <= through)]
                if "change" not in ledger:
                    ledger = ledger.assign(change=ledger["value"] - ledger["previous_value"])
                ledger = ledger.sort_values(
                    ["period", "series", "publication"], ascending=[False, True, True]
                )
                return ledger.reset_index(drop=True), "revision_ledger"
    if not r.has("revisions"):
        return pd.DataFrame(), None
    daily = r.q(
        f"""
        SELECT date, previous_publication, publication, previous_migrants_arrived,
               migrants_arrived, migrants_change, previous_boats_arrived, boats_arrived
        FROM revisions
        WHERE publication IN ({eligible}) AND date <= $through
        ORDER BY date DESC, publication
        """,
        {"through": through},
    )
    return daily, "revisions"


def read_report_tables(db_path: str | Path, as_of: date, through: date) -> ReportTables:
    """Everything the report reads as known on `as_of` (figures through `through`)."""

    def read() -> ReportTables:
        with open_store(db_path, read_only=True) as con:
            r = _Reader(con)
            publications = r.q(
                """
                SELECT p.* FROM publications p JOIN publication_order o USING (publication_id)
                ORDER BY o.recency
                """
            )
            forecast = _forecast(r, as_of, through)
            shown = forecast.runs["as_of"].iloc[0] if forecast else None
            members = None if shown is None else frames_from(r.con, shown)
            cutoff = shown if shown is not None else as_of + timedelta(days=1)
            earlier_weeks, earlier_year_end = _earlier(r, cutoff)
            revisions, revisions_source = _revisions(r, through)
            return ReportTables(
                publications=publications,
                forecast=forecast,
                members=members,
                earlier_weeks=earlier_weeks,
                earlier_year_end=earlier_year_end,
                revisions=revisions,
                revisions_source=revisions_source,
                backtest_scores=(
                    r.q("SELECT * FROM backtest_scores") if r.has("backtest_scores") else None
                ),
                backtest_year_end=(
                    r.q("SELECT * FROM backtest_year_end") if r.has("backtest_year_end") else None
                ),
                tables=r.tables,
            )

    return retry_on_lock(read)
