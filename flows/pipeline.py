"""Prefect flows: ingest, forecast, report and nightly (all three in turn); backfill: backfill.py.

Orchestration only: each step calls the same library function as the `crossings` command
(`forecasting.operations`), so a scheduled run and a command cannot drift. What this module adds
is Prefect's: runs, tasks, task runners and final states (the runs' artifacts: artifacts.py).

- Fits are pure; the flow itself is the one writer, in short transactions (docs/scaling.md).
- Nothing here retries: the library's one retry layer handles GOV.UK
  (forecasting/sources/http.py), and a bad file fails at once, since retrying cannot fix it.
- One bad source never sinks the night: the nightly run stores what was good, forecasts, writes
  the report and ends in a Completed state named "Stale" saying what failed (exit status 10 for
  `crossings run`). With nothing held and GOV.UK out of reach, it seeds the store from the
  bundled snapshot first.
- Settings come from `Settings.from_env()` once, when a flow run starts; parameters win.

`flows/__init__.py` runs before this module imports prefect, so Prefect starts offline.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any

from prefect import flow, get_run_logger
from prefect.states import Completed
from pydantic import Field

from flows.announce import announce, on_nightly_failure
from flows.artifacts import nightly_artifact
from flows.tasks import (
    fetch_govuk,
    fill_track_record_task,
    fit_forecast,
    seed_bundled,
    store_publications,
    write_report_task,
)
from forecasting.calendar import ISO_DATE_PATTERN
from forecasting.errors import ExitStatus, StoreError, one_line
from forecasting.horizon import HORIZON_WEEKS
from forecasting.operations.checks import check_horizon
from forecasting.operations.forecast import ForecastOutcome, forecast_and_store
from forecasting.operations.results import IngestResult, NightResult
from forecasting.operations.status import exit_status_of, run_status
from forecasting.settings import Settings
from forecasting.store import last_official_day

__all__ = ["ingest", "forecast", "report", "nightly", "IsoDate", "run_paths"]

# Deployment parameters that are dates must look like dates when the run is created (the
# server checks the schema), not only when a worker picks the run up.
IsoDate = Annotated[date, Field(json_schema_extra={"pattern": ISO_DATE_PATTERN})]


def run_paths(db: str | None, raw_dir: str | None = None) -> tuple[Settings, Path, Path]:
    settings = Settings.from_env()
    return settings, Path(db) if db else settings.db, Path(raw_dir) if raw_dir else settings.raw_dir


# ---------------------------------------------------------------------------------------------
# Flows


@flow(name="ingest")
def ingest(
    source: str | None = None, db: str | None = None, raw_dir: str | None = None
) -> IngestResult:
    """Store publications from a file, folder or URL, or whatever GOV.UK publishes now.

    Raises SourceUnavailable when GOV.UK gave nothing usable, BadInput for a file that fails its
    checks; the store is untouched in both cases. When GOV.UK gave part (the release but not the
    page, or the other way round), that part is stored and the rest listed in `failures`.
    """
    logger = get_run_logger()
    settings, store, raw = run_paths(db, raw_dir)
    source = source or settings.source
    failures: list[str] = []
    if source is None:
        logger.info("asking GOV.UK (%s) for new publications", settings.govuk_url)
        got = fetch_govuk(store, raw, settings)
        outcomes, failures = got.outcomes, got.failures
    else:
        outcomes = store_publications(store, [source], raw, settings)
    result = IngestResult(outcomes, failures)
    for line in result.lines():
        logger.info(line)
    for failure in failures:
        logger.warning("failed: %s", failure)
    return result


@flow(name="forecast")
def forecast(
    as_of: IsoDate | None = None,
    db: str | None = None,
    horizon_weeks: int = HORIZON_WEEKS,
    models: list[str] | None = None,
    force: bool = False,
) -> ForecastOutcome:
    """Forecast as of a date (default: the last day with data) and store every model's figures;
    not refitted when already held from the same publications (`forecast_and_store`)."""
    logger = get_run_logger()
    _, store, _ = run_paths(db)
    outcome = forecast_and_store(
        store,
        as_of,
        horizon_weeks=horizon_weeks,
        models=models,
        force=force,
        fit_with=fit_forecast,
    )
    logger.info(outcome.describe())
    return outcome


@flow(name="report")
def report(
    as_of: IsoDate | None = None, db: str | None = None, reports_dir: str | None = None
) -> Path:
    """Write the HTML report for as_of (default: the latest) and the site's index page."""
    logger = get_run_logger()
    settings, store, _ = run_paths(db)
    reports = Path(reports_dir) if reports_dir else settings.reports_dir
    path = write_report_task(store, reports, as_of, settings.stale_after_days)
    logger.info("report written: %s", path)
    return path


def _ingest_or_note(source: str | None, store: Path, raw: Path) -> IngestResult:
    """The nightly ingest: a GOV.UK failure is noted and the run goes on; a bad file given on
    purpose, a busy store or a bug end the run."""
    try:
        ingested = ingest(source=source, db=str(store), raw_dir=str(raw))
    except Exception as exc:
        status = exit_status_of(exc)
        if source is not None or status not in (ExitStatus.SOURCE_UNUSABLE, ExitStatus.BAD_INPUT):
            raise
        get_run_logger().warning("GOV.UK: %s; carrying on with the figures held", one_line(exc))
        return IngestResult(failures=[one_line(exc)])
    return ingested


@flow(name="nightly", on_failure=[on_nightly_failure])
def nightly(
    source: str | None = None,
    db: str | None = None,
    reports_dir: str | None = None,
    raw_dir: str | None = None,
    horizon_weeks: int = HORIZON_WEEKS,
) -> Any:
    """Ingest, then forecast, then report. A source that fails only makes the run stale.

    Unset arguments come from CROSSINGS_SOURCE, CROSSINGS_DB, CROSSINGS_REPORTS_DIR and
    CROSSINGS_RAW_DIR (a deployment's worker passes its environment on), then the defaults.
    """
    logger = get_run_logger()
    settings, store, raw = run_paths(db, raw_dir)
    reports = Path(reports_dir) if reports_dir else settings.reports_dir
    source = source or settings.source
    check_horizon(horizon_weeks)
    before = last_official_day(store)
    ingested = _ingest_or_note(source, store, raw)
    failures = ingested.failures
    through = last_official_day(store)
    seeded = None
    if through is None:
        if not failures:
            raise StoreError(f"{store}: the store holds no figures after the ingest")
        seeded = seed_bundled(store)
        through = seeded.data_through
        logger.warning(
            "the store was empty: seeded it from the bundled snapshot %s", seeded.file_name
        )
    elif through != before:
        logger.info("data now run to %s (before: %s)", through, before or "nothing held")
    forecasted = forecast(as_of=through, db=str(store), horizon_weeks=horizon_weeks)
    logger.info(fill_track_record_task(store, through))  # its text begins "track record:"
    page = report(as_of=through, db=str(store), reports_dir=str(reports))
    status, reasons = run_status(through, failures, stale_after_days=settings.stale_after_days)
    night = NightResult(
        status,
        reasons,
        through,
        ingested,
        forecasted,
        page,
        reports / "index.html",
        seeded.file_name if seeded else None,
    )
    nightly_artifact(store, night)
    announce(store, reports, night)
    if status is ExitStatus.STALE:
        for reason in reasons:
            logger.warning("stale: %s", reason)
        return Completed(name="Stale", message=one_line("; ".join(reasons)), data=night)
    return night
