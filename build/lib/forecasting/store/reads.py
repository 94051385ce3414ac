"""Reading the figures as known on a date: the vintage rule behind forecasts and backtests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd

from forecasting.store.connection import open_store, retry_on_lock

__all__ = ["AsOfRead", "read_as_of", "latest_daily"]


@dataclass(frozen=True)
class AsOfRead:
    """The figures as known on `as_of`, and which rule gave them."""

    as_of: date
    daily: pd.DataFrame  # date, migrants_arrived, boats_arrived, boats_uncontrolled, revised, note
    weekly: pd.DataFrame  # weekly_activity's columns, weeks ending on or before as_of
    rule: str  # "vintage": publications whose data ended by as_of; "earliest_held_cut": see below
    publications: list[str]  # sha256 of the publications the values came from
    publication_names: list[str]

    @property
    def data_through(self) -> date | None:
        return None if self.daily.empty else self.daily["date"].iloc[-1]

    def describe(self) -> str:
        if self.rule == "vintage":
            return f"as known on {self.as_of}: publications whose data ended by then"
        if self.rule == "earliest_held_cut":
            return (
                f"as known on {self.as_of}: the store holds nothing that old, so the oldest "
                "publication held, cut off at that date (later revisions may show)"
            )
        return f"as known on {self.as_of}: the store is empty"


def read_as_of(db_path: str | Path, as_of: date) -> AsOfRead:
    """The data as known on `as_of`.

    For each day up to `as_of`, the value from the newest publication covering that day among
    those whose data ends on or before `as_of` (rule "vintage"). When the store holds no
    publication that old, the oldest one it holds, cut off at `as_of` (rule
    "earliest_held_cut"): the best record available of what was known then.
    """
    if not Path(db_path).exists():
        return _empty_read(as_of)

    def read() -> AsOfRead:
        with open_store(db_path, read_only=True) as con:
            eligible = con.execute(
                "SELECT count(*) FROM publications WHERE data_through <= ?", [as_of]
            ).fetchone()[0]
            if eligible:
                rule, where = "vintage", "p.data_through <= $as_of"
            else:
                rule = "earliest_held_cut"
                where = """p.publication_id = (SELECT publication_id FROM publications
                           ORDER BY coalesce(released_on, data_through::DATE + 1), data_through,
                                    publication_id LIMIT 1)"""
            params = {"as_of": as_of}
            daily = con.execute(
                f"""
                SELECT v.date, v.migrants_arrived, v.boats_arrived, v.boats_uncontrolled,
                       v.revised, v.note, p.sha256, p.file_name
                FROM daily_values v
                JOIN publications p USING (publication_id)
                JOIN publication_order o USING (publication_id)
                WHERE {where} AND v.date <= $as_of
                QUALIFY row_number() OVER (PARTITION BY v.date ORDER BY o.recency) = 1
                ORDER BY v.date
                """,
                params,
            ).df()
            weekly = con.execute(
                f"""
                SELECT v.week_ending, v.migrants_arrived, v.boats_arrived, v.boats_uncontrolled,
                       v.migrants_prevented, v.events_prevented
                FROM weekly_values v
                JOIN publications p USING (publication_id)
                JOIN publication_order o USING (publication_id)
                WHERE {where} AND v.week_ending <= $as_of
                QUALIFY row_number() OVER (PARTITION BY v.week_ending ORDER BY o.recency) = 1
                ORDER BY v.week_ending
                """,
                params,
            ).df()
        if daily.empty:
            return _empty_read(as_of)
        used = daily.drop_duplicates("sha256")
        return AsOfRead(
            as_of=as_of,
            daily=_daily_frame(daily),
            weekly=_dates_to_python(weekly, "week_ending"),
            rule=rule,
            publications=used["sha256"].tolist(),
            publication_names=used["file_name"].tolist(),
        )

    return retry_on_lock(read)


def latest_daily(db_path: str | Path) -> AsOfRead:
    """The latest known figures (the `daily_arrivals` view) as an AsOfRead of the last day."""
    if not Path(db_path).exists():
        return _empty_read(date.today())
    with open_store(db_path, read_only=True) as con:
        last = con.execute("SELECT max(data_through) FROM publications").fetchone()[0]
    if last is None:
        return _empty_read(date.today())
    return read_as_of(db_path, last)


def _daily_frame(frame: pd.DataFrame) -> pd.DataFrame:
    frame = _dates_to_python(frame, "date")
    for column in ("migrants_arrived", "boats_arrived"):
        frame[column] = frame[column].astype("int64")
    frame["boats_uncontrolled"] = frame["boats_uncontrolled"].astype("Int64")
    frame["revised"] = frame["revised"].astype(bool)
    return frame[
        ["date", "migrants_arrived", "boats_arrived", "boats_uncontrolled", "revised", "note"]
    ].reset_index(drop=True)


def _dates_to_python(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    frame = frame.copy()
    frame[column] = [pd.Timestamp(d).date() for d in frame[column]]
    return frame


def _empty_read(as_of: date) -> AsOfRead:
    daily = pd.DataFrame(
        {
            "date": pd.Series(dtype=object),
            "migrants_arrived": pd.Series(dtype="int64"),
            "boats_arrived": pd.Series(dtype="int64"),
            "boats_uncontrolled": pd.Series(dtype="Int64"),
            "revised": pd.Series(dtype=bool),
            "note": pd.Series(dtype=object),
        }
    )
    weekly = pd.DataFrame(
        columns=[
            "week_ending",
            "migrants_arrived",
            "boats_arrived",
            "boats_uncontrolled",
            "migrants_prevented",
            "events_prevented",
        ]
    )
    return AsOfRead(as_of, daily, weekly, "empty", [], [])
