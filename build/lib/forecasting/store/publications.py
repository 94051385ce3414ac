"""Storing a parsed publication (every value it published: a vintage) and listing those held."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from forecasting.store.connection import open_store, retry_on_lock

if TYPE_CHECKING:
    from forecasting.release import Release

__all__ = ["IngestOutcome", "ingest", "held_publications"]


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
                    release.file_name,
                    release.sha256,
                    False,
                    release.kind,
                    release.data_through,
                    False,
                    0,
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
                        release.sha256,
                        release.kind,
                        release.file_name,
                        source,
                        release.released_on,
                        release.published_at,
                        release.data_from,
                        release.data_through,
                        len(release.daily),
                        0 if release.weekly is None else len(release.weekly),
                        provenance.get("url"),
                        provenance.get("discovered_via", "file"),
                        provenance.get("http_status"),
                        provenance.get("etag"),
                        provenance.get("last_modified"),
                        provenance.get("fetched_at"),
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
                release.file_name,
                release.sha256,
                True,
                release.kind,
                release.data_through,
                bool(is_latest),
                int(revised_days),
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
