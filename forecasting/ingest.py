"""Take publications into the store: from a file, a URL, or GOV.UK's own listing.

Each publication is read and checked in full before the store is touched, then stored in one
transaction, so bad input or a failed download changes nothing. From GOV.UK each publication
stands on its own: a good release is stored even when the daily page fails, and the page when
the release fails; what failed is reported, and only when nothing usable came is that an error.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from forecasting import store
from forecasting.batch import is_url
from forecasting.errors import BadInput
from forecasting.settings import Settings
from forecasting.sources.archive import read_capped
from forecasting.sources.quarterly import read_quarterly
from forecasting.sources.release import Release, read_release

if TYPE_CHECKING:
    from forecasting.sources.http import Retry

__all__ = ["DEFAULT_RAW_DIR", "GovukIngest", "read_source", "ingest_source", "ingest_from_govuk"]

DEFAULT_RAW_DIR = Path("data") / "raw"


def _settings(settings: Settings | None) -> Settings:
    """The given settings, or the environment's, read now (never at import)."""
    if settings is not None:
        return settings
    try:
        return Settings.from_env()
    except ValueError as exc:
        raise BadInput("environment", str(exc)) from None


def _checked_path(source: str | Path) -> Path:
    """The path, refused when its name is not valid UTF-8 (the store could not record it)."""
    path = Path(source)
    try:
        str(path.absolute()).encode("utf-8")
    except UnicodeEncodeError:
        raise BadInput(
            path, "the file name (or its folder's) is not valid UTF-8; rename it and try again"
        ) from None
    return path


def read_source(source: str | Path, *, today: date | None = None) -> Release:
    """Parse a weekly ODS release or a saved "last 7 days" page, by its file type."""
    path = _checked_path(source)
    if path.suffix.lower() in {".html", ".htm"}:
        from forecasting.sources.page import MAX_PAGE_BYTES, parse_last_7_days

        content = read_capped(path, MAX_PAGE_BYTES, "the page")
        return parse_last_7_days(content, path.name, today=today)
    return read_release(path, today=today)


def ingest_source(
    db_path: str | Path,
    source: str | Path,
    *,
    raw_dir: str | Path = DEFAULT_RAW_DIR,
    today: date | None = None,
    settings: Settings | None = None,
) -> store.IngestOutcome:
    """Store one publication from a path, or from a URL on GOV.UK (downloaded into `raw_dir`)."""
    text = str(source)
    from forecasting.quarterly_ingest import is_quarterly_source

    if is_url(text):
        if is_quarterly_source(text):  # the quarterly detailed dataset (quarterly_ingest.py)
            from forecasting.quarterly_ingest import ingest_quarterly_url

            return ingest_quarterly_url(db_path, text, Path(raw_dir), _settings(settings), today)
        return _ingest_url(db_path, text, Path(raw_dir), today, _settings(settings))
    if is_quarterly_source(_checked_path(source)):
        quarterly = read_quarterly(source, today=today)
        return store.ingest_quarterly(db_path, [(quarterly, str(Path(source).resolve()))])[0]
    release = read_source(source, today=today)
    return store.ingest(db_path, release, source=str(Path(source).resolve()))


def _ingest_url(
    db_path: str | Path, url: str, raw_dir: Path, today: date | None, settings: Settings
) -> store.IngestOutcome:
    from forecasting.batch import check_url
    from forecasting.sources.fetch import download
    from forecasting.sources.http import Http

    check_url(url, settings.govuk_url)
    held = set(store.held_publications(db_path)["sha256"])
    with Http(
        settings.govuk_url,
        user_agent=settings.user_agent,
        deadline_seconds=settings.download_deadline_seconds,
    ) as http:
        got = download(http, url, raw_dir, held_sha256=held, today=today)
    if got.release is None:  # the same bytes are already held
        return store.IngestOutcome(
            Path(url).name, got.sha256 or "", False, "weekly_release", date.min, False, 0
        )
    provenance = {
        "url": got.url,
        "discovered_via": "given_url",
        "http_status": got.http_status,
        "etag": got.etag,
        "last_modified": got.last_modified,
        "fetched_at": got.fetched_at,
        "sha256": got.release.sha256,
    }
    if got.url != url:
        provenance["requested_url"] = url
    release = replace(got.release, provenance={**got.release.provenance, **provenance})
    return store.ingest(db_path, release, source=url)


@dataclass(frozen=True)
class GovukIngest:
    """What a GOV.UK ingest stored, and what failed (one line each; empty when all went well)."""

    outcomes: list[store.IngestOutcome]
    summary: str  # one line per publication: new, not modified, already held, FAILED
    failures: list[str]
    quarterly: list[store.QuarterlyOutcome] = field(default_factory=list)  # who crosses


def ingest_from_govuk(
    db_path: str | Path,
    *,
    raw_dir: str | Path = DEFAULT_RAW_DIR,
    settings: Settings | None = None,
    today: date | None = None,
    retry: Retry | None = None,
    sleep: Callable[[float], Any] = time.sleep,
) -> GovukIngest:
    """Discover and download what GOV.UK publishes now, and store what the store lacks.

    Asks conditionally with the ETag / Last-Modified of earlier fetches. Stores every good new
    publication even when another failed (`failures` says which); raises `GovukUnavailable` (a
    `SourceUnavailable`) only when GOV.UK gave nothing usable, and then stores nothing.
    """
    from forecasting.sources.fetch import fetch_latest

    settings = _settings(settings)
    held_rows = store.held_publications(db_path)
    held = {
        row["sha256"]: {
            key: _value(row.get(key))
            for key in ("sha256", "url", "etag", "last_modified", "fetched_at")
        }
        for row in held_rows.to_dict("records")
    }
    result = fetch_latest(
        Path(raw_dir),
        held,
        settings.govuk_url,
        user_agent=settings.user_agent,
        deadline_seconds=settings.download_deadline_seconds,
        today=today,
        retry=retry,
        sleep=sleep,
    )
    outcomes = store.ingest_all(
        db_path, [(r, r.provenance.get("url", r.file_name)) for r in result.releases]
    )
    # The quarterly detailed dataset: its own source; a failure makes the run stale, no more.
    from forecasting.quarterly_ingest import ingest_quarterly_from_govuk

    quarterly, failed = ingest_quarterly_from_govuk(db_path, Path(raw_dir), settings, today)
    return GovukIngest(outcomes, result.summary, [*result.failures, *failed], quarterly)


def _value(value: object) -> str | None:
    """A stored value as text, NULL (None, NaN, NaT) as None."""
    import pandas as pd

    return None if value is None or pd.isna(value) else str(value)
