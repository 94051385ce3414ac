"""Reading the figures as known on a date: the vintage rule behind forecasts and backtests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd

from forecasting.calendar import london_today
from forecasting.sources.cells import WEEKLY_COLUMNS
from forecasting.store.connection import open_store, retry_on_lock
from forecasting.store.views import SUPERSEDED

__all__ = [
    "AsOfRead",
    "read_as_of",
    "latest_daily",
    "last_official_day",
    "publication_data_throughs",
]


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


# Only official publications count (held ones wait for review); among those known by as_of, an
# original superseded by a reissue also known by then is left out.
_ELIGIBLE = "SELECT count(*) FROM publications WHERE status = 'official' AND data_through <= $as_of"
_VINTAGE = "p.data_through <= $as_of"
_EARLIEST = """p.publication_id = (
    SELECT publication_id FROM publications WHERE status = 'official'
    ORDER BY coalesce(released_on, data_through::DATE + 1), data_through, version DESC,
             publication_id
    LIMIT 1)"""
_USABLE = """
    SELECT p.publication_id, p.sha256, p.file_name, o.sequence
    FROM publications p JOIN publication_order o USING (publication_id)
    WHERE p.status = 'official' AND {which} AND NOT {superseded}"""


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
            params = {"as_of": as_of}
            eligible = con.execute(_ELIGIBLE, params).fetchone()
            assert eligible is not None  # an aggregate query returns exactly one row
            rule = "vintage" if eligible[0] else None
            usable = _USABLE.format(
                which=_VINTAGE if rule else _EARLIEST,
                superseded=SUPERSEDED.format(scope="r.data_through <= $as_of"),
            )
            daily = con.execute(
                f"""
                WITH usable AS ({usable})
                SELECT v.date, v.migrants_arrived, v.boats_arrived, v.boats_uncontrolled,
                       v.revised, v.note, u.sha256, u.file_name
                FROM daily_values v JOIN usable u USING (publication_id)
                WHERE v.date <= $as_of
                QUALIFY row_number() OVER (PARTITION BY v.date ORDER BY u.sequence DESC) = 1
                ORDER BY v.date
                """,
                params,
            ).df()
            weekly = con.execute(
                f"""
                WITH usable AS ({usable})
                SELECT v.week_ending, v.migrants_arrived, v.boats_arrived, v.boats_uncontrolled,
                       v.migrants_prevented, v.events_prevented
                FROM weekly_values v JOIN usable u USING (publication_id)
                WHERE v.week_ending <= $as_of
                QUALIFY row_number() OVER (PARTITION BY v.week_ending ORDER BY u.sequence DESC)
                        = 1
                ORDER BY v.week_ending
                """,
                params,
            ).df()
        rule = rule or "earliest_held_cut"
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
        return _empty_read(london_today())
    last = last_official_day(db_path)
    if last is None:
        return _empty_read(london_today())
    return read_as_of(db_path, last)


def last_official_day(db_path: str | Path) -> date | None:
    """The last day with figures in any official publication (None for an empty store).

    The one definition of "the figures' last day": forecasts, backfills, staleness, the report
    and the alerts all ask this. Publications held back for review do not count until accepted.
    """
    throughs = publication_data_throughs(db_path)
    return throughs[-1] if throughs else None


def publication_data_throughs(db_path: str | Path) -> list[date]:
    """The distinct last days of the official publications, oldest first: between two of them
    the publications `read_as_of` uses do not change (what `AsOfReader` caches on)."""
    if not Path(db_path).exists():
        return []

    def read() -> list[date]:
        with open_store(db_path, read_only=True) as con:
            rows = con.execute(
                "SELECT DISTINCT data_through FROM publications WHERE status = 'official' "
                "ORDER BY 1"
            ).fetchall()
        return [row[0] for row in rows]

    return retry_on_lock(read)


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
    return AsOfRead(as_of, daily, pd.DataFrame(columns=WEEKLY_COLUMNS), "empty", [], [])
