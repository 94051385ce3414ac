"""Storing a parsed publication (every value it published: a vintage) and listing those held.

Each publication is one row of `publications`, told apart by its content (sha256), never by its
file name alone: two different files with the same name are two publications. A reissue (`_v2`)
supersedes its original in the official series whatever the order of ingest (see views.py), and
a release that rewrites a past year is held back for review (review.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pandas as pd

from forecasting.calendar import long_date
from forecasting.store.connection import open_store
from forecasting.store.review import history_change
from forecasting.store.transaction import transaction

if TYPE_CHECKING:
    from forecasting.sources.release import Release

__all__ = ["IngestOutcome", "ingest", "ingest_all", "held_publications"]


@dataclass(frozen=True)
class IngestOutcome:
    """What one ingest did, in words a log can carry."""

    file_name: str
    sha256: str
    stored: bool  # False: the same bytes were already held
    kind: str
    data_through: date
    is_latest: bool  # True when this publication now gives the latest figures
    revised_days: int  # days whose figures differ from the official publication before it
    held_reason: str | None = None  # set when it rewrites history: held back for review
    repairs: tuple[str, ...] = ()  # how a page was read: rows left out, years repaired...

    @property
    def held(self) -> bool:
        return self.held_reason is not None

    def describe(self) -> str:
        if not self.stored:
            return f"{self.file_name}: already held (sha256 {self.sha256[:12]}), nothing changed"
        revised = f", {self.revised_days} day(s) revised" if self.revised_days else ""
        through = f"data through {long_date(self.data_through)}"
        if self.held:
            return (
                f"{self.file_name}: HELD BACK FOR REVIEW, not in the official series: it "
                f"{self.held_reason}; stored as a vintage ({through}{revised}); to make it "
                f"official: crossings accept {self.sha256[:12]}"
            )
        role = "now the latest" if self.is_latest else "kept as history (a newer one is held)"
        read = f"; as read: {' '.join(self.repairs)}" if self.repairs else ""
        return f"{self.file_name}: stored, {through}, {role}{revised}{read}"


def ingest(db_path: str | Path, release: Release, *, source: str) -> IngestOutcome:
    """Store one checked publication in a single transaction; the same bytes twice is a no-op.

    `release` is a parsed publication (`Release`): kind, file_name, sha256, daily, weekly,
    released_on, published_at, provenance, and `version` (the reissue number, 1 if absent).
    """
    return ingest_all(db_path, [(release, source)])[0]


def ingest_all(db_path: str | Path, releases: Sequence[tuple[Any, str]]) -> list[IngestOutcome]:
    """Store checked publications in the order given, each in its own transaction, over one
    connection (a folder of a hundred is not a hundred opens); (release, source) pairs."""
    with open_store(db_path) as con:  # opening waits while another process holds the file
        return [_store_one(con, release, source) for release, source in releases]


def _store_one(con: duckdb.DuckDBPyConnection, release: Release, source: str) -> IngestOutcome:
    held = con.execute("SELECT 1 FROM publications WHERE sha256 = ?", [release.sha256]).fetchone()
    if held:
        return IngestOutcome(
            release.file_name, release.sha256, False, release.kind, release.data_through, False, 0
        )
    with transaction(con):
        publication_id = _insert(con, release, source)
        reason = history_change(con, publication_id)
        if reason is not None:
            con.execute(
                "UPDATE publications SET status = 'held', held_reason = ? WHERE publication_id = ?",
                [reason, publication_id],
            )
        row = con.execute(
            """
            SELECT (SELECT recency = 1 FROM publication_order WHERE publication_id = $id),
                   (SELECT count(DISTINCT period) FROM revision_ledger
                    WHERE publication_id = $id
                      AND series IN ('daily_migrants_arrived', 'daily_boats_arrived')
                      -- its own days only: the ledger is then worked out for a week, not
                      -- for every day since 2018, when the publication is a 7-day page
                      AND period BETWEEN $data_from AND $data_through)
            """,
            {
                "id": publication_id,
                "data_from": release.data_from,
                "data_through": release.data_through,
            },
        ).fetchone()
        assert row is not None  # a SELECT without FROM returns exactly one row
        is_latest, revised_days = row
    return IngestOutcome(
        release.file_name, release.sha256, True, release.kind, release.data_through,
        bool(is_latest) and reason is None, int(revised_days), reason,
        tuple(str(r) for r in (release.provenance or {}).get("repairs") or []),
    )  # fmt: skip


def _insert(con: duckdb.DuckDBPyConnection, release: Release, source: str) -> int:
    """The publication row and all its values; returns its publication_id."""
    provenance = release.provenance or {}
    repairs = [str(r) for r in provenance.get("repairs") or []]
    inserted = con.execute(
        """
        INSERT INTO publications (sha256, kind, file_name, source, released_on, published_at,
            data_from, data_through, daily_rows, weekly_rows, url, discovered_via, http_status,
            etag, last_modified, fetched_at, ingested_at, repairs, version, status)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'official')
        RETURNING publication_id
        """,
        [
            release.sha256, release.kind, release.file_name, source, release.released_on,
            release.published_at, release.data_from, release.data_through, len(release.daily),
            0 if release.weekly is None else len(release.weekly),
            provenance.get("url"), provenance.get("discovered_via", "file"),
            provenance.get("http_status"), provenance.get("etag"),
            provenance.get("last_modified"), provenance.get("fetched_at"), datetime.now(UTC),
            repairs, int(getattr(release, "version", 1) or 1),
        ],
    ).fetchone()  # fmt: skip
    assert inserted is not None  # INSERT ... RETURNING one row returns it
    publication_id = inserted[0]
    # Registered frames are dropped when the connection closes (unregistering inside an
    # aborted transaction would hide the real error).
    con.register("incoming_daily", release.daily.assign(publication_id=publication_id))
    con.execute(
        """
        INSERT INTO daily_values SELECT publication_id, date, migrants_arrived, boats_arrived,
            boats_uncontrolled, revised, note FROM incoming_daily
        """
    )
    if release.weekly is not None:
        con.register("incoming_weekly", release.weekly.assign(publication_id=publication_id))
        con.execute(
            """
            INSERT INTO weekly_values SELECT publication_id, week_ending, migrants_arrived,
                boats_arrived, boats_uncontrolled, migrants_prevented, events_prevented
            FROM incoming_weekly
            """
        )
    return int(publication_id)


def held_publications(db_path: str | Path) -> pd.DataFrame:
    """The publications table, newest first (empty when the store does not exist yet), with
    `in_series` (gives official figures: official and not superseded by a reissue)."""
    if not Path(db_path).exists():
        return pd.DataFrame(columns=["sha256", "file_name", "url", "etag", "last_modified"])
    with open_store(db_path, read_only=True) as con:
        return con.execute(
            """
            SELECT p.*, o.in_series, o.superseded FROM publications p
            JOIN publication_order o USING (publication_id)
            ORDER BY o.recency
            """
        ).df()
