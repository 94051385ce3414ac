"""What the alerts read from the store, and the record of what was announced (sent once each).

`announcements` remembers every alert key that went out, so a rerun, a retry or a second
scheduler never sends the same news twice. The reads below give `forecasting.alerts` the facts it
compares: which publications a run stored, how the latest figures looked before them, how fresh
each source is, and whether a release changed a past year's total.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from forecasting.store.connection import open_store, retry_on_lock

__all__ = [
    "ANNOUNCEMENTS_DDL",
    "was_announced",
    "announced_keys",
    "record_announcement",
    "record_announcements",
    "stored_since",
    "run_publications",
    "previous_data_through",
    "source_freshness",
    "year_total_changes",
    "held_back_publications",
    "latest_year_end",
]

ANNOUNCEMENTS_DDL = """
CREATE TABLE IF NOT EXISTS announcements (
    key           VARCHAR PRIMARY KEY,   -- e.g. new:<sha256>, record:day:<date>, quiet:page:<date>
    kind          VARCHAR,               -- new, record, quiet, older, stamp, revision, held, ...
    message       VARCHAR,               -- the whole message it went out in
    announced_at  TIMESTAMPTZ
)
"""

# Statuses of a publication held back for an analyst (the store's review workflow, if present).
HELD_STATUSES = ("held", "pending", "review", "quarantine")


def _has_table(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    return bool(
        con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [table]
        ).fetchone()[0]
    )


def _read(db_path: str | Path, action: Any, empty: Any) -> Any:
    """One read-only look at the store (an absent store reads as `empty`)."""
    if not Path(db_path).exists():
        return empty

    def read() -> Any:
        with open_store(db_path, read_only=True) as con:
            return action(con)

    return retry_on_lock(read)


def announced_keys(db_path: str | Path, keys: Iterable[str]) -> set[str]:
    """Those of `keys` already announced (one look at the store for a whole run's alerts)."""
    wanted = list(dict.fromkeys(keys))
    if not wanted:
        return set()

    def action(con: duckdb.DuckDBPyConnection) -> set[str]:
        if not _has_table(con, "announcements"):
            return set()
        rows = con.execute(
            "SELECT key FROM announcements WHERE list_contains(?, key)", [wanted]
        ).fetchall()
        return {key for (key,) in rows}

    return _read(db_path, action, set())


def was_announced(db_path: str | Path, key: str) -> bool:
    """Whether the alert `key` has gone out already."""
    return key in announced_keys(db_path, [key])


def record_announcements(db_path: str | Path, rows: Sequence[tuple[str, str, str]]) -> None:
    """Remember (key, kind, message) rows as announced, in one transaction; repeats are kept."""
    if not rows:
        return
    now = datetime.now(UTC)

    def write() -> None:
        with open_store(db_path) as con:
            con.execute(ANNOUNCEMENTS_DDL)
            con.execute("BEGIN TRANSACTION")
            try:
                con.executemany(
                    "INSERT INTO announcements VALUES (?, ?, ?, ?) ON CONFLICT (key) DO NOTHING",
                    [(key, kind, message, now) for key, kind, message in rows],
                )
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise

    retry_on_lock(write)


def record_announcement(db_path: str | Path, key: str, kind: str, message: str) -> None:
    """Remember that the alert `key` went out (the first record of a key is kept)."""
    record_announcements(db_path, [(key, kind, message)])


def stored_since(db_path: str | Path, since: datetime) -> list[str]:
    """The sha256 of every publication stored at or after `since` (what a run stored)."""
    return _read(
        db_path,
        lambda con: [
            sha
            for (sha,) in con.execute(
                "SELECT sha256 FROM publications WHERE ingested_at >= ? ORDER BY publication_id",
                [since],
            ).fetchall()
        ],
        [],
    )


def run_publications(db_path: str | Path, shas: Sequence[str]) -> pd.DataFrame:
    """The publications a run stored, each with what the store held of its kind before the run.

    Columns: sha256, kind, file_name, data_through, published_at, released_on, is_latest,
    previous_through and previous_published_at (the newest of the same kind stored before).
    """
    columns = [
        "sha256",
        "kind",
        "file_name",
        "data_through",
        "published_at",
        "released_on",
        "is_latest",
        "previous_through",
        "previous_published_at",
    ]
    if not shas:
        return pd.DataFrame(columns=columns)
    sql = """
        SELECT p.sha256, p.kind, p.file_name, p.data_through, p.published_at, p.released_on,
               o.recency = 1 AS is_latest,
               (SELECT max(q.data_through) FROM publications q
                WHERE q.kind = p.kind AND NOT list_contains($shas, q.sha256)) AS previous_through,
               (SELECT max(q.published_at) FROM publications q
                WHERE q.kind = p.kind AND NOT list_contains($shas, q.sha256))
                   AS previous_published_at
        FROM publications p JOIN publication_order o USING (publication_id)
        WHERE list_contains($shas, p.sha256)
        ORDER BY p.publication_id
    """
    return _read(
        db_path,
        lambda con: con.execute(sql, {"shas": list(shas)}).df(),
        pd.DataFrame(columns=columns),
    )


def previous_data_through(db_path: str | Path, shas: Sequence[str]) -> date | None:
    """The last day of the latest figures as they stood without the publications `shas`."""
    value = _read(
        db_path,
        lambda con: con.execute(
            "SELECT max(data_through) FROM publications WHERE NOT list_contains(?, sha256)",
            [list(shas)],
        ).fetchone()[0],
        None,
    )
    return value


def source_freshness(db_path: str | Path) -> pd.DataFrame:
    """For each kind of publication held: the day its newest one was published.

    The page's own "updated" stamp (govuk:updated-at, whose London date is `released_on`) counts,
    not when we fetched it, so a page that keeps being served unchanged still ages. Where a
    publication has no date of its own, the day after its data ends stands in.
    Columns: kind, last_published, data_through.
    """
    sql = """
        SELECT kind, max(coalesce(released_on, data_through + 1)) AS last_published,
               max(data_through) AS data_through
        FROM publications GROUP BY kind ORDER BY kind
    """
    return _read(
        db_path,
        lambda con: con.execute(sql).df(),
        pd.DataFrame(columns=["kind", "last_published", "data_through"]),
    )


def year_total_changes(db_path: str | Path, shas: Sequence[str], min_pct: float) -> pd.DataFrame:
    """Past complete years whose total moved by more than `min_pct` % with the publications `shas`.

    Compares the latest figures without them (as the store stood before the run) with the latest
    figures now, for every calendar year that was complete before. Columns: year, before, after,
    change, change_pct.
    """
    columns = ["year", "before", "after", "change", "change_pct"]
    if not shas:
        return pd.DataFrame(columns=columns)
    sql = """
        WITH ranked AS (
            SELECT v.date, v.migrants_arrived, p.sha256, o.recency
            FROM daily_values v
            JOIN publications p USING (publication_id)
            JOIN publication_order o USING (publication_id)
        ),
        now AS (
            SELECT date, migrants_arrived FROM ranked
            QUALIFY row_number() OVER (PARTITION BY date ORDER BY recency) = 1
        ),
        before AS (
            SELECT date, migrants_arrived FROM ranked WHERE NOT list_contains($shas, sha256)
            QUALIFY row_number() OVER (PARTITION BY date ORDER BY recency) = 1
        ),
        years AS (
            SELECT year(b.date) AS year, sum(b.migrants_arrived) AS before,
                   sum(n.migrants_arrived) AS after, count(*) AS days,
                   max(b.date) AS last_day
            FROM before b JOIN now n USING (date)
            GROUP BY year(b.date)
        )
        SELECT year, before, after, after - before AS change,
               round((after - before) * 100.0 / before, 1) AS change_pct
        FROM years
        WHERE last_day = make_date(year, 12, 31) AND days >= 365 AND before > 0
          AND abs(after - before) * 100.0 / before > $min_pct
        ORDER BY year
    """
    return _read(
        db_path,
        lambda con: con.execute(sql, {"shas": list(shas), "min_pct": float(min_pct)}).df(),
        pd.DataFrame(columns=columns),
    )


def held_back_publications(db_path: str | Path) -> pd.DataFrame:
    """Publications held back for an analyst to accept, where the store keeps such a status.

    Reads `publications.status` when that column exists (values containing held, pending, review
    or quarantine); a store without it has none. Columns: sha256, file_name, data_through, status.
    """
    columns = ["sha256", "file_name", "data_through", "status"]

    def action(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
        has_status = con.execute(
            "SELECT count(*) FROM information_schema.columns "
            "WHERE table_name = 'publications' AND column_name = 'status'"
        ).fetchone()[0]
        if not has_status:
            return pd.DataFrame(columns=columns)
        pattern = "|".join(HELD_STATUSES)
        return con.execute(
            "SELECT sha256, file_name, data_through, CAST(status AS VARCHAR) AS status "
            "FROM publications WHERE regexp_matches(lower(CAST(status AS VARCHAR)), ?) "
            "ORDER BY publication_id",
            [pattern],
        ).df()

    return _read(db_path, action, pd.DataFrame(columns=columns))


def latest_year_end(db_path: str | Path) -> dict[str, Any] | None:
    """The newest stored production forecast of a year's end (year, as_of, p10, p50, p90)."""

    def action(con: duckdb.DuckDBPyConnection) -> dict[str, Any] | None:
        if not _has_table(con, "forecasts"):
            return None
        row = con.execute(
            "SELECT year, as_of, year_end_p10, year_end_p50, year_end_p90 FROM forecasts "
            "WHERE production ORDER BY as_of DESC LIMIT 1"
        ).fetchone()
        if row is None:
            return None
        return dict(zip(("year", "as_of", "p10", "p50", "p90"), row, strict=True))

    return _read(db_path, action, None)
