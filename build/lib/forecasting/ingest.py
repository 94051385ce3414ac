"""Take publications into the store: from a file, a URL, or GOV.UK's own listing.

Each publication is read and checked in full before the store is touched, then stored in one
transaction, so bad input or a failed download changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

from forecasting import store
from forecasting.release import Release, read_capped, read_release

__all__ = ["DEFAULT_RAW_DIR", "GovukIngest", "read_source", "ingest_source", "ingest_from_govuk"]

DEFAULT_RAW_DIR = Path("data") / "raw"


def read_source(source: str | Path, *, today: date | None = None) -> Release:
    """Parse a weekly ODS release or a saved "last 7 days" page, by its file type."""
    path = Path(source)
    if path.suffix.lower() in {".html", ".htm"}:
        from forecasting.govuk import MAX_PAGE_BYTES, parse_last_7_days

        content = read_capped(path, MAX_PAGE_BYTES, "the page")
        return parse_last_7_days(content, path.name, today=today)
    return read_release(path, today=today)


def ingest_source(
    db_path: str | Path,
    source: str | Path,
    *,
    raw_dir: str | Path = DEFAULT_RAW_DIR,
    today: date | None = None,
) -> store.IngestOutcome:
    """Store one publication from a path, or from a URL (downloaded into `raw_dir` first)."""
    text = str(source)
    if text.startswith(("http://", "https://")):
        from forecasting.govuk import download

        held = set(store.held_publications(db_path)["sha256"])
        got = download(text, Path(raw_dir), held_sha256=held, today=today)
        if got.release is None:  # the same bytes are already held
            return store.IngestOutcome(
                Path(text).name, got.sha256 or "", False, "weekly_release",
                date.min, False, 0,
            )
        provenance = {
            "url": text, "discovered_via": "given_url", "http_status": got.http_status,
            "etag": got.etag, "last_modified": got.last_modified,
            "fetched_at": got.fetched_at, "sha256": got.release.sha256,
        }
        release = replace(got.release, provenance=provenance)
        return store.ingest(db_path, release, source=text)
    release = read_source(source, today=today)
    return store.ingest(db_path, release, source=str(Path(source).resolve()))


@dataclass(frozen=True)
class GovukIngest:
    """What a GOV.UK ingest fetched and stored."""

    outcomes: list[store.IngestOutcome]
    summary: str  # one line per publication: new, not modified, already held


def ingest_from_govuk(
    db_path: str | Path,
    *,
    raw_dir: str | Path = DEFAULT_RAW_DIR,
    base_url: str | None = None,
    today: date | None = None,
) -> GovukIngest:
    """Discover and download what GOV.UK publishes now, and store what the store lacks.

    Asks conditionally with the ETag / Last-Modified of earlier fetches. If GOV.UK cannot be
    reached or sends something unusable, raises `SourceUnavailable` and stores nothing.
    """
    from forecasting.govuk import fetch_latest

    held_rows = store.held_publications(db_path)
    held = {
        row["sha256"]: {
            key: _value(row.get(key))
            for key in ("sha256", "url", "etag", "last_modified", "fetched_at")
        }
        for row in held_rows.to_dict("records")
    }
    result = fetch_latest(Path(raw_dir), held, base_url, today=today)
    outcomes = [
        store.ingest(db_path, release, source=release.provenance.get("url", release.file_name))
        for release in result.releases
    ]
    return GovukIngest(outcomes, result.summary)


def _value(value: object) -> str | None:
    """A stored value as text, NULL (None, NaN, NaT) as None."""
    import pandas as pd

    return None if value is None or pd.isna(value) else str(value)
