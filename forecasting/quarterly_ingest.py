"""The quarterly detailed dataset into the store: from a file, a URL, or GOV.UK's listing.

Beside the weekly and daily publications (`ingest.py`): a workbook is read and checked in full
before the store is touched. From GOV.UK the check is its own source: when it fails, the weekly
figures are still stored and the failure is reported (a nightly run then ends stale, exit 10).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from forecasting.batch import is_url
from forecasting.settings import Settings
from forecasting.sources.quarterly import is_quarterly_workbook

if TYPE_CHECKING:
    from forecasting.store import QuarterlyOutcome

__all__ = [
    "is_quarterly_source",
    "ingest_quarterly_url",
    "ingest_quarterly_from_govuk",
]


def is_quarterly_source(source: str | Path) -> bool:
    """A quarterly workbook: an xlsx, or an ODS with an Irr_D01 sheet; a URL by its name."""
    text = str(source)
    if is_url(text):
        last = text.split("?")[0].rstrip("/").rsplit("/", 1)[-1].lower()
        return last.endswith(".xlsx") or ("detailed" in last and last.endswith(".ods"))
    from forecasting.sources.release import released_on_from_name

    path = Path(source)
    if path.suffix.lower() == ".ods" and released_on_from_name(path.name):
        return False  # named as a weekly release: read as one
    return is_quarterly_workbook(path)


def ingest_quarterly_url(
    db_path: str | Path, url: str, raw_dir: Path, settings: Settings, today: date | None = None
) -> QuarterlyOutcome:
    """Download one quarterly workbook from GOV.UK (its hosts only) and store it."""
    from forecasting import store
    from forecasting.batch import check_url
    from forecasting.sources.http import Http
    from forecasting.sources.quarterly_fetch import QuarterlyFound, download_quarterly

    check_url(url, settings.govuk_url)  # the same rule as a weekly release's URL
    name = url.split("?")[0].rstrip("/").rsplit("/", 1)[-1]
    with Http(
        settings.govuk_url,
        user_agent=settings.user_agent,
        deadline_seconds=settings.download_deadline_seconds,
    ) as http:
        found = QuarterlyFound(url, name, "", None)
        release = download_quarterly(http, found, raw_dir, today=today)
    provenance = {**release.provenance, "discovered_via": "given_url"}
    return store.ingest_quarterly(db_path, [(replace(release, provenance=provenance), url)])[0]


def ingest_quarterly_from_govuk(
    db_path: str | Path, raw_dir: Path, settings: Settings, today: date | None = None
) -> tuple[list[QuarterlyOutcome], list[str]]:
    """The nightly check: the newest quarterly release when new (outcomes), or the failure."""
    from forecasting import store
    from forecasting.errors import one_line
    from forecasting.sources.http import GovukUnavailable, Http
    from forecasting.sources.quarterly_fetch import fetch_quarterly

    held = store.quarterly_publications(db_path)
    urls = {str(u) for u in held["url"].dropna()} if "url" in held else set()
    try:
        with Http(
            settings.govuk_url,
            user_agent=settings.user_agent,
            deadline_seconds=settings.download_deadline_seconds,
        ) as http:
            got = fetch_quarterly(http, raw_dir, urls, today=today)
    except GovukUnavailable as exc:
        return [], [one_line(exc)]
    if got.release is None:
        return [], []
    source = str(got.release.provenance.get("url", got.release.file_name))
    return store.ingest_quarterly(db_path, [(got.release, source)]), []
