"""Storing the quarterly detailed dataset's releases, and reading them (latest or as of a date).

Each release is one row of `quarterly_publications` (told apart by sha256; the same bytes twice
is a no-op) and its rows in `quarterly_values`, labels as published beside the mapped ones.
These tables are apart from `publications`, so the weekly machinery never sees them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from forecasting.store.connection import open_store
from forecasting.store.publications import IngestOutcome
from forecasting.store.quarterly_views import SMALL_BOATS
from forecasting.store.transaction import transaction

__all__ = [
    "QuarterlyOutcome",
    "ingest_quarterly",
    "quarterly_publications",
    "quarterly_as_of",
    "quarterly_reconciliation",
    "quarterly_ledger",
    "quarterly_vintages",
    "BREAKDOWN_COLUMNS",
]

BREAKDOWN_COLUMNS = ("nationality", "region", "sex", "age_group", "method_of_entry")
_VALUE_COLUMNS = (
    "year, quarter, method_of_entry, nationality, region, sex, age_group, "
    "nationality_as_published, region_as_published, sex_as_published, age_group_as_published, "
    "detections, sheet_row"
)


@dataclass(frozen=True)
class QuarterlyOutcome(IngestOutcome):
    """What storing one quarterly release did, in words a log can carry (never held back: the
    quarterly record is compared with the weekly one, not checked against it)."""

    published_on: date | None = None
    vintage_source: str = "unknown"

    def describe(self) -> str:
        if not self.stored:
            return f"{self.file_name}: already held (sha256 {self.sha256[:12]}), nothing changed"
        through = f"{self.data_through.year} Q{(self.data_through.month - 1) // 3 + 1}"
        vintage = (
            f"published {self.published_on:%d %B %Y} ({self.vintage_source.replace('_', ' ')})"
            if self.published_on
            else "publication date unknown (ordered by its period)"
        )
        role = "now the latest" if self.is_latest else "kept as history (a newer one is held)"
        return f"{self.file_name}: quarterly figures to {through} stored, {vintage}, {role}"


def ingest_quarterly(
    db_path: str | Path, releases: Sequence[tuple[Any, str]]
) -> list[QuarterlyOutcome]:
    """Store checked quarterly releases ((release, source) pairs), each in its own transaction."""
    with open_store(db_path) as con:
        return [_store_one(con, release, source) for release, source in releases]


def _store_one(con: duckdb.DuckDBPyConnection, release: Any, source: str) -> QuarterlyOutcome:
    outcome = _outcome(release, stored=False, is_latest=False)
    if con.execute(
        "SELECT 1 FROM quarterly_publications WHERE sha256 = ?", [release.sha256]
    ).fetchone():
        return outcome
    provenance = release.provenance or {}
    with transaction(con):
        row = con.execute(
            """
            INSERT INTO quarterly_publications (sha256, kind, file_name, source, sheet,
                published_on, vintage_source, data_from, data_through, value_rows, url,
                discovered_via, http_status, etag, last_modified, fetched_at, ingested_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            RETURNING publication_id
            """,
            [
                release.sha256, release.kind, release.file_name, source, release.sheet,
                release.published_on, release.vintage_source, release.data_from,
                release.data_through, len(release.values), provenance.get("url"),
                provenance.get("discovered_via", "file"), provenance.get("http_status"),
                provenance.get("etag"), provenance.get("last_modified"),
                provenance.get("fetched_at"), datetime.now(UTC),
            ],
        ).fetchone()  # fmt: skip
        assert row is not None  # INSERT ... RETURNING one row returns it
        con.register("incoming_quarterly", release.values.assign(publication_id=row[0]))
        con.execute(
            f"INSERT INTO quarterly_values (publication_id, {_VALUE_COLUMNS}) "
            f"SELECT publication_id, {_VALUE_COLUMNS} FROM incoming_quarterly"
        )
        latest = con.execute(
            "SELECT recency = 1 FROM quarterly_order WHERE publication_id = ?", [row[0]]
        ).fetchone()
    return _outcome(release, stored=True, is_latest=bool(latest and latest[0]))


def _outcome(release: Any, *, stored: bool, is_latest: bool) -> QuarterlyOutcome:
    return QuarterlyOutcome(
        file_name=release.file_name, sha256=release.sha256, stored=stored,
        kind="quarterly_detailed", data_through=release.data_through, is_latest=is_latest,
        revised_days=0, published_on=release.published_on,
        vintage_source=release.vintage_source,
    )  # fmt: skip


def quarterly_publications(db_path: str | Path) -> pd.DataFrame:
    """The quarterly releases held, newest first (empty when there is no store yet)."""
    if not Path(db_path).exists():
        return pd.DataFrame(columns=["sha256", "file_name", "url", "published_on"])
    with open_store(db_path, read_only=True) as con:
        return con.execute(
            "SELECT p.*, o.sequence, o.known_from FROM quarterly_publications p "
            "JOIN quarterly_order o USING (publication_id) ORDER BY o.recency"
        ).df()


def quarterly_as_of(
    db_path: str | Path, as_of: date | None = None, *, small_boats_only: bool = False
) -> pd.DataFrame:
    """`quarterly_detections` as known on `as_of` (None: now): each quarter whole from the newest
    official release known by then (its vintage, or for an unknown vintage its last quarter's
    end). Columns as the view, plus `published_on` and `publication`."""
    where = f"AND {SMALL_BOATS}" if small_boats_only else ""
    with open_store(db_path, read_only=True) as con:
        return con.execute(
            f"""
            WITH known AS (
                SELECT DISTINCT v.year, v.quarter, v.publication_id, o.recency
                FROM quarterly_values v JOIN quarterly_order o USING (publication_id)
                WHERE o.in_series AND ($as_of IS NULL OR o.known_from <= $as_of)
                QUALIFY row_number() OVER (PARTITION BY year, quarter ORDER BY recency) = 1
            )
            SELECT v.year, v.quarter, v.method_of_entry, v.nationality, v.region, v.sex,
                   v.age_group, sum(v.detections)::BIGINT AS detections,
                   p.file_name AS publication, p.published_on, p.vintage_source
            FROM quarterly_values v
            JOIN known USING (year, quarter, publication_id)
            JOIN quarterly_publications p USING (publication_id)
            WHERE TRUE {where}
            GROUP BY ALL
            ORDER BY year, quarter
            """,
            {"as_of": as_of},
        ).df()


def quarterly_reconciliation(db_path: str | Path) -> pd.DataFrame:
    """The `quarterly_reconciliation` view: official against weekly small-boat totals."""
    with open_store(db_path, read_only=True) as con:
        return con.execute("SELECT * FROM quarterly_reconciliation").df()


def quarterly_ledger(db_path: str | Path) -> pd.DataFrame:
    """The ledger's quarterly rows: each official small-boat total a later release revised."""
    with open_store(db_path, read_only=True) as con:
        return con.execute(
            "SELECT * FROM revision_ledger WHERE series = 'quarterly_small_boat_arrivals'"
        ).df()


def quarterly_vintages(db_path: str | Path, as_of: date | None = None) -> pd.DataFrame:
    """Every official release known on `as_of` (None: all), its small-boat detections by
    quarter, nationality, sex and age group: what the estimate's backtest replays."""
    with open_store(db_path, read_only=True) as con:
        return con.execute(
            f"""
            SELECT v.publication_id, p.file_name AS publication, p.published_on, o.sequence,
                   v.year, v.quarter, v.nationality, v.sex, v.age_group,
                   sum(v.detections)::BIGINT AS detections
            FROM quarterly_values v
            JOIN quarterly_publications p USING (publication_id)
            JOIN quarterly_order o USING (publication_id)
            WHERE o.in_series AND ($as_of IS NULL OR o.known_from <= $as_of) AND {SMALL_BOATS}
            GROUP BY ALL
            ORDER BY o.sequence, v.year, v.quarter
            """,
            {"as_of": as_of},
        ).df()
