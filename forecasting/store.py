"""The DuckDB store: every publication and every value it published (vintages), read as of any date.

Analysts query this file directly, so its tables and views are a public interface (docs/store.md):

- `publications`: one row per distinct file (by sha256) with its provenance.
- `daily_values`, `weekly_values`: every value of every publication (the vintages).
- `daily_arrivals`, `weekly_activity`: the latest known value of each day / week.
- `revisions`: each time a later publication changed a published day.
- `forecasts`, `forecast_weeks`: forecasts keyed by (as_of, model).
- `backtest_scores`, `backtest_year_end`: rolling-origin evaluations.

DuckDB lets one process hold a file at a time, even for reading. Every function here opens the
file, does one short transaction and closes it, retrying with backoff while another process holds
the lock, so nightly runs, backfills and ad-hoc ingests can overlap and all finish.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import pandas as pd

from forecasting.release import Release

__all__ = [
    "DEFAULT_DB",
    "AsOfRead",
    "IngestOutcome",
    "StoreBusy",
    "default_db_path",
    "open_store",
    "ingest",
    "held_publications",
    "read_as_of",
    "latest_daily",
    "ForecastRecord",
    "save_forecasts",
    "save_forecast_records",
    "save_frame",
    "save_frames",
    "read_frame",
]

DEFAULT_DB = Path("data") / "crossings.duckdb"
LOCK_WAIT_SECONDS = float(os.environ.get("CROSSINGS_LOCK_WAIT_SECONDS", "600"))

T = TypeVar("T")

SCHEMA = """
CREATE SEQUENCE IF NOT EXISTS publication_id_seq START 1;

CREATE TABLE IF NOT EXISTS publications (
    publication_id  INTEGER PRIMARY KEY DEFAULT nextval('publication_id_seq'),
    sha256          VARCHAR NOT NULL UNIQUE,
    kind            VARCHAR NOT NULL,      -- 'weekly_release' (ODS) or 'last_7_days' (HTML page)
    file_name       VARCHAR NOT NULL,
    source          VARCHAR NOT NULL,      -- the path or URL it was read from
    released_on     DATE,                  -- from the file name, where it has one
    published_at    TIMESTAMPTZ,           -- the page's govuk:updated-at
    data_from       DATE NOT NULL,
    data_through    DATE NOT NULL,
    daily_rows      INTEGER NOT NULL,
    weekly_rows     INTEGER NOT NULL,
    url             VARCHAR,
    discovered_via  VARCHAR,               -- 'content_api', 'publication_page', 'file', ...
    http_status     INTEGER,
    etag            VARCHAR,
    last_modified   VARCHAR,
    fetched_at      TIMESTAMPTZ,
    ingested_at     TIMESTAMPTZ NOT NULL
);

CREATE TABLE IF NOT EXISTS daily_values (
    publication_id      INTEGER NOT NULL,
    date                DATE NOT NULL,
    migrants_arrived    INTEGER NOT NULL,
    boats_arrived       INTEGER NOT NULL,
    boats_uncontrolled  INTEGER,           -- NULL where the Home Office shows "-"
    revised             BOOLEAN NOT NULL,
    note                VARCHAR,
    PRIMARY KEY (publication_id, date)
);

CREATE TABLE IF NOT EXISTS weekly_values (
    publication_id      INTEGER NOT NULL,
    week_ending         DATE NOT NULL,
    migrants_arrived    INTEGER NOT NULL,
    boats_arrived       INTEGER NOT NULL,
    boats_uncontrolled  INTEGER,
    migrants_prevented  INTEGER,           -- French operational estimates; NULL before May 2024
    events_prevented    INTEGER,
    PRIMARY KEY (publication_id, week_ending)
);

CREATE TABLE IF NOT EXISTS forecasts (
    as_of               DATE NOT NULL,
    model               VARCHAR NOT NULL,
    production          BOOLEAN NOT NULL,  -- the model whose figures are published
    data_through        DATE,
    publications        VARCHAR,           -- sha256 of the publications read, comma-separated
    as_of_rule          VARCHAR,
    year                INTEGER NOT NULL,
    observed_ytd        BIGINT NOT NULL,
    year_end_mean       DOUBLE NOT NULL,
    year_end_p10        DOUBLE NOT NULL,
    year_end_p50        DOUBLE NOT NULL,
    year_end_p90        DOUBLE NOT NULL,
    prob_exceeds        JSON,
    created_at          TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (as_of, model)
);

CREATE TABLE IF NOT EXISTS forecast_weeks (
    as_of        DATE NOT NULL,
    model        VARCHAR NOT NULL,
    week_ending  DATE NOT NULL,
    mean         DOUBLE NOT NULL,
    p10          DOUBLE NOT NULL,
    p50          DOUBLE NOT NULL,
    p90          DOUBLE NOT NULL,
    PRIMARY KEY (as_of, model, week_ending)
);

CREATE TABLE IF NOT EXISTS forecast_cumulative (
    as_of        DATE NOT NULL,
    model        VARCHAR NOT NULL,
    week_ending  DATE NOT NULL,            -- the last row of a year is 31 December itself
    mean         DOUBLE NOT NULL,          -- cumulative year-to-date total, over sample paths
    p10          DOUBLE NOT NULL,
    p50          DOUBLE NOT NULL,
    p90          DOUBLE NOT NULL,
    PRIMARY KEY (as_of, model, week_ending)
);

-- Newest first: the publication whose data runs latest; on a tie the weekly release (the
-- official series) over the daily page; then the later one published.
CREATE OR REPLACE VIEW publication_order AS
SELECT publication_id,
       row_number() OVER (ORDER BY data_through DESC, (kind = 'weekly_release') DESC,
                          coalesce(published_at, released_on::TIMESTAMPTZ, ingested_at) DESC,
                          publication_id DESC) AS recency
FROM publications;

CREATE OR REPLACE VIEW daily_arrivals AS
SELECT v.date, v.migrants_arrived, v.boats_arrived, v.boats_uncontrolled, v.revised, v.note,
       p.file_name AS publication, p.publication_id
FROM daily_values v
JOIN publications p USING (publication_id)
JOIN publication_order o USING (publication_id)
QUALIFY row_number() OVER (PARTITION BY v.date ORDER BY o.recency) = 1
ORDER BY v.date;

CREATE OR REPLACE VIEW weekly_activity AS
SELECT v.week_ending, v.migrants_arrived, v.boats_arrived, v.boats_uncontrolled,
       v.migrants_prevented, v.events_prevented, p.file_name AS publication
FROM weekly_values v
JOIN publications p USING (publication_id)
JOIN publication_order o USING (publication_id)
QUALIFY row_number() OVER (PARTITION BY v.week_ending ORDER BY o.recency) = 1
ORDER BY v.week_ending;

CREATE OR REPLACE VIEW revisions AS
WITH ordered AS (
    SELECT v.date, p.file_name, o.recency, v.migrants_arrived, v.boats_arrived,
           lag(v.migrants_arrived) OVER w AS previous_migrants_arrived,
           lag(v.boats_arrived) OVER w AS previous_boats_arrived,
           lag(p.file_name) OVER w AS previous_publication
    FROM daily_values v
    JOIN publications p USING (publication_id)
    JOIN publication_order o USING (publication_id)
    WINDOW w AS (PARTITION BY v.date ORDER BY o.recency DESC)
)
SELECT date, previous_publication, file_name AS publication,
       previous_migrants_arrived, migrants_arrived,
       migrants_arrived - previous_migrants_arrived AS migrants_change,
       previous_boats_arrived, boats_arrived
FROM ordered
WHERE previous_publication IS NOT NULL
  AND (migrants_arrived <> previous_migrants_arrived OR boats_arrived <> previous_boats_arrived)
ORDER BY date, publication;
"""


class StoreBusy(RuntimeError):
    """Another process held the store's lock for longer than we were willing to wait."""


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


SCHEMA_VERSION = hashlib.sha256(SCHEMA.encode()).hexdigest()[:16]


def _ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create or update tables and views, once per schema version (it costs ~20 ms an open)."""
    try:
        row = con.execute("SELECT value FROM store_info WHERE key = 'schema'").fetchone()
    except duckdb.CatalogException:
        row = None
    if row and row[0] == SCHEMA_VERSION:
        return
    con.execute(SCHEMA)
    con.execute("CREATE TABLE IF NOT EXISTS store_info (key VARCHAR PRIMARY KEY, value VARCHAR)")
    con.execute("INSERT OR REPLACE INTO store_info VALUES ('schema', ?)", [SCHEMA_VERSION])


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
                _ensure_schema(con)
            except Exception:
                con.close()
                raise
        return con

    con = retry_on_lock(connect)
    try:
        yield con
    finally:
        con.close()


@dataclass(frozen=True)
class IngestOutcome:
    """What one ingest did, in words a log can carry."""

    file_name: str
    sha256: str
    stored: bool  # False: the same bytes were already held
    kind: str
    data_through: date
    is_latest: bool  # True when this publication now gives the latest figures
    revised_days: int  # days whose figures differ from the previous latest value

    def describe(self) -> str:
        if not self.stored:
            return f"{self.file_name}: already held (sha256 {self.sha256[:12]}), nothing changed"
        role = "now the latest" if self.is_latest else "kept as history (a newer one is held)"
        revised = f", {self.revised_days} day(s) revised" if self.revised_days else ""
        return (
            f"{self.file_name}: stored, data through "
            f"{self.data_through.day} {self.data_through:%B %Y}, {role}{revised}"
        )


def ingest(db_path: str | Path, release: Release, *, source: str) -> IngestOutcome:
    """Store one checked publication in a single transaction; the same bytes twice is a no-op."""
    provenance = release.provenance or {}

    def write() -> IngestOutcome:
        with open_store(db_path) as con:
            held = con.execute(
                "SELECT 1 FROM publications WHERE sha256 = ?", [release.sha256]
            ).fetchone()
            if held:
                return IngestOutcome(
                    release.file_name, release.sha256, False, release.kind,
                    release.data_through, False, 0,
                )
            con.execute("BEGIN TRANSACTION")
            try:
                publication_id = con.execute(
                    """
                    INSERT INTO publications (sha256, kind, file_name, source, released_on,
                        published_at, data_from, data_through, daily_rows, weekly_rows, url,
                        discovered_via, http_status, etag, last_modified, fetched_at, ingested_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    RETURNING publication_id
                    """,
                    [
                        release.sha256, release.kind, release.file_name, source,
                        release.released_on, release.published_at, release.data_from,
                        release.data_through, len(release.daily),
                        0 if release.weekly is None else len(release.weekly),
                        provenance.get("url"), provenance.get("discovered_via", "file"),
                        provenance.get("http_status"), provenance.get("etag"),
                        provenance.get("last_modified"), provenance.get("fetched_at"),
                        datetime.now(UTC),
                    ],
                ).fetchone()[0]
                daily = release.daily.assign(publication_id=publication_id)
                con.register("incoming_daily", daily)
                con.execute(
                    """
                    INSERT INTO daily_values SELECT publication_id, date, migrants_arrived,
                        boats_arrived, boats_uncontrolled, revised, note FROM incoming_daily
                    """
                )
                con.unregister("incoming_daily")
                if release.weekly is not None:
                    weekly = release.weekly.assign(publication_id=publication_id)
                    con.register("incoming_weekly", weekly)
                    con.execute(
                        """
                        INSERT INTO weekly_values SELECT publication_id, week_ending,
                            migrants_arrived, boats_arrived, boats_uncontrolled,
                            migrants_prevented, events_prevented FROM incoming_weekly
                        """
                    )
                    con.unregister("incoming_weekly")
                is_latest = con.execute(
                    "SELECT recency = 1 FROM publication_order WHERE publication_id = ?",
                    [publication_id],
                ).fetchone()[0]
                revised_days = con.execute(
                    "SELECT count(*) FROM revisions WHERE publication = ?", [release.file_name]
                ).fetchone()[0]
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
            return IngestOutcome(
                release.file_name, release.sha256, True, release.kind, release.data_through,
                bool(is_latest), int(revised_days),
            )

    return retry_on_lock(write)


def held_publications(db_path: str | Path) -> pd.DataFrame:
    """The publications table, newest first (empty when the store does not exist yet)."""
    if not Path(db_path).exists():
        return pd.DataFrame(columns=["sha256", "file_name", "url", "etag", "last_modified"])
    with open_store(db_path, read_only=True) as con:
        return con.execute(
            """
            SELECT p.* FROM publications p JOIN publication_order o USING (publication_id)
            ORDER BY o.recency
            """
        ).df()


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
        columns=["week_ending", "migrants_arrived", "boats_arrived", "boats_uncontrolled",
                 "migrants_prevented", "events_prevented"]
    )
    return AsOfRead(as_of, daily, weekly, "empty", [], [])


@dataclass(frozen=True)
class ForecastRecord:
    """One as_of's forecasts as they are stored: every model's JSON-contract dict and more."""

    payloads: dict[str, dict[str, Any]]  # model -> JSON contract
    production_model: str
    read: AsOfRead | None = None  # what it was fitted on (data_through, publications, rule)
    cumulative: pd.DataFrame | None = None  # production model's YTD quantiles to 31 December


def save_forecasts(
    db_path: str | Path,
    payloads: dict[str, dict[str, Any]],
    *,
    production_model: str,
    read: AsOfRead | None = None,
    cumulative: pd.DataFrame | None = None,
) -> None:
    """Store one as_of's forecasts (JSON-contract dicts, one per model), replacing any earlier.

    `cumulative` is the production model's cumulative year-to-date quantiles to 31 December
    (week_ending, mean, p10, p50, p90). Everything goes in one transaction.
    """
    save_forecast_records(db_path, [ForecastRecord(payloads, production_model, read, cumulative)])


def save_forecast_records(db_path: str | Path, records: list[ForecastRecord]) -> None:
    """Store several as_of dates' forecasts in ONE transaction (a backfill's batch of fits)."""
    created_at = datetime.now(UTC)
    headers, weeks, cumulative = [], [], []
    for record in records:
        read = record.read
        for model, payload in record.payloads.items():
            year_end = payload["year_end"]
            as_of = date.fromisoformat(payload["as_of"])
            headers.append(
                {
                    "as_of": as_of,
                    "model": model,
                    "production": model == record.production_model,
                    "data_through": read.data_through if read else None,
                    "publications": ",".join(read.publications) if read else None,
                    "as_of_rule": read.rule if read else None,
                    "year": int(year_end["year"]),
                    "observed_ytd": int(year_end["observed_ytd"]),
                    "year_end_mean": float(year_end["mean"]),
                    "year_end_p10": float(year_end["p10"]),
                    "year_end_p50": float(year_end["p50"]),
                    "year_end_p90": float(year_end["p90"]),
                    "prob_exceeds": json.dumps(year_end["prob_exceeds"]),
                    "created_at": created_at,
                }
            )
            weeks.extend(
                {
                    "as_of": as_of,
                    "model": model,
                    "week_ending": date.fromisoformat(week["week_ending"]),
                    **{k: float(week[k]) for k in ("mean", "p10", "p50", "p90")},
                }
                for week in payload["weekly"]
            )
            if model == record.production_model and record.cumulative is not None:
                cumulative.append(record.cumulative.assign(as_of=as_of, model=model))
    writes = [
        ("forecasts", pd.DataFrame(headers), ["as_of", "model"]),
        ("forecast_weeks", pd.DataFrame(weeks), ["as_of", "model"]),
    ]
    if cumulative:
        writes.append(
            ("forecast_cumulative", pd.concat(cumulative, ignore_index=True), ["as_of", "model"])
        )
    save_frames(db_path, writes)


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
