"""The flows' Prefect tasks: each wraps one library call so the step shows in Prefect's UI.

No Prefect retries: the library retries what may be transient, and only that.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from prefect import task
from prefect.cache_policies import NO_CACHE

from forecasting import fits
from forecasting.frames import ForecastFrames
from forecasting.operations.ingest import GovukOutcome, ingest_govuk, ingest_many
from forecasting.settings import Settings
from forecasting.store import IngestOutcome

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "fetch_govuk",
    "store_publications",
    "seed_bundled",
    "fit_forecast",
    "fit_forecasts",
    "write_report_task",
    "fill_track_record_task",
]


@task(name="fetch-govuk", cache_policy=NO_CACHE)
def fetch_govuk(db: Path, raw_dir: Path, settings: Settings) -> GovukOutcome:
    """Discover, download, check and store what GOV.UK publishes now (storing is idempotent)."""
    return ingest_govuk(db, raw_dir=raw_dir, settings=settings)


@task(name="store-publications", cache_policy=NO_CACHE)
def store_publications(
    db: Path, sources: list[str], raw_dir: Path, settings: Settings
) -> list[IngestOutcome]:
    """Read and check files (or one URL), then store each in a single transaction."""
    return ingest_many(db, sources, raw_dir=raw_dir, settings=settings)


@task(name="seed-bundled-snapshot", cache_policy=NO_CACHE)
def seed_bundled(db: Path) -> IngestOutcome:
    """Store the release shipped with the package (the store is empty and GOV.UK unusable)."""
    from forecasting.bundled import seed

    return seed(db)


@task(name="fit", cache_policy=NO_CACHE, task_run_name="fit-{as_of}")
def fit_forecast(
    daily: pd.DataFrame, as_of: date, horizon_weeks: int, models: list[str] | None
) -> ForecastFrames:
    """Fit one as-of date's models; pure, so it runs on any worker that can import the project."""
    return fits.fit(daily, as_of, horizon_weeks=horizon_weeks, models=models)


@task(name="fit-dates", cache_policy=NO_CACHE, task_run_name="fit-{first}-to-{last}")
def fit_forecasts(
    work: list[tuple[date, pd.DataFrame]],
    first: date,
    last: date,
    horizon_weeks: int,
    models: list[str] | None,
) -> list[ForecastFrames]:
    """Fit several as-of dates in one task: each task run costs the API a few round trips, which
    would otherwise rival the fit itself (about 0.16 s a date)."""
    return [fits.fit(daily, d, horizon_weeks=horizon_weeks, models=models) for d, daily in work]


@task(name="write-report", cache_policy=NO_CACHE)
def write_report_task(
    db: Path, reports_dir: Path, as_of: date | None, stale_after_days: int
) -> Path:
    """Render the HTML report; report.py replaces the files atomically, so a failure keeps the
    last good report in place."""
    from forecasting.report import write_report

    return Path(write_report(db, reports_dir, as_of=as_of, stale_after_days=stale_after_days))


@task(name="fill-track-record", cache_policy=NO_CACHE)
def fill_track_record_task(store: Path, through: date) -> str:
    """The past weekly forecasts the report's track record needs, fitted from the vintages
    where the store lacks them (a new store: the last 52 weeks; later: only the new week)."""
    from forecasting.track_record import fill_track_record

    return fill_track_record(store, through).describe()
