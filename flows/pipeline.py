"""Prefect flows: ingest, forecast, report, nightly (all three in turn) and backfill.

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

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Annotated, Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.futures import PrefectFuture, as_completed
from prefect.states import Completed
from prefect.task_runners import ProcessPoolTaskRunner, TaskRunner, ThreadPoolTaskRunner
from pydantic import Field

from flows.announce import announce, on_nightly_failure
from flows.artifacts import backfill_artifact, nightly_artifact
from forecasting import fits
from forecasting import operations as ops
from forecasting.calendar import EVERY_PATTERN, ISO_DATE_PATTERN
from forecasting.errors import BadInput, ExitStatus, StoreError, one_line
from forecasting.frames import ForecastFrames
from forecasting.settings import Settings
from forecasting.store import IngestOutcome, forecast_covers, held_forecasts, last_official_day

__all__ = [
    "ingest",
    "forecast",
    "report",
    "nightly",
    "backfill",
    "make_task_runner",
    "progress_to",
    "TASK_RUNNERS",
]

TASK_RUNNERS = ("threads", "processes", "dask")
# Deployment parameters that are dates must look like dates when the run is created (the
# server checks the schema), not only when a worker picks the run up.
IsoDate = Annotated[date, Field(json_schema_extra={"pattern": ISO_DATE_PATTERN})]

ProgressFn = Callable[[int, int, str], None]
_progress: ProgressFn | None = None


@contextmanager
def progress_to(callback: ProgressFn | None) -> Iterator[None]:
    """Send backfill progress (done, total, what) to `callback` while a flow runs in-process."""
    global _progress
    previous, _progress = _progress, callback
    try:
        yield
    finally:
        _progress = previous


def _tick(done: int, total: int, what: str) -> None:
    if _progress is not None:
        _progress(done, total, what)


def _paths(db: str | None, raw_dir: str | None = None) -> tuple[Settings, Path, Path]:
    settings = Settings.from_env()
    return settings, Path(db) if db else settings.db, Path(raw_dir) if raw_dir else settings.raw_dir


# ---------------------------------------------------------------------------------------------
# Tasks (no Prefect retries: the library retries what may be transient, and only that)


@task(name="fetch-govuk", cache_policy=NO_CACHE)
def fetch_govuk(db: Path, raw_dir: Path, settings: Settings) -> ops.GovukOutcome:
    """Discover, download, check and store what GOV.UK publishes now (storing is idempotent)."""
    return ops.ingest_govuk(db, raw_dir=raw_dir, settings=settings)


@task(name="store-publications", cache_policy=NO_CACHE)
def store_publications(
    db: Path, sources: list[str], raw_dir: Path, settings: Settings
) -> list[Any]:
    """Read and check files (or one URL), then store each in a single transaction."""
    return ops.ingest_many(db, sources, raw_dir=raw_dir, settings=settings)


@task(name="seed-bundled-snapshot", cache_policy=NO_CACHE)
def seed_bundled(db: Path) -> IngestOutcome:
    """Store the release shipped with the package (the store is empty and GOV.UK unusable)."""
    from forecasting.bundled import seed

    return seed(db)


@task(name="fit", cache_policy=NO_CACHE, task_run_name="fit-{as_of}")
def fit_forecast(
    daily: Any, as_of: date, horizon_weeks: int, models: list[str] | None
) -> ForecastFrames:
    """Fit one as-of date's models; pure, so it runs on any worker that can import the project."""
    return fits.fit(daily, as_of, horizon_weeks=horizon_weeks, models=models)


@task(name="fit-dates", cache_policy=NO_CACHE, task_run_name="fit-{first}-to-{last}")
def fit_forecasts(
    work: list[tuple[date, Any]],
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


# ---------------------------------------------------------------------------------------------
# Flows


@flow(name="ingest")
def ingest(source: str | None = None, db: str | None = None, raw_dir: str | None = None) -> dict:
    """Store publications from a file, folder or URL, or whatever GOV.UK publishes now.

    Raises SourceUnavailable when GOV.UK gave nothing usable, BadInput for a file that fails its
    checks; the store is untouched in both cases. When GOV.UK gave part (the release but not the
    page, or the other way round), that part is stored and the rest listed in `failures`.
    """
    logger = get_run_logger()
    settings, store, raw = _paths(db, raw_dir)
    source = source or settings.source
    failures: list[str] = []
    if source is None:
        logger.info("asking GOV.UK (%s) for new publications", settings.govuk_url)
        got = fetch_govuk(store, raw, settings)
        outcomes, failures = got.outcomes, got.failures
    else:
        outcomes = store_publications(store, [source], raw, settings)
    lines = [o.describe() for o in outcomes] or ["nothing new: the store already holds it"]
    for line in lines:
        logger.info(line)
    for failure in failures:
        logger.warning("failed: %s", failure)
    stored = [o for o in outcomes if o.stored]
    return {
        "outcomes": lines,
        "new": bool(stored),
        "new_latest": any(o.is_latest for o in stored),
        "new_files": [o.file_name for o in stored],
        "failures": failures,
    }


@flow(name="forecast")
def forecast(
    as_of: IsoDate | None = None,
    db: str | None = None,
    horizon_weeks: int = 13,
    models: list[str] | None = None,
    force: bool = False,
) -> dict:
    """Forecast as of a date (default: the last day with data) and store every model's figures;
    not refitted when already held from the same publications (`forecast_and_store`)."""
    logger = get_run_logger()
    _, store, _ = _paths(db)
    outcome = ops.forecast_and_store(
        store,
        as_of,
        horizon_weeks=horizon_weeks,
        models=models,
        force=force,
        fit_with=fit_forecast,
    )
    logger.info(outcome.describe())
    return {
        "as_of": outcome.as_of.isoformat(),
        "data_through": str(outcome.data_through),
        "refitted": outcome.refitted,
        "model": outcome.production_model,
        "year_end": outcome.payload["year_end"],
    }


@flow(name="report")
def report(
    as_of: IsoDate | None = None, db: str | None = None, reports_dir: str | None = None
) -> str:
    """Write the HTML report for as_of (default: the latest) and the site's index page."""
    logger = get_run_logger()
    settings, store, _ = _paths(db)
    reports = Path(reports_dir) if reports_dir else settings.reports_dir
    path = write_report_task(store, reports, as_of, settings.stale_after_days)
    logger.info("report written: %s", path)
    return str(path)


_NOTHING_INGESTED = {"outcomes": [], "new": False, "new_latest": False, "new_files": []}


def _ingest_or_note(source: str | None, store: Path, raw: Path, failures: list[str]) -> dict:
    """The nightly ingest: a GOV.UK failure is noted and the run goes on; a bad file given on
    purpose, a busy store or a bug end the run."""
    try:
        ingested = ingest(source=source, db=str(store), raw_dir=str(raw))
    except Exception as exc:
        status = ops.exit_status_of(exc)
        if source is not None or status not in (ExitStatus.SOURCE_UNUSABLE, ExitStatus.BAD_INPUT):
            raise
        failures.append(one_line(exc))
        get_run_logger().warning("GOV.UK: %s; carrying on with the figures held", one_line(exc))
        return _NOTHING_INGESTED
    failures.extend(ingested["failures"])
    return ingested


@task(name="fill-track-record", cache_policy=NO_CACHE)
def fill_track_record_task(store: Path, through: date) -> str:
    """The past weekly forecasts the report's track record needs, fitted from the vintages
    where the store lacks them (a new store: the last 52 weeks; later: only the new week)."""
    from forecasting.track_record import fill_track_record

    return fill_track_record(store, through).describe()


@flow(name="nightly", on_failure=[on_nightly_failure])
def nightly(
    source: str | None = None,
    db: str | None = None,
    reports_dir: str | None = None,
    raw_dir: str | None = None,
    horizon_weeks: int = 13,
) -> Any:
    """Ingest, then forecast, then report. A source that fails only makes the run stale.

    Unset arguments come from CROSSINGS_SOURCE, CROSSINGS_DB, CROSSINGS_REPORTS_DIR and
    CROSSINGS_RAW_DIR (a deployment's worker passes its environment on), then the defaults.
    """
    logger = get_run_logger()
    settings, store, raw = _paths(db, raw_dir)
    reports = Path(reports_dir) if reports_dir else settings.reports_dir
    source = source or settings.source
    ops.check_horizon(horizon_weeks)
    before = last_official_day(store)
    failures: list[str] = []
    ingested = _ingest_or_note(source, store, raw, failures)
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
    status, reasons = ops.run_status(through, failures, stale_after_days=settings.stale_after_days)
    summary = {
        "status": int(status),
        "reasons": reasons,
        "failures": failures,
        "seeded": seeded.file_name if seeded else None,
        "data_through": through.isoformat(),
        # the bundled snapshot is a publication the store did not hold: new, as the first line said
        "new_publication": bool(ingested["new"] or seeded),
        "new_files": ingested["new_files"],
        "forecast": forecasted,
        "report": page,
        "index": str(reports / "index.html"),
    }
    nightly_artifact(store, summary)
    announce(store, reports, summary)
    if status is ExitStatus.STALE:
        for reason in reasons:
            logger.warning("stale: %s", reason)
        return Completed(name="Stale", message=one_line("; ".join(reasons)), data=summary)
    return summary


def make_task_runner(
    kind: str = "threads", dask_address: str | None = None, max_workers: int | None = None
) -> TaskRunner:
    """threads (default), processes, or dask (a local cluster, or the scheduler at dask_address)."""
    workers = max_workers or os.cpu_count() or 2
    if kind == "threads":
        return ThreadPoolTaskRunner(max_workers=workers)
    if kind == "processes":
        return ProcessPoolTaskRunner(max_workers=workers)
    if kind == "dask":
        try:
            from prefect_dask import DaskTaskRunner
        except ImportError:
            raise BadInput(
                "--task-runner", "dask needs prefect-dask: pip install 'channel-crossings[dask]'"
            ) from None

        if dask_address:
            return DaskTaskRunner(address=dask_address)
        return DaskTaskRunner(
            cluster_kwargs={"n_workers": workers, "processes": True, "threads_per_worker": 1}
        )
    raise ValueError(f"task runner {kind!r}: use one of {', '.join(TASK_RUNNERS)}")


def _chunks(dates: list[date], workers: int) -> list[list[date]]:
    """Split the dates into chunks of at most 4, at least two chunks per worker where possible:
    few task runs (each costs API round trips), yet every worker busy and progress to show."""
    size = max(1, min(4, len(dates) // (2 * workers) or 1))
    return [dates[i : i + size] for i in range(0, len(dates), size)]


@flow(name="backfill")
def backfill(
    start: IsoDate,
    end: IsoDate,
    every: Annotated[str, Field(pattern=EVERY_PATTERN)] = "1W",
    models: list[str] | None = None,
    db: str | None = None,
    horizon_weeks: int = 13,
    with_report: bool = False,
    reports_dir: str | None = None,
    task_runner: str = "threads",
    dask_address: str | None = None,
    force: bool = False,
) -> dict:
    """A forecast as of each date from start to end (both included) every `every`.

    Fits run in parallel on the chosen task runner, a few dates per task; this flow is the only
    writer and stores each chunk's forecasts in one short transaction as it returns, so an
    interrupted backfill keeps what it did and a rerun refits only what is missing or was made
    from other publications.
    """
    logger = get_run_logger()
    settings, store, _ = _paths(db)
    dates, names = ops.check_backfill(store, start, end, every, models, horizon_weeks)
    started = time.perf_counter()
    reads, skipped = _to_fit(store, dates, end, names, horizon_weeks, force)
    todo = list(reads)
    logger.info(
        f"backfill {start}..{end} every {every} on {task_runner}: {len(dates)} dates, "
        f"{len(skipped)} already held from the same publications"
    )
    _tick(len(skipped), len(dates), "already held")
    runner = (task_runner, dask_address)
    failures = _fit_and_store(store, reads, names, horizon_weeks, runner, done=len(skipped))
    failed_dates = sum(n for _, n in failures)
    summary = {
        "dates": [d.isoformat() for d in dates],
        "fitted": len(todo) - failed_dates,
        "skipped": len(skipped),
        "failed": [text for text, _ in failures],
        "task_runner": task_runner,
        "seconds": round(time.perf_counter() - started, 1),
    }
    if with_report and not failures:
        reports = reports_dir or str(settings.reports_dir)
        summary["report"] = report(as_of=end, db=str(store), reports_dir=reports)
    backfill_artifact(summary, start, end, every, names)
    if failures:
        raise RuntimeError(
            f"{failed_dates} of {len(todo)} fits failed (the rest are stored): {failures[0][0]}"
        )
    logger.info("backfill stored %d as-of forecasts in %.1f s", len(todo), summary["seconds"])
    return summary


def _to_fit(
    store: Path, dates: list[date], end: date, names: list[str], horizon_weeks: int, force: bool
) -> tuple[dict[date, Any], list[date]]:
    """The figures as known on each date still to fit, and the dates already held from the same
    publications (one store read per span of publications, one query for what is held)."""
    reader = ops.AsOfReader(store, end)
    held = {} if force else held_forecasts(store, dates, horizon_weeks)
    reads: dict[date, Any] = {}
    skipped: list[date] = []
    for d in dates:
        read = reader.read(d)
        if read.daily.empty:
            raise StoreError(f"{store}: no figures on or before {d}; ingest releases first")
        if forecast_covers(held.get(d, {}), read.publications, names):
            skipped.append(d)
        else:
            reads[d] = read
    return reads, skipped


def _fit_and_store(
    store: Path,
    reads: dict[date, Any],
    names: list[str],
    horizon_weeks: int,
    runner: tuple[str, str | None],
    *,
    done: int,
) -> list[tuple[str, int]]:
    """Fit the dates on the task runner and store each chunk as it lands; the failed chunks."""
    failures: list[tuple[str, int]] = []
    todo, total = list(reads), done + len(reads)
    if not todo:
        return failures
    logger = get_run_logger()
    workers = os.cpu_count() or 2
    with make_task_runner(*runner, workers) as task_runner:
        futures: dict[PrefectFuture[list[ForecastFrames]], list[date]] = {
            task_runner.submit(
                fit_forecasts,
                {
                    "work": [(d, reads[d].daily) for d in chunk],
                    "first": chunk[0],
                    "last": chunk[-1],
                    "horizon_weeks": horizon_weeks,
                    "models": names,
                },
            ): chunk
            for chunk in _chunks(todo, workers)
        }
        # Fits come back in any order; the flow alone writes them, one short transaction per
        # chunk of dates.
        for future in as_completed(list(futures)):
            chunk = futures[future]
            try:
                results: list[ForecastFrames] = future.result()
            except Exception as exc:
                failures.append((f"{chunk[0]}..{chunk[-1]}: {one_line(exc)}", len(chunk)))
                logger.error("fits as of %s..%s failed: %s", chunk[0], chunk[-1], exc)
            else:
                fits.save_fits(
                    store,
                    [
                        (r, fits.slim_read(reads.pop(d)))
                        for d, r in zip(chunk, results, strict=True)
                    ],
                )
            done += len(chunk)
            _tick(done, total, f"as of {chunk[0]}..{chunk[-1]}")
    return failures
