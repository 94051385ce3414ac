"""What the alerts read from the store: the facts `forecasting.alerts` compares.

Which publications a run stored, how the latest figures stood before them, how fresh each source
is, whether a release changed a past year's total, and which releases are held back for review.
What was already announced is `forecasting.store.announcements`. Where the store keeps a review
status (`publications.status`: 'official', or 'held' for a release that rewrites history), held
publications are left out of the figures compared; a store without that column has none.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import pandas as pd

from forecasting.store.connection import open_store, retry_on_lock

T = TypeVar("T")

__all__ = [
    "HELD_STATUSES",
    "stored_since",
    "run_publications",
    "previous_data_through",
    "source_freshness",
    "year_total_changes",
    "held_back_publications",
    "latest_year_end",
]

# Review statuses meaning "held back for an analyst" (matched in lower case, as substrings).
HELD_STATUSES = ("held", "pending", "review", "quarantine")


def _has_table(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    count = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [table]
    ).fetchone()
    assert count is not None  # an aggregate query returns exactly one row
    return bool(count[0])


def _has_status(con: duckdb.DuckDBPyConnection) -> bool:
    count = con.execute(
        "SELECT count(*) FROM information_schema.columns "
        "WHERE table_name = 'publications' AND column_name = 'status'"
    ).fetchone()
    assert count is not None  # an aggregate query returns exactly one row
    return bool(count[0])


def _held(con: duckdb.DuckDBPyConnection, alias: str = "p") -> str:
    """SQL true for a publication held back for review (FALSE where the store keeps no status)."""
    if not _has_status(con):
        return "FALSE"
    pattern = "|".join(HELD_STATUSES)
    return f"coalesce(regexp_matches(lower(CAST({alias}.status AS VARCHAR)), '{pattern}'), FALSE)"


def _read(db_path: str | Path, action: Callable[[duckdb.DuckDBPyConnection], T], empty: T) -> T:
    """One read-only look at the store (an absent store reads as `empty`)."""
    if not Path(db_path).exists():
        return empty

    def read() -> T:
        with open_store(db_path, read_only=True) as con:
            return action(con)

    return retry_on_lock(read)


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
    held (held back for review), previous_through and previous_published_at (the newest of the
    same kind stored before, held ones left out).
    """
    columns = [
        "sha256", "kind", "file_name", "data_through", "published_at", "released_on",
        "is_latest", "held", "previous_through", "previous_published_at",
    ]  # fmt: skip
    if not shas:
        return pd.DataFrame(columns=columns)

    def action(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
        earlier = (
            f"q.kind = p.kind AND NOT list_contains($shas, q.sha256) AND NOT {_held(con, 'q')}"
        )
        sql = f"""
            SELECT p.sha256, p.kind, p.file_name, p.data_through, p.published_at, p.released_on,
                   o.recency = 1 AS is_latest, {_held(con)} AS held,
                   (SELECT max(q.data_through) FROM publications q WHERE {earlier})
                       AS previous_through,
                   (SELECT max(q.published_at) FROM publications q WHERE {earlier})
                       AS previous_published_at
            FROM publications p JOIN publication_order o USING (publication_id)
            WHERE list_contains($shas, p.sha256)
            ORDER BY p.publication_id
        """
        return con.execute(sql, {"shas": list(shas)}).df()

    return _read(db_path, action, pd.DataFrame(columns=columns))


def previous_data_through(db_path: str | Path, shas: Sequence[str]) -> date | None:
    """The last day of the latest figures as they stood without the publications `shas`."""

    def action(con: duckdb.DuckDBPyConnection) -> date | None:
        row = con.execute(
            "SELECT max(data_through) FROM publications p "
            f"WHERE NOT list_contains(?, sha256) AND NOT {_held(con)}",
            [list(shas)],
        ).fetchone()
        day: date | None = row[0] if row else None  # max() always gives one row
        return day

    return _read(db_path, action, None)


def source_freshness(db_path: str | Path) -> pd.DataFrame:
    """For each kind of publication held: the day its newest one was published.

    The page's own "updated" stamp (govuk:updated-at, whose London date is `released_on`) counts,
    not when we fetched it, so a page that keeps being served unchanged still ages. Where a
    publication has no date of its own, the day after its data ends stands in. A release held
    back for review was published (the source is not quiet) but its figures are not official:
    `data_through` is the last official day of that kind, as `reads.last_official_day` counts.
    Columns: kind, last_published, data_through.
    """
    sql = """
        SELECT kind, max(coalesce(released_on, data_through + 1)) AS last_published,
               max(data_through) FILTER (WHERE NOT {held}) AS data_through
        FROM publications p GROUP BY kind ORDER BY kind
    """
    return _read(
        db_path,
        lambda con: con.execute(sql.format(held=_held(con))).df(),
        pd.DataFrame(columns=["kind", "last_published", "data_through"]),
    )


# Latest figures before (without the run's publications) and now, summed by complete year.
YEAR_TOTAL_CHANGES = """
        WITH ranked AS (
            SELECT v.date, v.migrants_arrived, p.sha256, o.recency
            FROM daily_values v
            JOIN publications p USING (publication_id)
            JOIN publication_order o USING (publication_id)
            WHERE NOT {held}
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


def year_total_changes(db_path: str | Path, shas: Sequence[str], min_pct: float) -> pd.DataFrame:
    """Past complete years whose total moved by more than `min_pct` % with the publications `shas`.

    Compares the latest figures without them (as the store stood before the run) with the latest
    figures now, for every calendar year that was complete before. Columns: year, before, after,
    change, change_pct.
    """
    columns = ["year", "before", "after", "change", "change_pct"]
    if not shas:
        return pd.DataFrame(columns=columns)

    def action(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
        sql = YEAR_TOTAL_CHANGES.format(held=_held(con))
        return con.execute(sql, {"shas": list(shas), "min_pct": float(min_pct)}).df()

    return _read(db_path, action, pd.DataFrame(columns=columns))


def held_back_publications(db_path: str | Path) -> pd.DataFrame:
    """Publications held back for an analyst to accept, where the store keeps such a status.

    Reads `publications.status` (and `held_reason`) when the store has them; a store without a
    status holds none back. Columns: sha256, file_name, data_through, status, reason.
    """
    columns = ["sha256", "file_name", "data_through", "status", "reason"]

    def action(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
        if not _has_status(con):
            return pd.DataFrame(columns=columns)
        has_reason = con.execute(
            "SELECT count(*) FROM information_schema.columns "
            "WHERE table_name = 'publications' AND column_name = 'held_reason'"
        ).fetchone()
        assert has_reason is not None  # an aggregate query returns exactly one row
        reason = "CAST(p.held_reason AS VARCHAR)" if has_reason[0] else "NULL"
        return con.execute(
            "SELECT p.sha256, p.file_name, p.data_through, CAST(p.status AS VARCHAR) AS status, "
            f"{reason} AS reason FROM publications p WHERE {_held(con)} "
            "ORDER BY p.publication_id"
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
